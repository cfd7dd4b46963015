#!/usr/bin/env bash
# Regenerates every modelchain pallet's weights.rs from its benchmarks (frame-benchmarking v2), run on the
# wasm runtime built with `runtime-benchmarks`. Builds the node with that feature first (it adds the
# benchmark CLI, which everyday builds skip).
#   scripts/benchmark-weights.sh [pallet_name ...]     default: every modelchain pallet
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh
cargo build --locked -p modelchain-node --features runtime-benchmarks

pallets=("$@")
[ ${#pallets[@]} -gt 0 ] || pallets=(pallet_model_registry pallet_scoring pallet_training_rounds)
for pallet in "${pallets[@]}"; do
  dir="pallets/$(echo "${pallet#pallet_}" | tr _ -)"
  echo "== benchmarking $pallet into $dir/src/weights.rs"
  # Through PATH, so the command recorded in weights.rs names no machine path.
  PATH="$(dirname "$MODELCHAIN_NODE"):$PATH" modelchain-node benchmark pallet \
    --chain dev \
    --pallet "$pallet" \
    --extrinsic '*' \
    --wasm-execution compiled \
    --steps 50 \
    --repeat 20 \
    --heap-pages 4096 \
    --template scripts/frame-weight-template.hbs \
    --output "$dir/src/weights.rs"
done
