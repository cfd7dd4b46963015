#!/usr/bin/env bash
# Every test: Rust unit and runtime tests, then the end-to-end tests that start real nodes and drive them
# with @polkadot/api. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh

started=$(date +%s)
echo "== cargo test (workspace; also builds the node binary the end-to-end tests run)"
cargo test --locked --workspace
echo "== benchmarks, run as tests on the mock runtimes (runtime-benchmarks)"
SKIP_WASM_BUILD=1 cargo test --locked -p pallet-model-registry -p pallet-scoring -p pallet-training-rounds -p pallet-rewards \
	-p pallet-validator-set \
	--features runtime-benchmarks benchmark
echo "== the runtime compiles with try-runtime"
SKIP_WASM_BUILD=1 cargo check --locked -p modelchain-runtime --features try-runtime
echo "== build + Rust tests took $(( $(date +%s) - started )) s"
# The binary `cargo test` built; the scripts below must not rebuild it with other features.
export MODELCHAIN_SKIP_BUILD=1

echo "== 4-validator network (zombienet, native provider)"
bash scripts/local-testnet.sh --test

echo "== end-to-end tests (@polkadot/api against real nodes)"
cd scripts/e2e
node --test --test-concurrency=1 tests/
