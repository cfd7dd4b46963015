#!/usr/bin/env bash
# The main job: install what is missing, build the node, and run a `--dev` validator that produces and
# finalises blocks. polkadot.js Apps connects to ws://127.0.0.1:9944. Extra arguments go to the node.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh
cargo build --locked -p modelchain-node
exec "$MODELCHAIN_NODE" --dev --rpc-cors all "$@"
