//! `modelRegistry_*`: the registry's runtime API as JSON with named fields (SS58 addresses, `0x` digests,
//! balances as decimal strings so no client loses precision), for clients that do not speak SCALE.
//! Every method takes an optional block hash `at` (default: the best block).

use std::sync::Arc;

use jsonrpsee::{
	core::{async_trait, RpcResult},
	proc_macros::rpc,
	types::ErrorObjectOwned,
};
use modelchain_runtime::{opaque::Block, AccountId, Balance, BlockNumber};
use pallet_model_registry::{
	runtime_api::ModelRegistryApi, Artifact, ArtifactFormat, DatasetDetails, ModelDetails,
	ScoreThreshold, VersionDetails, VersionStatus,
};
use serde::Serialize;
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::crypto::Ss58Codec;
use sp_runtime::traits::Block as BlockT;

type Hash = <Block as BlockT>::Hash;

fn text(bytes: Vec<u8>) -> String {
	String::from_utf8_lossy(&bytes).into_owned()
}

pub(super) fn camel(debug: impl std::fmt::Debug) -> String {
	let name = format!("{debug:?}");
	let mut chars = name.chars();
	chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// An artifact: where it is and what it must hash to.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactJson {
	pub uri: String,
	/// SHA-256 of the whole file, `0x`-prefixed hex.
	pub digest: String,
	pub size: u64,
	/// `onnx`, `safetensors` or `gguf`.
	pub format: String,
}

impl From<Artifact> for ArtifactJson {
	fn from(a: Artifact) -> Self {
		let format = match a.format {
			ArtifactFormat::Onnx => "onnx",
			ArtifactFormat::Safetensors => "safetensors",
			ArtifactFormat::Gguf => "gguf",
		};
		Self {
			uri: text(a.uri.into_inner()),
			digest: format!("0x{}", hex(&a.digest)),
			size: a.size,
			format: format.into(),
		}
	}
}

pub(super) fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A score threshold: `{ "atLeast": n }` or `{ "atMost": n }` (parts per billion).
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ThresholdJson {
	AtLeast(u64),
	AtMost(u64),
}

/// A version's status: `{ "status": "validated", "score": n }`, `{ "status": "rejected", "reason":
/// "digestMismatch" }`, …
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusJson {
	pub status: String,
	#[serde(skip_serializing_if = "Option::is_none")]
	pub score: Option<u64>,
	#[serde(skip_serializing_if = "Option::is_none")]
	pub reason: Option<String>,
}

