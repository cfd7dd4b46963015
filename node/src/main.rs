//! modelchain node: Aura block production, GRANDPA finality, offchain workers with HTTP, and the
//! JSON-RPC API polkadot.js connects to.

#![warn(missing_docs)]

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
