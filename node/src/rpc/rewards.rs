//! `rewards_*`: the rewards' runtime API as JSON (SS58 addresses, balances as decimal strings). Every
//! method takes an optional block hash `at` (default: the best block).

use std::sync::Arc;

use jsonrpsee::{
	core::{async_trait, RpcResult},
	proc_macros::rpc,
	types::{error::INVALID_PARAMS_CODE, ErrorObjectOwned},
};
use modelchain_runtime::{opaque::Block, AccountId, Balance};
use pallet_rewards::runtime_api::RewardsApi;
use serde::Serialize;
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::crypto::Ss58Codec;
use sp_runtime::traits::Block as BlockT;

use super::registry::api_error;

type Hash = <Block as BlockT>::Hash;

/// What an account may claim.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingJson {
	pub account: String,
	pub pending: String,
}

/// The rewards account and what it holds for whom.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolJson {
	pub account: String,
	/// Emission, forfeits and dust not yet given to a round.
	pub reserve: String,
	/// Credited to accounts and not claimed yet.
	pub unclaimed: String,
}

#[rpc(server, namespace = "rewards")]
pub trait RewardsRpc {
	/// What `account` (SS58) may claim with `rewards.claimRewards`.
	#[method(name = "pending")]
	fn pending(&self, account: String, at: Option<Hash>) -> RpcResult<PendingJson>;
	/// The reserve and the total unclaimed.
	#[method(name = "pool")]
	fn pool(&self, at: Option<Hash>) -> RpcResult<PoolJson>;
}

pub struct RewardsRpcImpl<C> {
	client: Arc<C>,
}

impl<C> RewardsRpcImpl<C> {
	pub fn new(client: Arc<C>) -> Self {
		Self { client }
	}
}

#[async_trait]
impl<C> RewardsRpcServer for RewardsRpcImpl<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: RewardsApi<Block, AccountId, Balance>,
{
	fn pending(&self, account: String, at: Option<Hash>) -> RpcResult<PendingJson> {
		let who = AccountId::from_ss58check(&account).map_err(|e| {
			ErrorObjectOwned::owned(
				INVALID_PARAMS_CODE,
				format!("not an SS58 address: {account} ({e:?})"),
				None::<()>,
			)
		})?;
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let pending = self.client.runtime_api().pending(at, who.clone()).map_err(api_error)?;
		Ok(PendingJson { account: who.to_ss58check(), pending: pending.to_string() })
	}

	fn pool(&self, at: Option<Hash>) -> RpcResult<PoolJson> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let api = self.client.runtime_api();
		let (reserve, unclaimed) = api.pool(at).map_err(api_error)?;
		let account = api.account(at).map_err(api_error)?;
		Ok(PoolJson {
			account: account.to_ss58check(),
			reserve: reserve.to_string(),
			unclaimed: unclaimed.to_string(),
		})
	}
}
