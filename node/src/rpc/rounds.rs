//! `trainingRounds_*`: the rounds' runtime API as JSON with named fields (SS58 addresses, `0x` digests,
//! balances as decimal strings), for clients that do not speak SCALE. Every method takes an optional
//! block hash `at` (default: the best block).

use std::sync::Arc;

use jsonrpsee::{
	core::{async_trait, RpcResult},
	proc_macros::rpc,
};
use modelchain_primitives::AggregationRule;
use modelchain_runtime::{opaque::Block, BlockNumber, Runtime};
use pallet_training_rounds::{
	runtime_api::TrainingRoundsApi, BaseScore, RoundOutcome, RoundState, SlashReason, UpdateState,
};
use serde::Serialize;
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::crypto::Ss58Codec;
use sp_runtime::traits::Block as BlockT;

use super::registry::{api_error, camel, ArtifactJson};

type Hash = <Block as BlockT>::Hash;
/// A round as the runtime stores and returns it.
pub type RoundOf = pallet_training_rounds::RoundOf<Runtime>;
/// An update as the runtime stores and returns it.
pub type UpdateOf = pallet_training_rounds::UpdateOf<Runtime>;

/// A status with an optional score, job, reason or version: `{ "status": "scored", "score": n }`, …
#[derive(Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusJson {
	pub status: String,
	#[serde(skip_serializing_if = "Option::is_none")]
	pub score: Option<u64>,
	#[serde(skip_serializing_if = "Option::is_none")]
	pub job: Option<u64>,
	#[serde(skip_serializing_if = "Option::is_none")]
	pub reason: Option<String>,
	#[serde(skip_serializing_if = "Option::is_none")]
	pub version: Option<u64>,
}

fn status(name: &str) -> StatusJson {
	StatusJson { status: name.into(), ..Default::default() }
}