impl From<VersionStatus> for StatusJson {
	fn from(s: VersionStatus) -> Self {
		let (status, reason) = match s {
			VersionStatus::Candidate => ("candidate", None),
			VersionStatus::Validated { .. } => ("validated", None),
			VersionStatus::Rejected { reason } => ("rejected", Some(camel(reason))),
			VersionStatus::Canonical { .. } => ("canonical", None),
			VersionStatus::Deprecated { .. } => ("deprecated", None),
		};
		Self { status: status.into(), score: s.score(), reason }
	}
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelJson {
	pub id: u64,
	pub owner: String,
	pub pending_owner: Option<String>,
	pub name: String,
	pub task: String,
	pub license: String,
	pub card_uri: String,
	pub tags: Vec<String>,
	pub threshold: ThresholdJson,
	pub state: String,
	pub canonical: Option<u64>,
	pub version_count: u32,
	pub deposit: String,
}

impl From<ModelDetails<AccountId, Balance>> for ModelJson {
	fn from(m: ModelDetails<AccountId, Balance>) -> Self {
		Self {
			id: m.id,
			owner: m.owner.to_ss58check(),
			pending_owner: m.pending_owner.map(|a| a.to_ss58check()),
			name: text(m.name),
			task: camel(m.task),
			license: text(m.license),
			card_uri: text(m.card_uri),
			tags: m.tags.into_iter().map(text).collect(),
			threshold: match m.threshold {
				ScoreThreshold::AtLeast(s) => ThresholdJson::AtLeast(s),
				ScoreThreshold::AtMost(s) => ThresholdJson::AtMost(s),
			},
			state: camel(m.state),
			canonical: m.canonical,
			version_count: m.version_count,
			deposit: m.deposit.to_string(),
		}
	}
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricJson {
	pub name: String,
	pub value: i64,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionJson {
	pub id: u64,
	pub model: u64,
	pub publisher: String,
	pub artifact: ArtifactJson,
	pub kind: String,
	pub parents: Vec<u64>,
	pub hyperparams: Option<String>,
	pub datasets: Vec<u64>,
	pub metrics: Vec<MetricJson>,
	pub status: StatusJson,
	pub published_at: BlockNumber,
	pub deposit: String,
}

impl From<VersionDetails<AccountId, Balance, BlockNumber>> for VersionJson {
	fn from(v: VersionDetails<AccountId, Balance, BlockNumber>) -> Self {
		Self {
			id: v.id,
			model: v.model,
			publisher: v.publisher.to_ss58check(),
			artifact: v.artifact.into(),
			kind: camel(v.kind),
			parents: v.parents,
			hyperparams: v.hyperparams.map(|d| format!("0x{}", hex(&d))),
			datasets: v.datasets,
			metrics: v
				.metrics
				.into_iter()
				.map(|(name, value)| MetricJson { name: text(name), value })
				.collect(),
			status: v.status.into(),
			published_at: v.published_at,
			deposit: v.deposit.to_string(),
		}
	}
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetJson {
	pub id: u64,
	pub owner: String,
	pub artifact: ArtifactJson,
	pub samples: u64,
	pub license: String,
	pub schema_uri: Option<String>,
	pub references: u32,
	pub deposit: String,
}

impl From<DatasetDetails<AccountId, Balance>> for DatasetJson {
	fn from(d: DatasetDetails<AccountId, Balance>) -> Self {
		Self {
			id: d.id,
			owner: d.owner.to_ss58check(),
			artifact: d.artifact.into(),
			samples: d.samples,
			license: text(d.license),
			schema_uri: d.schema_uri.map(text),
			references: d.references,
			deposit: d.deposit.to_string(),
		}
	}
}

/// The `modelRegistry_*` methods.
#[rpc(server, namespace = "modelRegistry")]
pub trait ModelRegistryRpc {
	/// A model by id.
	#[method(name = "model")]
	fn model(&self, id: u64, at: Option<Hash>) -> RpcResult<Option<ModelJson>>;
	/// A version by id.
	#[method(name = "version")]
	fn version(&self, id: u64, at: Option<Hash>) -> RpcResult<Option<VersionJson>>;
	/// A dataset by id.
	#[method(name = "dataset")]
	fn dataset(&self, id: u64, at: Option<Hash>) -> RpcResult<Option<DatasetJson>>;
	/// The version of `model` that was canonical at the end of block number `block`.
	#[method(name = "canonicalAt")]
	fn canonical_at(
		&self,
		model: u64,
		block: BlockNumber,
		at: Option<Hash>,
	) -> RpcResult<Option<u64>>;
	/// A version's ancestors, nearest first.
	#[method(name = "lineage")]
	fn lineage(&self, version: u64, at: Option<Hash>) -> RpcResult<Vec<u64>>;
	/// Up to `limit` (≤ 100) version ids of `model` from position `offset`.
	#[method(name = "versions")]
	fn versions(
		&self,
		model: u64,
		offset: u32,
		limit: u32,
		at: Option<Hash>,
	) -> RpcResult<Vec<u64>>;
}

/// The server side, over the client's runtime API.
pub struct ModelRegistryRpcImpl<C> {
	client: Arc<C>,
}

impl<C> ModelRegistryRpcImpl<C> {
	pub fn new(client: Arc<C>) -> Self {
		Self { client }
	}
}

pub(super) fn api_error(e: impl std::fmt::Display) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(1, format!("runtime API call failed: {e}"), None::<()>)
}

impl<C> ModelRegistryRpcImpl<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block>,
	C::Api: ModelRegistryApi<Block, AccountId, Balance, BlockNumber>,
{
	fn call<R>(
		&self,
		at: Option<Hash>,
		f: impl FnOnce(&<C as ProvideRuntimeApi<Block>>::Api, Hash) -> Result<R, sp_api::ApiError>,
	) -> RpcResult<R> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		f(&self.client.runtime_api(), at).map_err(api_error)
	}
}

#[async_trait]
impl<C> ModelRegistryRpcServer for ModelRegistryRpcImpl<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: ModelRegistryApi<Block, AccountId, Balance, BlockNumber>,
{
	fn model(&self, id: u64, at: Option<Hash>) -> RpcResult<Option<ModelJson>> {
		Ok(self.call(at, |api, at| api.model(at, id))?.map(Into::into))
	}

	fn version(&self, id: u64, at: Option<Hash>) -> RpcResult<Option<VersionJson>> {
		Ok(self.call(at, |api, at| api.version(at, id))?.map(Into::into))
	}

	fn dataset(&self, id: u64, at: Option<Hash>) -> RpcResult<Option<DatasetJson>> {
		Ok(self.call(at, |api, at| api.dataset(at, id))?.map(Into::into))
	}

	fn canonical_at(
		&self,
		model: u64,
		block: BlockNumber,
		at: Option<Hash>,
	) -> RpcResult<Option<u64>> {
		self.call(at, |api, at| api.canonical_at(at, model, block))
	}

	fn lineage(&self, version: u64, at: Option<Hash>) -> RpcResult<Vec<u64>> {
		self.call(at, |api, at| api.lineage(at, version))
	}

	fn versions(
		&self,
		model: u64,
		offset: u32,
		limit: u32,
		at: Option<Hash>,
	) -> RpcResult<Vec<u64>> {
		self.call(at, |api, at| api.versions(at, model, offset, limit))
	}
}
