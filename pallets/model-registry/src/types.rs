//! The registry's stored records and the typed views its runtime API returns.

use crate::{BalanceOf, Config};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::*, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use modelchain_primitives::{
	Artifact, ContentDigest, DatasetId, JobId, Metric, ModelId, RejectionReason, Score, Uri,
	VersionId, VersionStatus,
};
use scale_info::TypeInfo;

/// What a model is for.
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
pub enum TaskKind {
	Classification,
	Regression,
	Generation,
	Embedding,
	Detection,
	Segmentation,
	Other,
}

/// The bar a version's score must meet to become canonical. Accuracy-like metrics are "higher is
/// better" (`AtLeast`); losses such as mean squared error are "lower is better" (`AtMost`).
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
pub enum ScoreThreshold {
	AtLeast(Score),
	AtMost(Score),
}

impl ScoreThreshold {
	/// Whether `score` meets the bar.
	pub fn is_met_by(&self, score: Score) -> bool {
		match *self {
			Self::AtLeast(min) => score >= min,
			Self::AtMost(max) => score <= max,
		}
	}
}

/// How a model's versions are scored: on this registered golden dataset, with this metric. With a plan,
/// every published version becomes a scoring job for the validators.
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
pub struct EvaluationPlan {
	/// A registered safetensors dataset with `inputs` and `labels`.
	pub golden: DatasetId,
	pub metric: Metric,
}

/// Whether a model takes new versions.
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
pub enum ModelState {
	/// Takes new versions.
	Active,
	/// Retired by its owner: no new versions, no new canonical version; rollback still works.
	Retired,
}

/// How a version was derived from its parents.
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
pub enum VersionKind {
	/// Trained from scratch: no parents.
	Initial,
	/// Fine-tuned from exactly one parent.
	FineTune,
	/// Merged from two or more parents.
	Merge,
	/// Aggregated (e.g. federated averaging) from one or more parents.
	Aggregate,
}

impl VersionKind {
	/// Whether `parents` parents fit this kind.
	pub fn fits(&self, parents: usize) -> bool {
		match self {
			Self::Initial => parents == 0,
			Self::FineTune => parents == 1,
			Self::Merge => parents >= 2,
			Self::Aggregate => parents >= 1,
		}
	}
}

/// The outcome of an evaluation, as recorded by [`crate::Pallet::report_evaluation`].
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
pub enum EvaluationOutcome {
	Validated(Score),
	Rejected(RejectionReason),
}

pub type NameOf<T> = BoundedVec<u8, <T as Config>::MaxNameLen>;
pub type LicenseOf<T> = BoundedVec<u8, <T as Config>::MaxLicenseLen>;
pub type TagOf<T> = BoundedVec<u8, <T as Config>::MaxTagLen>;
pub type TagsOf<T> = BoundedVec<TagOf<T>, <T as Config>::MaxTags>;
pub type ParentsOf<T> = BoundedVec<VersionId, <T as Config>::MaxParents>;
pub type VersionDatasetsOf<T> = BoundedVec<DatasetId, <T as Config>::MaxVersionDatasets>;
pub type MetricKeyOf<T> = BoundedVec<u8, <T as Config>::MaxMetricKeyLen>;
pub type MetricsOf<T> = BoundedVec<(MetricKeyOf<T>, i64), <T as Config>::MaxMetrics>;

/// A registered model.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Model<T: Config> {
	pub owner: T::AccountId,
	/// Who may accept ownership (see `transfer_ownership`).
	pub pending_owner: Option<T::AccountId>,
	/// UTF-8, not empty.
	pub name: NameOf<T>,
	pub task: TaskKind,
	/// An SPDX license identifier, e.g. `Apache-2.0`.
	pub license: LicenseOf<T>,
	/// Where the model card is.
	pub card_uri: Uri,
	pub tags: TagsOf<T>,
	/// What a version's score must meet to become canonical.
	pub threshold: ScoreThreshold,
	/// How versions are scored by the validators; without one, only `EvaluationOrigin` evaluates.
	pub evaluation: Option<EvaluationPlan>,
	pub state: ModelState,
	/// The canonical version now, if any.
	pub canonical: Option<VersionId>,
	/// Versions of this model that exist (published and not removed).
	pub version_count: u32,
	/// Entries in this model's canonical history.
	pub history_len: u32,
	/// Held from `owner` for this record.
	pub deposit: BalanceOf<T>,
}

