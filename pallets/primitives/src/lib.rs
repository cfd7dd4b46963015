//! # modelchain primitives
//!
//! The vocabulary every modelchain pallet shares, so that a version published in the registry, scored by
//! the validators and aggregated in a training round is described the same way everywhere:
//!
//! - [`Artifact`]: an off-chain file (weights, a dataset) named by URI and pinned by its **SHA-256** digest.
//!   SHA-256 is the one digest used wherever an artifact is fetched and verified: it is what IPFS CIDv1
//!   (`sha2-256` multihash), Hugging Face LFS and `sha256sum` already use, so a publisher computes it with
//!   tools they have.
//! - identifiers ([`ModelId`], [`VersionId`], [`DatasetId`]) and [`Score`], an integer in parts per billion;
//! - [`ModelRegistry`]: the trait other pallets use to read versions and datasets and to record an
//!   evaluation's outcome, instead of reaching into the registry's storage.
//! - [`scoring`]: what validators evaluate and report, and the traits that create scoring jobs and hear
//!   their outcome ([`ScoreJobs`], [`ScoreConsumer`]);
//! - [`rewards`]: what the rewards pallet reads from scoring ([`ScoringRecords`]) and training rounds
//!   hand to it ([`RoundRewards`]);
//! - [`validators`]: a validator's bond is its scorer stake ([`ScorerStakes`], [`StakeGuard`]);
//! - [`host`]: the runtime interface through which offchain workers evaluate models natively.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod host;
pub mod rewards;
pub mod scoring;
pub mod validators;

pub use rewards::{Contribution, RoundRewards, RoundSettlement, ScoringRecords};
pub use validators::{ScorerStakes, SessionScoringKey, StakeGuard};

pub use scoring::{
	AggregatePart, AggregateParts, AggregationRule, ArtifactCheck, ArtifactFault, EvaluationPoll,
	EvaluationRequest, JobId, JobOutcome, JobSpec, JobSubject, Metric, RoundId, ScoreConsumer,
	ScoreJobs, UpdateId, Verdict, MAX_AGGREGATE_PARTS,
};

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use frame_support::{traits::ConstU32, BoundedVec};
use scale_info::TypeInfo;
use sp_runtime::{DispatchError, DispatchResult};

/// Identifies a model.
pub type ModelId = u64;
/// Identifies a version of a model (unique across all models).
pub type VersionId = u64;
/// Identifies a registered dataset.
pub type DatasetId = u64;
/// An evaluation result as an integer in parts per billion of the metric's unit (accuracy 0.9731 is
/// `973_100_000`; a mean squared error of 2.5 is `2_500_000_000`).
pub type Score = u64;
/// One whole unit of a [`Score`].
pub const SCORE_UNIT: Score = 1_000_000_000;
/// The SHA-256 digest of a whole file.
pub type ContentDigest = [u8; 32];

/// Longest artifact URI, in bytes.
pub const MAX_URI_LEN: u32 = 256;
/// An artifact URI: `ipfs://<CID>[/path]`, `https://…` or `http://…`, ASCII.
pub type Uri = BoundedVec<u8, ConstU32<MAX_URI_LEN>>;

/// The file format of an artifact.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum ArtifactFormat {
	/// An ONNX model (`.onnx`): what the validators evaluate today.
	Onnx,
	/// A safetensors file (`.safetensors`): the format of golden datasets (`inputs`, `labels` tensors).
	Safetensors,
	/// A GGUF file: named for later; not evaluated yet.
	Gguf,
}

/// An off-chain file pinned by content. Immutable once recorded: whoever fetches `uri` must get exactly
/// `size` bytes whose SHA-256 is `digest`, or the file is not this artifact.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct Artifact {
	/// Where to fetch it.
	pub uri: Uri,
	/// SHA-256 of the whole file.
	pub digest: ContentDigest,
	/// Size of the whole file in bytes.
	pub size: u64,
	/// File format.
	pub format: ArtifactFormat,
}

/// Why an [`Artifact`] is malformed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ArtifactError {
	/// The URI is not `ipfs://<CID>`, `https://<host>…` or `http://<host>…` in printable ASCII.
	BadUri,
	/// The digest is all zeroes: no file has it, so it was not computed.
	ZeroDigest,
	/// The size is zero.
	EmptyFile,
}

