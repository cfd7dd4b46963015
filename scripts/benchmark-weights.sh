#!/usr/bin/env bash
# Regenerates modelchain pallets' weights.rs from their benchmarks (frame-benchmarking v2), run on the wasm
# runtime built with `runtime-benchmarks`, and benchmarks `pallet_balances::transfer_keep_alive` in the SAME
# run, so BENCHMARKS.md can put every extrinsic next to a plain transfer. Builds the node with that feature
# first (it adds the benchmark CLI, which everyday builds skip), in the `release` profile: the benchmark's
# host side (storage overlay, trie, wasm executor) must run optimised, as on a production validator, or
# every measured time is inflated (the dev-profile node measured `transfer_keep_alive` at 16x polkadot-sdk's
# own weight for it). A cold release build takes about an hour on the 2-core build machine.
#   scripts/benchmark-weights.sh [pallet_name ...]     default: every modelchain pallet
# Prints the table (scripts/bench/weights_table.py) at the end; the raw results stay in
# .weights-out/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh
cargo build --locked --release -p modelchain-node --features runtime-benchmarks
bench_node="$CARGO_TARGET_DIR/release/modelchain-node"

pallets=("$@")
[ ${#pallets[@]} -gt 0 ] || pallets=(pallet_model_registry pallet_scoring pallet_training_rounds pallet_rewards pallet_validator_set)
# Relative, so the command recorded in weights.rs names no machine path.
out=.weights-out
rm -rf "$out" && mkdir -p "$out"
list="$(IFS=,; echo "${pallets[*]}"),pallet_balances"
# Of pallet_balances only transfer_keep_alive: the reference.
skip=pallet_balances::transfer_allow_death,pallet_balances::transfer_best_case
skip+=,pallet_balances::force_set_balance_creating,pallet_balances::force_set_balance_killing
skip+=,pallet_balances::force_transfer,pallet_balances::transfer_increasing_users
skip+=,pallet_balances::transfer_all,pallet_balances::force_unreserve,pallet_balances::upgrade_accounts
skip+=,pallet_balances::force_adjust_total_issuance,pallet_balances::burn_allow_death
skip+=,pallet_balances::burn_keep_alive
echo "== benchmarking ${pallets[*]} and pallet_balances::transfer_keep_alive in one run"
# Through PATH, so the command recorded in weights.rs names no machine path.
PATH="$(dirname "$bench_node"):$PATH" modelchain-node benchmark pallet \
  --chain dev \
  --pallets "$list" \
  --extrinsic '*' \
  --exclude-extrinsics "$skip" \
  --wasm-execution compiled \
  --steps 50 \
  --repeat 20 \
  --heap-pages 4096 \
  --template scripts/frame-weight-template.hbs \
  --output "$out" \
  --json-file "$out/results.json"
for pallet in "${pallets[@]}"; do
  dir="pallets/$(echo "${pallet#pallet_}" | tr _ -)"
  echo "== $out/$pallet.rs -> $dir/src/weights.rs"
  mv "$out/$pallet.rs" "$dir/src/weights.rs"
done
python3 scripts/bench/weights_table.py "$out/results.json"