fn slash_reason(reason: SlashReason) -> (String, Option<u64>) {
	match reason {
		SlashReason::Invalid(fault) => (camel(fault), None),
		SlashReason::BelowFloor(score) => ("belowFloor".into(), Some(score)),
	}
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AggregateJson {
	pub submitter: String,
	pub artifact: ArtifactJson,
	pub stake: String,
	pub job: u64,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoundJson {
	pub id: u64,
	pub model: u64,
	pub base: u64,
	pub base_artifact: ArtifactJson,
	pub base_score: StatusJson,
	pub opener: String,
	pub golden: u64,
	pub golden_artifact: ArtifactJson,
	/// `accuracy`, `topKAccuracy(3)`, `meanSquaredError`, `meanCrossEntropy`.
	pub metric: String,
	pub min_improvement: u64,
	pub tolerance: u64,
	/// `fedAvg`, `median`, `trimmedMean(<β in parts per billion>)`.
	pub rule: String,
	pub stake: String,
	pub max_updates: u32,
	pub opened_at: BlockNumber,
	pub submission_end: BlockNumber,
	pub aggregation_end: BlockNumber,
	pub pot: String,
	pub deposit: String,
	pub updates: u32,
	pub pending: u32,
	pub accepted: u32,
	pub aggregate: Option<AggregateJson>,
	/// `{ "status": "open" }` or `{ "status": "aggregated" | "bestUpdate", "version": n }`, `noImprovement`, …
	pub state: StatusJson,
}

fn round_json(id: u64, r: RoundOf) -> RoundJson {
	let base_score = match r.base_score {
		BaseScore::Pending(job) => StatusJson { job: Some(job), ..status("pending") },
		BaseScore::Scored(score) => StatusJson { score: Some(score), ..status("scored") },
		BaseScore::Unscorable => status("unscorable"),
	};
	let state = match r.state {
		RoundState::Open => status("open"),
		RoundState::Finished(outcome) => match outcome {
			RoundOutcome::Aggregated(v) => StatusJson { version: Some(v), ..status("aggregated") },
			RoundOutcome::BestUpdate(v) => StatusJson { version: Some(v), ..status("bestUpdate") },
			other => status(&camel(other)),
		},
	};
	let aggregation_end = r.aggregation_end();
	RoundJson {
		id,
		model: r.model,
		base: r.base,
		base_artifact: r.base_artifact.into(),
		base_score,
		opener: r.opener.to_ss58check(),
		golden: r.params.golden,
		golden_artifact: r.golden_artifact.into(),
		metric: camel(r.params.metric),
		min_improvement: r.params.min_improvement,
		tolerance: r.params.tolerance,
		rule: match r.params.rule {
			AggregationRule::FedAvg => "fedAvg".into(),
			AggregationRule::Median => "median".into(),
			AggregationRule::TrimmedMean(beta) => format!("trimmedMean({})", beta.deconstruct()),
		},
		stake: r.params.stake.to_string(),
		max_updates: r.params.max_updates,
		opened_at: r.opened_at,
		submission_end: r.submission_end,
		aggregation_end,
		pot: r.pot.to_string(),
		deposit: r.deposit.to_string(),
		updates: r.updates,
		pending: r.pending,
		accepted: r.accepted,
		aggregate: r.aggregate.map(|a| AggregateJson {
			submitter: a.submitter.to_ss58check(),
			artifact: a.artifact.into(),
			stake: a.stake.to_string(),
			job: a.job,
		}),
		state,
	}
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateJson {
	pub id: u64,
	pub round: u64,
	pub contributor: String,
	/// `null` until the contributor submits.
	pub artifact: Option<ArtifactJson>,
	pub samples: u64,
	/// The samples the declared datasets held together when the contributor joined.
	pub available: u64,
	pub datasets: Vec<u64>,
	pub stake: String,
	pub deposit: String,
	/// `joined` (nothing submitted yet), `submitted` (scored when the submission window ends),
	/// `scoring` (with `job`), `scored`/`accepted`/`rejected` (with `score`), `slashed` (with
	/// `reason`, and `score` when it was scored below the floor), `unscored`, `lapsed` (joined,
	/// submitted nothing).
	pub state: StatusJson,
}

fn update_json(id: u64, u: UpdateOf) -> UpdateJson {
	let state = match u.state {
		UpdateState::Scoring(job) => StatusJson { job: Some(job), ..status("scoring") },
		UpdateState::Scored(s) => StatusJson { score: Some(s), ..status("scored") },
		UpdateState::Accepted(s) => StatusJson { score: Some(s), ..status("accepted") },
		UpdateState::Rejected(s) => StatusJson { score: Some(s), ..status("rejected") },
		UpdateState::Slashed(reason) => {
			let (reason, score) = slash_reason(reason);
			StatusJson { reason: Some(reason), score, ..status("slashed") }
		},
		UpdateState::Unscored => status("unscored"),
		UpdateState::Joined => status("joined"),
		UpdateState::Submitted => status("submitted"),
		UpdateState::Lapsed => status("lapsed"),
	};
	UpdateJson {
		id,
		round: u.round,
		contributor: u.contributor.to_ss58check(),
		artifact: u.artifact.map(Into::into),
		samples: u.samples,
		available: u.available,
		datasets: u.datasets.into_inner(),
		stake: u.stake.to_string(),
		deposit: u.deposit.to_string(),
		state,
	}
}

/// Training-round queries.
#[rpc(server, namespace = "trainingRounds")]
pub trait TrainingRoundsRpc {
	/// A round by id.
	#[method(name = "round")]
	fn round(&self, id: u64, at: Option<Hash>) -> RpcResult<Option<RoundJson>>;
	/// A round's updates, ascending by id (the order its aggregate combines them in).
	#[method(name = "updates")]
	fn updates(&self, round: u64, at: Option<Hash>) -> RpcResult<Vec<UpdateJson>>;
}

/// The server side, over the client's runtime API.
pub struct TrainingRoundsRpcImpl<C> {
	client: Arc<C>,
}

impl<C> TrainingRoundsRpcImpl<C> {
	pub fn new(client: Arc<C>) -> Self {
		Self { client }
	}
}

#[async_trait]
impl<C> TrainingRoundsRpcServer for TrainingRoundsRpcImpl<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: TrainingRoundsApi<Block, RoundOf, UpdateOf>,
{
	fn round(&self, id: u64, at: Option<Hash>) -> RpcResult<Option<RoundJson>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let round = self.client.runtime_api().round(at, id).map_err(api_error)?;
		Ok(round.map(|r| round_json(id, r)))
	}

	fn updates(&self, round: u64, at: Option<Hash>) -> RpcResult<Vec<UpdateJson>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let updates = self.client.runtime_api().updates(at, round).map_err(api_error)?;
		Ok(updates.into_iter().map(|(id, u)| update_json(id, u)).collect())
	}
}
