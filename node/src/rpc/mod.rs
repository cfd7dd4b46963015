//! The node's JSON-RPC extensions, next to the standard `system_*`, `chain_*`, `state_*` and `author_*`.

mod registry;
mod rewards;
mod rounds;

use std::sync::Arc;

use jsonrpsee::RpcModule;
use modelchain_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Nonce};
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};

/// What the RPC extensions need from the node.
pub struct FullDeps<C, P> {
	/// The client instance to use.
	pub client: Arc<C>,
	/// Transaction pool instance.
	pub pool: Arc<P>,
}

/// Builds the RPC extensions: `system_accountNextIndex`, the `payment_*` fee queries and the
/// `modelRegistry_*` registry queries, the `trainingRounds_*` round queries and the `rewards_*`
/// reward queries.
pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ Send
		+ Sync
		+ 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>,
	C::Api: pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>,
	C::Api: BlockBuilder<Block>,
	C::Api: pallet_model_registry::runtime_api::ModelRegistryApi<
		Block,
		AccountId,
		Balance,
		BlockNumber,
	>,
	C::Api: pallet_training_rounds::runtime_api::TrainingRoundsApi<
		Block,
		rounds::RoundOf,
		rounds::UpdateOf,
	>,
	C::Api: pallet_rewards::runtime_api::RewardsApi<Block, AccountId, Balance>,
	P: TransactionPool + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use registry::{ModelRegistryRpcImpl, ModelRegistryRpcServer};
	use rewards::{RewardsRpcImpl, RewardsRpcServer};
	use rounds::{TrainingRoundsRpcImpl, TrainingRoundsRpcServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let mut module = RpcModule::new(());
	let FullDeps { client, pool } = deps;

	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module.merge(ModelRegistryRpcImpl::new(client.clone()).into_rpc())?;
	module.merge(TrainingRoundsRpcImpl::new(client.clone()).into_rpc())?;
	module.merge(RewardsRpcImpl::new(client).into_rpc())?;
	Ok(module)
}
