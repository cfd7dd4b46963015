# Sourced by the other scripts: one shared target dir outside the checkout, so every session, every
# clone and CI on this machine reuse the same compiled dependencies.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/modelchain/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"
# The node binary the scripts and tests run (the `dev` profile: see README, "Build figures").
export MODELCHAIN_NODE="$CARGO_TARGET_DIR/debug/modelchain-node"
