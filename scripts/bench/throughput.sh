#!/usr/bin/env bash
# Reproduces the throughput and network figures of BENCHMARKS.md, each in one run against its reference:
#   scripts/bench/throughput.sh [--transfers N] [--updates N] [--contributors N] [--commits N]   one dev
#       node: pre-signed transferKeepAlive, trainingRounds.joinRound and submitUpdate (updates sent
#       round-robin from the contributors' places), and scoring.commitScore, included per block
#   scripts/bench/throughput.sh --network [--transfers N]                     the 4-validator `local`
#       network: block time and finality lag idle, then under blocks full of transfers
# Options are passed to scripts/e2e/bench/throughput.js (see its header); add --json FILE for every block.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
bash scripts/setup.sh
# The node as the README runs it (dev profile, no benchmark features).
cargo build --locked -p modelchain-node
cd scripts/e2e
node bench/throughput.js "$@"