/// A published version of a model. Its artifact never changes.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Version<T: Config> {
	pub model: ModelId,
	pub publisher: T::AccountId,
	pub artifact: Artifact,
	pub kind: VersionKind,
	/// Versions of the same model this one was derived from (a DAG: parents always exist before their
	/// children, so a cycle cannot be built).
	pub parents: ParentsOf<T>,
	/// SHA-256 of the hyper-parameter file, if one was published.
	pub hyperparams: Option<ContentDigest>,
	/// Registered datasets this version was trained on.
	pub datasets: VersionDatasetsOf<T>,
	/// Free metrics reported by the publisher (values in parts per billion by convention).
	pub metrics: MetricsOf<T>,
	pub status: VersionStatus,
	/// The scoring job evaluating this candidate, while one is open.
	pub scoring_job: Option<JobId>,
	pub published_at: BlockNumberFor<T>,
	/// Versions that list this one as a parent.
	pub children: u32,
	/// Position in the model's version list (`ModelVersions`).
	pub index: u32,
	/// Held from `publisher` for this record.
	pub deposit: BalanceOf<T>,
}

/// A registered dataset (training data, or a golden dataset for evaluation).
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Dataset<T: Config> {
	pub owner: T::AccountId,
	pub artifact: Artifact,
	/// Number of samples (rows).
	pub samples: u64,
	pub license: LicenseOf<T>,
	/// Where the schema of the data is described.
	pub schema_uri: Option<Uri>,
	/// Versions that declare they were trained on this dataset, plus models whose evaluation plan
	/// scores on it.
	pub references: u32,
	/// Held from `owner` for this record.
	pub deposit: BalanceOf<T>,
}

/// A change of a model's canonical version, as recorded in its history.
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
pub struct CanonicalChange<BlockNumber> {
	/// From the end of this block on …
	pub since: BlockNumber,
	/// … this version was canonical.
	pub version: VersionId,
}

/// A model, as the runtime API returns it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct ModelDetails<AccountId, Balance> {
	pub id: ModelId,
	pub owner: AccountId,
	pub pending_owner: Option<AccountId>,
	pub name: alloc::vec::Vec<u8>,
	pub task: TaskKind,
	pub license: alloc::vec::Vec<u8>,
	pub card_uri: alloc::vec::Vec<u8>,
	pub tags: alloc::vec::Vec<alloc::vec::Vec<u8>>,
	pub threshold: ScoreThreshold,
	pub evaluation: Option<EvaluationPlan>,
	pub state: ModelState,
	pub canonical: Option<VersionId>,
	pub version_count: u32,
	pub deposit: Balance,
}

/// A version, as the runtime API returns it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct VersionDetails<AccountId, Balance, BlockNumber> {
	pub id: VersionId,
	pub model: ModelId,
	pub publisher: AccountId,
	pub artifact: Artifact,
	pub kind: VersionKind,
	pub parents: alloc::vec::Vec<VersionId>,
	pub hyperparams: Option<ContentDigest>,
	pub datasets: alloc::vec::Vec<DatasetId>,
	pub metrics: alloc::vec::Vec<(alloc::vec::Vec<u8>, i64)>,
	pub status: VersionStatus,
	pub scoring_job: Option<JobId>,
	pub published_at: BlockNumber,
	pub deposit: Balance,
}

/// A dataset, as the runtime API returns it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct DatasetDetails<AccountId, Balance> {
	pub id: DatasetId,
	pub owner: AccountId,
	pub artifact: Artifact,
	pub samples: u64,
	pub license: alloc::vec::Vec<u8>,
	pub schema_uri: Option<alloc::vec::Vec<u8>>,
	pub references: u32,
	pub deposit: Balance,
}
