//! The vocabulary of scoring: what a validator is asked to evaluate ([`EvaluationRequest`]), what it
//! reports ([`Verdict`]), what a finished job concluded ([`JobOutcome`]), and the two traits through which
//! other pallets create jobs ([`ScoreJobs`]) and hear their outcome ([`ScoreConsumer`]).

use crate::{Artifact, Score, VersionId};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use frame_support::{traits::ConstU32, weights::Weight, BoundedVec};
use scale_info::TypeInfo;
use sp_runtime::{DispatchError, Perbill};

/// Identifies a scoring job.
pub type JobId = u64;
/// Identifies a training round.
pub type RoundId = u64;
/// Identifies an update submitted to a training round (unique across all rounds).
pub type UpdateId = u64;

/// The most artifacts one aggregate is computed from.
pub const MAX_AGGREGATE_PARTS: u32 = 32;

/// What a golden dataset is scored with. The engine computes every metric as an integer in parts per
/// billion ([`Score`]).
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
pub enum Metric {
	/// Share of samples whose highest-scoring class (the first one on ties) is the label; for a binary
	/// classifier's one output per sample, class 1 when its logit is above 0 (probability above 0.5).
	/// Higher is better.
	Accuracy,
	/// Share of samples whose label is among the `k` highest-scoring classes (ties go to the lower class
	/// index). Higher is better.
	TopKAccuracy(u32),
	/// Mean over samples and outputs of `(prediction - target)²`. Lower is better.
	MeanSquaredError,
	/// Mean over samples of `-ln p(label)`, where `p` is the softmax of the outputs (logits), or the
	/// outputs themselves when a `Softmax` or `Sigmoid` computes them (probabilities, at least 1e-15). A
	/// binary classifier's one output per sample is class 1's logit or probability. Lower is better.
	MeanCrossEntropy,
}

impl Metric {
	/// Whether a larger score is a better model (accuracies) rather than a worse one (losses).
	pub fn higher_is_better(&self) -> bool {
		matches!(self, Self::Accuracy | Self::TopKAccuracy(_))
	}
}

/// Why a validator could not score an artifact.
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
pub enum ArtifactFault {
	/// The model file fetched does not have the recorded SHA-256 digest or size.
	DigestMismatch,
	/// The model file could not be fetched (HTTP status, timeout, no gateway), or is larger than the
	/// validator accepts.
	Unavailable,
	/// The model file is not a loadable ONNX model, or uses an operator the engine does not implement.
	InvalidModel,
	/// The model does not accept the golden dataset's inputs, or its output does not fit the labels.
	ShapeMismatch,
	/// The model produced NaN or infinity on the golden dataset.
	NonFiniteOutput,
	/// The golden dataset itself could not be fetched, did not match its digest, or is not a usable
	/// safetensors file, or the metric does not apply to it: not the model's fault.
	GoldenSetUnusable,
	/// The model is not the same ONNX graph as the base it must update: other nodes, inputs, outputs,
	/// or initializers of other names, shapes or types.
	ArchitectureMismatch,
	/// The model's weights are not the aggregate its check names, recomputed bit for bit.
	AggregateMismatch,
	/// An artifact the check compares the model with (the base, or a part of an aggregate) could not
	/// be fetched or parsed: not the model's fault.
	ReferenceUnusable,
	/// Evaluating the model needs more memory than the evaluation sandbox grants, or more time than the
	/// validator's limit (a model built to exhaust validators, or one too large for the golden dataset
	/// to be scored within the commit window).
	TooCostly,
}

impl ArtifactFault {
	/// Whether the fault lies with the scored model (rather than with the golden dataset or the
	/// references it is checked against), so that whoever staked on the model answers for it.
	pub fn is_models_fault(&self) -> bool {
		!matches!(self, Self::GoldenSetUnusable | Self::ReferenceUnusable)
	}
}

/// How the weights of several updates of one model are combined into one. Every rule is computed per
/// coordinate of every float initializer (`float`, `double`, `float16`), in `f64`, over the parts in the
/// order given (a training round gives them in ascending update id), and rounded once at the end to the
/// initializer's own type, so that anyone with numpy gets the same bits (see the evaluation engine's `aggregate` module for the exact formulas).
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
pub enum AggregationRule {
	/// Federated averaging: the mean weighted by each part's sample count.
	FedAvg,
	/// The coordinate-wise median (the mean of the two middle values for an even count).
	Median,
	/// The coordinate-wise mean after dropping `floor(β × parts)` lowest and as many highest values;
	/// β is below one half.
	TrimmedMean(Perbill),
}

impl AggregationRule {
	/// Whether the rule's parameter is usable: a trimmed mean must keep at least one value.
	pub fn is_valid(&self) -> bool {
		match self {
			Self::TrimmedMean(beta) => *beta < Perbill::from_percent(50),
			Self::FedAvg | Self::Median => true,
		}
	}
}

