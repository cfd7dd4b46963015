//! The records of training rounds and their updates. They are generic over the account, balance and
//! block number types (not over the runtime), so the runtime API returns them as they are stored and
//! polkadot.js decodes them from metadata.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use frame_support::{pallet_prelude::*, BoundedVec};
use modelchain_primitives::{
	AggregationRule, Artifact, ArtifactFault, DatasetId, JobId, Metric, ModelId, RoundId, Score,
	VersionId,
};
use scale_info::TypeInfo;

/// What the opener of a round chooses.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct RoundParams<Balance, BlockNumber> {
	/// A registered safetensors dataset (`inputs`, `labels`) the base, every update and the aggregate
	/// are scored on.
	pub golden: DatasetId,
	pub metric: Metric,
	/// How much better than the base an update must score to be accepted (parts per billion of the
	/// metric's unit, in the metric's direction).
	pub min_improvement: Score,
	/// How much worse than the base an update may score and still be called merely unhelpful; worse
	/// than that, it is poisoned and its stake is slashed.
	pub tolerance: Score,
	/// How accepted updates are combined.
	pub rule: AggregationRule,
	/// What each contributor (and each aggregate submitter) holds while its artifact is scored.
	pub stake: Balance,
	/// Most updates the round takes (at most the runtime's `MaxUpdates`).
	pub max_updates: u32,
	/// Blocks from the opening during which contributors join, and submit and replace updates;
	/// the updates are scored when it ends.
	pub submission_blocks: BlockNumber,
	/// Blocks, after the last update is judged (and not before the submission window ends), during
	/// which an aggregate may be submitted.
	pub aggregation_blocks: BlockNumber,
}

/// The base version's score on the round's golden dataset, measured by the validators when the round
/// opens so that updates are compared with it under identical conditions.
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
pub enum BaseScore {
	/// Being scored by this job.
	Pending(JobId),
	Scored(Score),
	/// The validators could not score the base on the golden dataset: the round ends without a result.
	Unscorable,
}

/// An aggregate submitted to a round, while the validators recompute and score it.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct AggregateSubmission<AccountId, Balance> {
	pub submitter: AccountId,
	pub artifact: Artifact,
	/// Held from `submitter` until the verdict.
	pub stake: Balance,
	pub job: JobId,
}

/// How a round ended.
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
pub enum RoundOutcome {
	/// A verified aggregate of the accepted updates was published as this validated version.
	Aggregated(VersionId),
	/// No verified aggregate arrived in time: the best accepted update was published as this validated
	/// version.
	BestUpdate(VersionId),
	/// No update was accepted.
	NoImprovement,
	/// The base could not be scored on the round's golden dataset.
	BaseUnscorable,
	/// The result could not be published in the registry (e.g. the model was retired meanwhile).
	NotPublished,
}

/// Where a round stands.
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
pub enum RoundState {
	/// Taking updates, scoring them, or waiting for an aggregate (see the windows).
	Open,
	Finished(RoundOutcome),
}

/// A training round.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct Round<AccountId, Balance, BlockNumber> {
	pub model: ModelId,
	/// The version updates start from.
	pub base: VersionId,
	pub base_artifact: Artifact,
	pub base_score: BaseScore,
	/// The model's owner, who opened the round and funds its reward pot.
	pub opener: AccountId,
	pub params: RoundParams<Balance, BlockNumber>,
	/// The golden dataset's artifact, as registered when the round opened.
	pub golden_artifact: Artifact,
	pub opened_at: BlockNumber,
	/// Updates are taken before this block.
	pub submission_end: BlockNumber,
	/// The last block an update's verdict arrived in.
	pub last_verdict_at: BlockNumber,
	/// Held from `opener` for rewards (with what slashes add, when slashes go to the pot) while the
	/// round is open; moved to the rewards account and settled when it finishes.
	pub pot: Balance,
	/// Held from `opener` for this record.
	pub deposit: Balance,
	/// Contributors who joined (one update each, submitted or not).
	pub updates: u32,
	/// Updates holding stake: joined, submitted, being scored, or scored and waiting for the base's
	/// score.
	pub pending: u32,
	/// Updates accepted.
	pub accepted: u32,
	pub aggregate: Option<AggregateSubmission<AccountId, Balance>>,
	pub state: RoundState,
}

impl<AccountId, Balance, BlockNumber> Round<AccountId, Balance, BlockNumber>
where
	BlockNumber: Copy + Ord + sp_runtime::traits::Saturating,
{
	/// The block from which no aggregate is taken any more: `aggregation_blocks` after the later of the
	/// submission window's end and the last update verdict.
	pub fn aggregation_end(&self) -> BlockNumber {
		self.submission_end.max(self.last_verdict_at).saturating_add(self.params.aggregation_blocks)
	}
}

/// Why an update's stake was slashed.
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
pub enum SlashReason {
	/// The validators' stake majority reported it invalid, for this reason (not a golden-set problem).
	Invalid(ArtifactFault),
	/// It scored this, worse than the base by more than the round's tolerance.
	BelowFloor(Score),
}

/// Where an update stands.
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
pub enum UpdateState {
	/// Being scored by this job; stake held.
	Scoring(JobId),
	/// Scored, waiting for the base's score to be judged; stake held.
	Scored(Score),
	/// Better than the base by at least the minimum improvement; stake released.
	Accepted(Score),
	/// Valid but not better enough; stake released, no reward.
	Rejected(Score),
	/// Poisoned or invalid; stake slashed.
	Slashed(SlashReason),
	/// Nobody scored it, or the failure was not its fault (golden set, references, an unscorable
	/// base); stake released.
	Unscored,
	/// The contributor joined the round and has submitted nothing yet; stake held.
	Joined,
	/// Submitted; its scoring job opens when the submission window ends. Stake held.
	Submitted,
	/// The contributor joined but submitted nothing before the submission window ended; stake
	/// released.
	Lapsed,
}

impl UpdateState {
	/// Whether the update's stake is held in this state.
	pub fn holds_stake(&self) -> bool {
		matches!(self, Self::Joined | Self::Submitted | Self::Scoring(_) | Self::Scored(_))
	}
}

/// A contributor's place in a round (from [`crate::Pallet::join_round`]) and its update: new weights
/// for the round's base, and the data they came from.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
#[scale_info(skip_type_params(MaxDatasets))]
pub struct Update<AccountId, Balance, MaxDatasets: Get<u32>> {
	pub round: RoundId,
	/// The compute contributor.
	pub contributor: AccountId,
	/// The updated model: the base's ONNX graph with other weights; `None` until submitted.
	pub artifact: Option<Artifact>,
	/// Training samples used, at most `available`; the FedAvg weight. Zero until submitted.
	pub samples: u64,
	/// The samples the declared datasets held together when the contributor joined.
	pub available: u64,
	/// Registered datasets it is trained on, declared when joining: their owners are its data
	/// contributors.
	pub datasets: BoundedVec<DatasetId, MaxDatasets>,
	/// Held from `contributor` while it is scored.
	pub stake: Balance,
	/// Held from `contributor` for this record.
	pub deposit: Balance,
	pub state: UpdateState,
}
