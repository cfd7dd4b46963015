#!/usr/bin/env bash
# A local 4-validator modelchain network (Alice, Bob, Charlie, Dave) under zombienet's native provider.
#   scripts/local-testnet.sh          spawn the network and keep it running (Ctrl-C stops it)
#   scripts/local-testnet.sh --test   run zombienet/modelchain-local.zndsl against it, then stop
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh
# `scripts/test.sh` sets MODELCHAIN_SKIP_BUILD: it runs the binary its `cargo test` already built.
if [ -z "${MODELCHAIN_SKIP_BUILD:-}" ]; then
	cargo build --locked -p modelchain-node
fi

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
export MODELCHAIN_LOCAL_SPEC="$workdir/modelchain-local-raw.json"
"$MODELCHAIN_NODE" build-spec --chain local --raw --disable-default-bootnode > "$MODELCHAIN_LOCAL_SPEC" 2>/dev/null

zombienet=zombienet/node_modules/.bin/zombienet
if [ "${1:-}" = "--test" ]; then
  if ! "$zombienet" --provider native --dir "$workdir/network" test zombienet/modelchain-local.zndsl; then
    for log in "$workdir"/network/logs/*.log; do
      echo "---- last lines of $(basename "$log")"
      tail -n 30 "$log"
    done
    exit 1
  fi
else
  "$zombienet" --provider native --dir "$workdir/network" spawn zombienet/modelchain-local.toml
fi