impl Artifact {
	/// Checks the artifact is well formed: a supported URI scheme with something after it, a digest that
	/// was computed, a non-empty file.
	pub fn check(&self) -> Result<(), ArtifactError> {
		check_uri(&self.uri)?;
		if self.digest == [0u8; 32] {
			return Err(ArtifactError::ZeroDigest);
		}
		if self.size == 0 {
			return Err(ArtifactError::EmptyFile);
		}
		Ok(())
	}
}

/// Checks a URI is `ipfs://<CID>[/path]`, `https://<host>[…]` or `http://<host>[…]`, printable ASCII with
/// no spaces.
pub fn check_uri(uri: &[u8]) -> Result<(), ArtifactError> {
	if !uri.iter().all(|b| b.is_ascii_graphic()) {
		return Err(ArtifactError::BadUri);
	}
	let rest = [&b"ipfs://"[..], b"https://", b"http://"]
		.iter()
		.find_map(|scheme| uri.strip_prefix(*scheme))
		.ok_or(ArtifactError::BadUri)?;
	// The CID or host: up to the first `/`, `?` or `#`, and not empty.
	let authority = rest.split(|b| matches!(b, b'/' | b'?' | b'#')).next().unwrap_or_default();
	if authority.is_empty() {
		return Err(ArtifactError::BadUri);
	}
	if uri.starts_with(b"ipfs://") && !authority.iter().all(|b| b.is_ascii_alphanumeric()) {
		// A CID is base32 or base58btc: letters and digits only.
		return Err(ArtifactError::BadUri);
	}
	Ok(())
}

/// Why a version was rejected.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum RejectionReason {
	/// The file fetched did not have the recorded digest or size.
	DigestMismatch,
	/// The file could not be fetched.
	Unavailable,
	/// The file is not a loadable model (malformed, unsupported operator, wrong shapes), or too costly to
	/// evaluate.
	InvalidModel,
	/// The model loaded and was evaluated, but scored below the bar.
	BelowThreshold,
	/// The evaluators' stake majority reported the artifact invalid.
	ReportedInvalid,
	/// Rejected by a governance decision.
	Governance,
	/// The golden dataset could not be used to evaluate it (not the version's fault; publish it again once
	/// the model's evaluation plan names a usable golden dataset).
	GoldenSetUnusable,
}

impl From<ArtifactFault> for RejectionReason {
	fn from(fault: ArtifactFault) -> Self {
		match fault {
			ArtifactFault::DigestMismatch => Self::DigestMismatch,
			ArtifactFault::Unavailable => Self::Unavailable,
			ArtifactFault::InvalidModel
			| ArtifactFault::ShapeMismatch
			| ArtifactFault::NonFiniteOutput
			| ArtifactFault::ArchitectureMismatch
			| ArtifactFault::AggregateMismatch
			| ArtifactFault::TooCostly => Self::InvalidModel,
			// Versions are checked against nothing but their digest today; were one checked against a
			// reference nobody could fetch, that is no more its fault than an unusable golden set.
			ArtifactFault::GoldenSetUnusable | ArtifactFault::ReferenceUnusable => {
				Self::GoldenSetUnusable
			},
		}
	}
}

/// Where a version stands. Transitions: `Candidate → Validated | Rejected`, `Validated → Canonical`,
/// `Canonical → Deprecated` (a newer canonical version replaced it) and back `Deprecated → Canonical` (a
/// rollback). An artifact never changes, whatever the status.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum VersionStatus {
	/// Published, not evaluated yet.
	Candidate,
	/// Evaluated on the model's golden dataset with this score.
	Validated { score: Score },
	/// Evaluated and refused.
	Rejected { reason: RejectionReason },
	/// The model's canonical version; `score` is the score it was validated with.
	Canonical { score: Score },
	/// Was canonical and has been replaced; `score` is the score it was validated with.
	Deprecated { score: Score },
}

impl VersionStatus {
	/// The validated score, for every status that has one.
	pub fn score(&self) -> Option<Score> {
		match self {
			Self::Validated { score } | Self::Canonical { score } | Self::Deprecated { score } => {
				Some(*score)
			},
			Self::Candidate | Self::Rejected { .. } => None,
		}
	}
}

/// What another pallet may know of a version.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct VersionView<AccountId> {
	pub model: ModelId,
	pub publisher: AccountId,
	pub artifact: Artifact,
	pub status: VersionStatus,
}

/// What another pallet may know of a dataset.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DatasetView<AccountId> {
	pub owner: AccountId,
	pub artifact: Artifact,
	pub samples: u64,
}

/// What another pallet may know of a model.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ModelView<AccountId> {
	pub owner: AccountId,
	/// Whether it takes new versions (not retired).
	pub active: bool,
	/// Its canonical version, if any.
	pub canonical: Option<VersionId>,
}

