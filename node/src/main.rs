//! modelchain node: Aura block production, GRANDPA finality, offchain workers with HTTP, and the
//! JSON-RPC API polkadot.js connects to.

#![warn(missing_docs)]
// `sc_cli::Error` and `sc_service::Error`, which the node's commands and service return as
// polkadot-sdk's do, are large; boxing them here would only convert them back.
#![allow(clippy::result_large_err)]

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
