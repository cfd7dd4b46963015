//! # The modelchain runtime
//!
//! A solochain runtime: Aura block production, GRANDPA finality, balances with holds and freezes (the
//! deposits and stakes of the modelchain pallets are fungible holds), transaction payment and, on dev and
//! local networks only, sudo. Native token: `MDL`, 12 decimals.
//!
//! Layout: [`configs`] holds every pallet's `Config`, [`apis`] the runtime APIs, and
//! [`genesis_config_presets`] the `dev` and `local_testnet` genesis states the node's chain specs are built
//! from.

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime`-style macros generate large types.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

pub mod apis;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
pub mod configs;
pub mod genesis_config_presets;
#[cfg(test)]
mod tests;

extern crate alloc;

use alloc::vec::Vec;

use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Types the node needs without knowing the runtime's extrinsic format.
pub mod opaque {
	use super::*;
	use sp_runtime::traits::Hash as HashT;

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as HashT>::Output;
}

impl_opaque_keys! {
	/// The keys a validator registers (`session.setKeys`): block production (Aura), finality (GRANDPA),
	/// and scoring (the `scor` key its offchain worker signs commits and reveals with).
	pub struct SessionKeys {
		pub aura: Aura,
		pub grandpa: Grandpa,
		pub scoring: Scoring,
	}
}

#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("modelchain"),
	impl_name: alloc::borrow::Cow::Borrowed("modelchain"),
	authoring_version: 1,
	// Bump on every change to the runtime's logic; `transaction_version` on every change to call
	// indices or arguments.
	spec_version: 111,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 3,
	system_version: 1,
};

/// Target block time. Aura's slot duration is the same.
pub const MILLI_SECS_PER_BLOCK: u64 = 6000;
pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;

/// Block hashes kept for `CheckEra` / `CheckGenesis`.
pub const BLOCK_HASH_COUNT: BlockNumber = 2400;

/// Token: `MDL`, 12 decimals.
pub const TOKEN_SYMBOL: &str = "MDL";
pub const TOKEN_DECIMALS: u8 = 12;
/// SS58 address format: the generic Substrate prefix, so every wallet shows `5…` addresses.
pub const SS58_PREFIX: u16 = 42;

pub const UNIT: Balance = 1_000_000_000_000;
pub const MILLI_UNIT: Balance = 1_000_000_000;
pub const MICRO_UNIT: Balance = 1_000_000;

/// The minimum balance an account must keep to exist.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;

/// Alias to 512-bit hash when used in the context of a transaction signature on the chain.
pub type Signature = MultiSignature;
/// Account identifier: the public key of the signer.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balance of an account, in the smallest unit (10^-12 MDL).
pub type Balance = u128;
/// Index of a transaction in the chain.
pub type Nonce = u32;
/// A hash of some data used by the chain.
pub type Hash = sp_core::H256;
/// An index to a block.
pub type BlockNumber = u32;
/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// A Block signed with a Justification.
pub type SignedBlock = generic::SignedBlock<Block>;

/// The transaction extensions, checked in this order for every transaction. `AuthorizeCall` comes first:
/// for a general transaction (no signer) it runs the call's own `#[pallet::authorize]` check, which is
/// how validators' scoring commits and reveals are admitted without fees; for signed transactions it
/// does nothing.
pub type TxExtension = (
	frame_system::AuthorizeCall<Runtime>,
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Storage migrations run on the next runtime upgrade (each checks the pallet's stored version).
type Migrations = (
	pallet_scoring::migrations::v1::MigrateV0ToV1<Runtime>,
	pallet_training_rounds::migrations::v1::MigrateV0ToV1<Runtime>,
);

/// Executive: handles dispatch to the various modules.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;

	#[runtime::pallet_index(7)]
	pub type ModelRegistry = pallet_model_registry;

	#[runtime::pallet_index(8)]
	pub type Scoring = pallet_scoring;

	#[runtime::pallet_index(9)]
	pub type TrainingRounds = pallet_training_rounds;

	#[runtime::pallet_index(10)]
	pub type Rewards = pallet_rewards;

	#[runtime::pallet_index(11)]
	pub type Preimage = pallet_preimage;

	#[runtime::pallet_index(12)]
	pub type Scheduler = pallet_scheduler;

	#[runtime::pallet_index(13)]
	pub type ConvictionVoting = pallet_conviction_voting;

	#[runtime::pallet_index(14)]
	pub type Referenda = pallet_referenda;

	#[runtime::pallet_index(15)]
	pub type Governance = pallet_governance;

	// Before `Session`: the session's genesis asks it for the first validator set.
	#[runtime::pallet_index(16)]
	pub type ValidatorSet = pallet_validator_set;

	#[runtime::pallet_index(17)]
	pub type Session = pallet_session;
}