/// One artifact an aggregate is computed from, and its weight (its sample count for FedAvg).
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct AggregatePart {
	pub artifact: Artifact,
	pub weight: u64,
}

/// The parts of an aggregate.
pub type AggregateParts = BoundedVec<AggregatePart, ConstU32<MAX_AGGREGATE_PARTS>>;

/// What a validator checks about the model before it scores it. A model that fails its check is
/// reported invalid ([`ArtifactFault::ArchitectureMismatch`], [`ArtifactFault::AggregateMismatch`]).
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub enum ArtifactCheck {
	/// Nothing beyond its digest: any ONNX model.
	None,
	/// It is the same ONNX graph as this base model, with other weights (a training update).
	SameGraphAs(Artifact),
	/// Its weights are exactly `rule` applied to `parts`, all of them the same graph as `base`.
	AggregateOf { base: Artifact, rule: AggregationRule, parts: AggregateParts },
}

/// What one validator reports about one job.
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
pub enum Verdict {
	/// The model was evaluated; this is its score.
	Scored(Score),
	/// The model could not be evaluated, for this reason.
	Invalid(ArtifactFault),
}

/// One evaluation a validator's node is asked to run.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct EvaluationRequest {
	/// The model to score (ONNX).
	pub model: Artifact,
	/// The golden dataset to score it on (safetensors with `inputs` and `labels`).
	pub golden: Artifact,
	pub metric: Metric,
	/// What to check about the model before scoring it.
	pub check: ArtifactCheck,
}

/// Where a node's evaluation of a request stands.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub enum EvaluationPoll {
	/// This node has no evaluator (not started as a scoring validator).
	Unsupported,
	/// Fetching or evaluating; ask again later.
	Pending,
	/// Finished.
	Done(Verdict),
}

/// What a scoring job is about: its creator uses this to know what a result refers to.
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
pub enum JobSubject {
	/// A version published in the model registry.
	Version(VersionId),
	/// The base version of a training round, scored on the round's golden dataset.
	RoundBase(RoundId),
	/// An update submitted to a training round.
	Update(UpdateId),
	/// The aggregate submitted for a training round.
	Aggregate(RoundId),
}

/// Everything a scoring job needs: created by another pallet through [`ScoreJobs`].
#[derive(Clone, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub struct JobSpec {
	pub subject: JobSubject,
	/// The model to score.
	pub model: Artifact,
	/// The golden dataset, whose digest pins exactly what every validator scores on.
	pub golden: Artifact,
	pub metric: Metric,
	/// What validators check about the model before scoring it.
	pub check: ArtifactCheck,
}

/// What a finished scoring job concluded.
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
pub enum JobOutcome {
	/// The stake-weighted median of the revealed scores.
	Scored(Score),
	/// A majority of the revealed stake reported the artifact invalid; the reason most stake gave.
	Invalid(ArtifactFault),
	/// No validator revealed a verdict in time.
	NoQuorum,
}

/// Creates scoring jobs: implemented by the scoring pallet, used by the pallets whose artifacts need
/// scoring (the registry for published versions, training rounds for updates).
pub trait ScoreJobs {
	/// Schedules a job; validators evaluate it in the commit window that opens now.
	fn create_job(spec: JobSpec) -> Result<JobId, DispatchError>;
	/// The most [`Self::create_job`] costs, for the caller's weight.
	fn create_job_weight() -> Weight;
}

/// Jobs are never created: for runtimes and tests without scoring.
impl ScoreJobs for () {
	fn create_job(_: JobSpec) -> Result<JobId, DispatchError> {
		Err(DispatchError::Other("scoring is not configured"))
	}
	fn create_job_weight() -> Weight {
		Weight::zero()
	}
}

/// Hears the outcome of scoring jobs: implemented by the pallets that create them.
pub trait ScoreConsumer {
	/// Job `job` about `subject` has concluded with `outcome`. Returns the weight it used.
	fn job_concluded(job: JobId, subject: JobSubject, outcome: JobOutcome) -> Weight;
	/// The most [`Self::job_concluded`] costs.
	fn job_concluded_weight() -> Weight;
}

impl ScoreConsumer for () {
	fn job_concluded(_: JobId, _: JobSubject, _: JobOutcome) -> Weight {
		Weight::zero()
	}
	fn job_concluded_weight() -> Weight {
		Weight::zero()
	}
}

/// Both consumers hear every outcome; each acts only on the subjects it created.
impl<A: ScoreConsumer, B: ScoreConsumer> ScoreConsumer for (A, B) {
	fn job_concluded(job: JobId, subject: JobSubject, outcome: JobOutcome) -> Weight {
		A::job_concluded(job, subject, outcome)
			.saturating_add(B::job_concluded(job, subject, outcome))
	}
	fn job_concluded_weight() -> Weight {
		A::job_concluded_weight().saturating_add(B::job_concluded_weight())
	}
}
