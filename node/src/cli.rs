//! Command-line interface: `modelchain-node [subcommand] [options]`.

use sc_cli::RunCmd;

/// The node's command line.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	/// A maintenance subcommand; without one the node runs.
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	/// Options of a running node (`--dev`, `--chain`, `--validator`, `--rpc-port`, …).
	#[clap(flatten)]
	pub run: RunCmd,

	/// How a validator fetches and evaluates the artifacts it scores.
	#[clap(flatten)]
	pub scoring: ScoringParams,
}

/// Options of the scoring worker (used on validators, whose offchain workers score models).
#[derive(Debug, Clone, clap::Args)]
pub struct ScoringParams {
	/// Base URL of the IPFS HTTP gateway `ipfs://` artifacts are fetched through, e.g.
	/// `http://127.0.0.1:8080` for a local kubo daemon. Without it, `ipfs://` artifacts are reported
	/// unavailable.
	#[arg(long, value_name = "URL")]
	pub ipfs_gateway: Option<String>,

	/// Where verified artifacts are cached, one file per SHA-256 digest. Default: `scoring-cache` in
	/// the chain's data directory.
	#[arg(long, value_name = "PATH")]
	pub scoring_cache: Option<std::path::PathBuf>,

	/// Largest artifact (model or golden dataset) fetched, in MiB.
	#[arg(long, value_name = "MiB", default_value_t = 1024)]
	pub max_artifact_mib: u64,

	/// Longest a single artifact download may take, in seconds.
	#[arg(long, value_name = "SECONDS", default_value_t = 300)]
	pub fetch_timeout: u64,

	/// Longest the evaluation of one model may take, in seconds (wall clock, in the evaluation sandbox);
	/// a model that takes longer is reported as too costly. The default is the scoring commit window
	/// (10 blocks of 6 s): a score computed later could not be committed.
	#[arg(long, value_name = "SECONDS", default_value_t = 60)]
	pub evaluation_timeout: u64,
}

/// Maintenance subcommands.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect and insert keys.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification (used by zombienet).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export the chain specification of a chain (`--chain dev|local|<file>`).
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Internal: the evaluation sandbox's child process, which the node starts to score each model (see
	/// the evaluation engine's `sandbox` module). Reads its request on standard input.
	#[command(hide = true)]
	EvaluateSandboxed,

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Runtime and machine benchmarks (only with `--features runtime-benchmarks`).
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Database meta columns information.
	ChainInfo(sc_cli::ChainInfoCmd),
}