/// A version another pallet publishes through [`ModelRegistry::publish_scored`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ScoredVersion<AccountId> {
	/// Who publishes it; the registry holds the version's deposit from this account.
	pub publisher: AccountId,
	pub model: ModelId,
	pub artifact: Artifact,
	/// The versions it was derived from (one: a fine-tune; more: an aggregate).
	pub parents: alloc::vec::Vec<VersionId>,
	/// Registered datasets it was trained on.
	pub datasets: alloc::vec::Vec<DatasetId>,
	/// Whether it aggregates several updates (a federated average) rather than fine-tunes its parent.
	pub aggregate: bool,
	/// What the validators scored it.
	pub score: Score,
}

/// The registry as other pallets see it (scoring, training rounds): read models, versions and
/// datasets, record the outcome of an evaluation, publish a version already scored. Implemented by
/// `pallet-model-registry`.
pub trait ModelRegistry<AccountId> {
	/// A model, if it exists.
	fn model(id: ModelId) -> Option<ModelView<AccountId>>;
	/// A version, if it exists.
	fn version(id: VersionId) -> Option<VersionView<AccountId>>;
	/// A dataset, if it exists.
	fn dataset(id: DatasetId) -> Option<DatasetView<AccountId>>;
	/// Records that a `Candidate` version was evaluated with `score`: it becomes `Validated`.
	fn mark_validated(id: VersionId, score: Score) -> DispatchResult;
	/// Records that a `Candidate` version failed evaluation: it becomes `Rejected`.
	fn mark_rejected(id: VersionId, reason: RejectionReason) -> DispatchResult;
	/// Publishes a version the validators have already scored (a training round's result): it is
	/// recorded as a `Candidate` and validated with `score` at once, without a scoring job of its own.
	/// The model must be active; parents and datasets must exist.
	fn publish_scored(version: ScoredVersion<AccountId>) -> Result<VersionId, DispatchError>;
	/// The most [`Self::publish_scored`] costs.
	fn publish_scored_weight() -> frame_support::weights::Weight;

	/// Creates an active model owned by `owner` whose canonical version is scored `score`, and returns
	/// both ids: for other pallets' benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_model(owner: &AccountId, score: Score) -> (ModelId, VersionId);
	/// Registers a dataset of `owner` with `samples` samples: for other pallets' benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_dataset(owner: &AccountId, samples: u64) -> DatasetId;
}

#[cfg(test)]
mod tests {
	use super::*;

	fn artifact(uri: &str) -> Artifact {
		Artifact {
			uri: uri.as_bytes().to_vec().try_into().unwrap(),
			digest: [7; 32],
			size: 10,
			format: ArtifactFormat::Onnx,
		}
	}

	#[test]
	fn accepts_ipfs_and_http_uris() {
		for uri in [
			"ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
			"ipfs://QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG/model.onnx",
			"https://models.example.org/mnist/v2.onnx",
			"http://127.0.0.1:8080/a.onnx?x=1",
		] {
			assert_eq!(artifact(uri).check(), Ok(()), "{uri}");
		}
	}

	#[test]
	fn refuses_other_schemes_and_empty_authorities() {
		for uri in [
			"",
			"ftp://host/file",
			"file:///etc/passwd",
			"ipfs://",
			"https:///path",
			"ipfs://not a cid",
			"ipfs://bafy-bad",
			"https://host/with space",
			"HTTPS://host/upper-case-scheme",
		] {
			assert_eq!(artifact(uri).check(), Err(ArtifactError::BadUri), "{uri:?}");
		}
	}

	#[test]
	fn refuses_zero_digest_and_empty_file() {
		let mut a = artifact("https://h/f");
		a.digest = [0; 32];
		assert_eq!(a.check(), Err(ArtifactError::ZeroDigest));
		let mut a = artifact("https://h/f");
		a.size = 0;
		assert_eq!(a.check(), Err(ArtifactError::EmptyFile));
	}

	#[test]
	fn only_evaluated_statuses_have_a_score() {
		assert_eq!(VersionStatus::Candidate.score(), None);
		assert_eq!(VersionStatus::Rejected { reason: RejectionReason::Unavailable }.score(), None);
		assert_eq!(VersionStatus::Validated { score: 5 }.score(), Some(5));
		assert_eq!(VersionStatus::Canonical { score: 6 }.score(), Some(6));
		assert_eq!(VersionStatus::Deprecated { score: 7 }.score(), Some(7));
	}
}
