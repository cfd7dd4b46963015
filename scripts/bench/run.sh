#!/usr/bin/env bash
# Reproduces the evaluation figures of BENCHMARKS.md: engine vs onnxruntime, sandboxed vs in process,
# SHA-256 vs sha256sum/b2sum.
#   scripts/bench/run.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
bash scripts/setup.sh
# The same profile the node is built with (dev, with tract's kernels optimised): what validators run.
cargo build --locked -p modelchain-evaluation --example throughput --bin evaluation-sandbox
workdir="${MODELCHAIN_CACHE:-$HOME/.cache/modelchain}/bench"
"${MODELCHAIN_CACHE:-$HOME/.cache/modelchain}/venv/bin/python" scripts/bench/engine_vs_onnxruntime.py \
  "$CARGO_TARGET_DIR/debug/examples/throughput" "$CARGO_TARGET_DIR/debug/evaluation-sandbox" "$workdir" "${1:-7}"
