//! The `Config` of every pallet in the runtime.

pub mod governance;

use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{ConstBool, ConstU128, ConstU32, ConstU64, ConstU8, VariantCountOf},
	weights::{
		constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		ConstantMultiplier, IdentityFee, Weight,
	},
	PalletId,
};
use frame_system::{
	limits::{BlockLength, BlockWeights},
	EnsureRoot,
};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_runtime::{
	traits::{AccountIdConversion, One},
	Perbill,
};
use sp_version::RuntimeVersion;

use sp_runtime::transaction_validity::TransactionPriority;

use super::{
	AccountId, Aura, Balance, Balances, Block, BlockNumber, Hash, ModelRegistry, Nonce, PalletInfo,
	Rewards, Runtime, RuntimeCall, RuntimeEvent, RuntimeFreezeReason, RuntimeHoldReason,
	RuntimeOrigin, RuntimeTask, Scoring, System, TrainingRounds, TxExtension, UncheckedExtrinsic,
	ValidatorSet, BLOCK_HASH_COUNT, DAYS, EXISTENTIAL_DEPOSIT, MICRO_UNIT, MILLI_UNIT,
	SLOT_DURATION, SS58_PREFIX, UNIT, VERSION,
};

/// Share of a block that normal (user) transactions may fill; the rest is kept for operational ones.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);
const MAX_BLOCK_LENGTH: u32 = 5 * 1024 * 1024;

parameter_types! {
	pub const BlockHashCount: BlockNumber = BLOCK_HASH_COUNT;
	pub const Version: RuntimeVersion = VERSION;

	/// Two seconds of compute per six-second block.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(2u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	/// 5 MiB blocks, of which normal transactions may fill `NORMAL_DISPATCH_RATIO`.
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(MAX_BLOCK_LENGTH)
		.modify_max_length_for_class(DispatchClass::Normal, |max| *max = NORMAL_DISPATCH_RATIO * MAX_BLOCK_LENGTH)
		.build();
	pub const SS58Prefix: u16 = SS58_PREFIX;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	// The node stores state in ParityDB only (see README, "Build figures").
	type DbWeight = ParityDbWeight;
	// The transaction extensions' reference weights with this runtime's `DbWeight` (the default, `()`,
	// prices their storage accesses as RocksDB's, 3 to 2 times ParityDB's).
	type ExtensionsWeightInfo = frame_system::SubstrateExtensionsWeight<Runtime>;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<32>;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<32>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_timestamp::Config for Runtime {
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

parameter_types! {
	pub FeeMultiplier: Multiplier = Multiplier::one();
	/// Every byte of a transaction costs one micro-MDL, on top of its weight.
	pub const TransactionByteFee: Balance = MICRO_UNIT;
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	// Fees are burnt: no treasury yet (it comes with governance).
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	// One unit of fee per picosecond of reference-machine time.
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = ConstantMultiplier<Balance, TransactionByteFee>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Every registry record costs 0.1 MDL plus 1 milli-MDL per stored byte, returned on removal.
	pub const RegistryDepositBase: Balance = 100 * MILLI_UNIT;
	pub const RegistryDepositPerByte: Balance = MILLI_UNIT;
}

impl pallet_model_registry::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = RegistryDepositBase;
	type DepositPerByte = RegistryDepositPerByte;
	type MaxNameLen = ConstU32<64>;
	// SPDX identifiers, including `LicenseRef-…` ones.
	type MaxLicenseLen = ConstU32<64>;
	type MaxTags = ConstU32<8>;
	type MaxTagLen = ConstU32<32>;
	type MaxParents = ConstU32<16>;
	type MaxVersionDatasets = ConstU32<16>;
	type MaxMetrics = ConstU32<16>;
	type MaxMetricKeyLen = ConstU32<32>;
	type MaxRollbackDepth = ConstU32<16>;
	type MaxLineage = ConstU32<256>;
	// A referendum on the model promotion / rollback track (or root).
	type PromoteOrigin = governance::PromoteOrigin;
	type RollbackOrigin = governance::RollbackOrigin;
	type EvaluationOrigin = EnsureRoot<AccountId>;
	type Scoring = Scoring;
	type WeightInfo = pallet_model_registry::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// A scorer holds at least 100 MDL: its stake weighs its verdicts.
	pub const MinScorerStake: Balance = 100 * UNIT;
	/// One minute to fetch, verify, evaluate and commit; half a minute to reveal. Enough for models of
	/// tens of megabytes on the golden sets we ship; a network scoring larger models raises these by a
	/// runtime upgrade.
	pub const ScoringCommitWindow: BlockNumber = 10;
	pub const ScoringRevealWindow: BlockNumber = 5;
	/// Commits and reveals go ahead of ordinary transactions: scoring must finish inside its windows.
	pub const ScoringPriority: TransactionPriority = TransactionPriority::MAX / 2;
}

impl pallet_scoring::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MinScorerStake = MinScorerStake;
	type MaxScorers = ConstU32<64>;
	type CommitWindow = ScoringCommitWindow;
	type RevealWindow = ScoringRevealWindow;
	type MaxOpenJobs = ConstU32<256>;
	type MaxConcludePerBlock = ConstU32<8>;
	type ScoringPriority = ScoringPriority;
	// Each hears the jobs it created: registry versions, and training rounds' bases, updates and
	// aggregates.
	type Consumer = (ModelRegistry, TrainingRounds);
	// A scorer's stake is its validator bond: it stays while the validator set needs it.
	type StakeGuard = ValidatorSet;
	type WeightInfo = pallet_scoring::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Each contributor (from joining a round until its update's verdict) and each aggregate stakes
	/// at least 10 MDL.
	pub const MinUpdateStake: Balance = 10 * UNIT;
	pub const RoundDeposit: Balance = UNIT;
	pub const UpdateDeposit: Balance = 100 * MILLI_UNIT;
	/// A window must hold a scoring job's commit and reveal windows; at most four weeks.
	pub const MinRoundWindow: BlockNumber = ScoringCommitWindow::get() + ScoringRevealWindow::get();
	pub const MaxRoundWindow: BlockNumber = 28 * DAYS;
	/// Slashed stake goes to the round's reward pot (there is no treasury yet).
	pub const SlashedTo: Option<AccountId> = None;
}

impl pallet_training_rounds::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Registry = ModelRegistry;
	type Scoring = Scoring;
	type Rewards = Rewards;
	type SlashedTo = SlashedTo;
	type MaxUpdates = ConstU32<16>;
	type MaxUpdateDatasets = ConstU32<4>;
	// The registry's `MaxVersionDatasets`: the published version lists them all.
	type MaxRoundDatasets = ConstU32<16>;
	type MinStake = MinUpdateStake;
	type RoundDeposit = RoundDeposit;
	type UpdateDeposit = UpdateDeposit;
	// Eight rounds' windows may end in one block, and eight queued rounds (at most 128 jobs) are
	// handed to the validators per block.
	type MaxRoundsEnding = ConstU32<8>;
	type MinWindow = MinRoundWindow;
	type MaxWindow = MaxRoundWindow;
	type WeightInfo = pallet_training_rounds::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	pub const RewardsPalletId: PalletId = PalletId(*b"mdl/rwds");
	/// The treasury's account (no spending pallet yet: it accumulates until governance has one).
	pub TreasuryAccount: AccountId = PalletId(*b"mdl/trsy").into_account_truncating();
	pub ForfeitTo: Option<AccountId> = Some(TreasuryAccount::get());
	/// 1 MDL per block, about 5.3 million MDL a year at 6-second blocks.
	pub const EmissionPerBlock: Balance = UNIT;
	pub const TreasuryShare: Perbill = Perbill::from_percent(20);
	/// Each round with a result receives a tenth of the reserve: rewards follow the work done.
	pub const RoundEmission: Perbill = Perbill::from_percent(10);
	pub const ValidatorShare: Perbill = Perbill::from_percent(10);
	pub const DataShare: Perbill = Perbill::from_percent(20);
	/// Validators evaluate deterministically, so an honest score is within 0.1 % (of the metric's
	/// unit) of the median; anything further is treated as a deviation.
	pub const ScoreTolerance: u64 = 1_000_000;
}

impl pallet_rewards::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type PalletId = RewardsPalletId;
	type Scoring = Scoring;
	type EmissionPerBlock = EmissionPerBlock;
	type TreasuryShare = TreasuryShare;
	type Treasury = TreasuryAccount;
	type RoundEmission = RoundEmission;
	type ValidatorShare = ValidatorShare;
	type DataShare = DataShare;
	type Tolerance = ScoreTolerance;
	type ForfeitTo = ForfeitTo;
	// Every registered scorer can be paid.
	type MaxRoundScorers = <Runtime as pallet_scoring::Config>::MaxScorers;
	type MaxContributions = <Runtime as pallet_training_rounds::Config>::MaxUpdates;
	type MaxContributionData = ConstU32<{ 16 * 4 }>;
	type WeightInfo = pallet_rewards::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// A validator candidate's bond (its scorer stake): what every genesis authority holds.
	pub const MinValidatorBond: Balance = 1_000 * UNIT;
	/// Held while an account's session keys are stored.
	pub const SessionKeyDeposit: Balance = UNIT;
}

impl pallet_validator_set::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	type Scorers = Scoring;
	type SessionKeys = SessionScoringKeys;
	// A root-track referendum removes a validator.
	type RemoveOrigin = EnsureRoot<AccountId>;
	type MinBond = MinValidatorBond;
	type MaxCandidates = <Runtime as pallet_scoring::Config>::MaxScorers;
	type MaxValidators = ConstU32<32>;
	type UnbondSessions = ConstU32<2>;
	type WeightInfo = pallet_validator_set::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ValidatorKeys;
}

/// The scoring key in an account's next session keys, which the validator set checks against the
/// key it registered as a scorer.
pub struct SessionScoringKeys;
impl modelchain_primitives::SessionScoringKey<AccountId, pallet_scoring::ScorerId>
	for SessionScoringKeys
{
	fn scoring_key(who: &AccountId) -> Option<pallet_scoring::ScorerId> {
		pallet_session::NextKeys::<Runtime>::get(who).map(|keys| keys.scoring)
	}
}

/// Gives benchmark accounts session keys: zeroes for Aura and GRANDPA (only the scoring key is
/// checked), and the given scoring key.
#[cfg(feature = "runtime-benchmarks")]
pub struct ValidatorKeys;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_validator_set::BenchmarkHelper<AccountId, pallet_scoring::ScorerId> for ValidatorKeys {
	fn register_keys(who: &AccountId, scoring: pallet_scoring::ScorerId) {
		use codec::Decode;
		let mut keys =
			crate::SessionKeys::decode(&mut sp_runtime::traits::TrailingZeroInput::zeroes())
				.expect("zeroes decode into keys");
		keys.scoring = scoring;
		pallet_session::NextKeys::<Runtime>::insert(who, keys);
	}
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = sp_runtime::traits::ConvertInto;
	type ShouldEndSession = ValidatorSet;
	type NextSessionRotation = ValidatorSet;
	type SessionManager = ValidatorSet;
	type SessionHandler =
		<crate::SessionKeys as sp_runtime::traits::OpaqueKeys>::KeyTypeIdProviders;
	type Keys = crate::SessionKeys;
	type DisablingStrategy = ();
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type KeyDeposit = SessionKeyDeposit;
}

impl<LocalCall> frame_system::offchain::CreateTransactionBase<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	type Extrinsic = UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<LocalCall> frame_system::offchain::CreateTransaction<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	type Extension = TxExtension;

	fn create_transaction(call: RuntimeCall, extension: TxExtension) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_transaction(call, extension)
	}
}

/// Offchain workers submit authorized calls (scoring commits and reveals) as general transactions:
/// no signer, no nonce, no fee; `AuthorizeCall` runs the call's own authorization.
impl<LocalCall> frame_system::offchain::CreateAuthorizedTransaction<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	fn create_extension() -> TxExtension {
		(
			frame_system::AuthorizeCall::<Runtime>::new(),
			frame_system::CheckNonZeroSender::<Runtime>::new(),
			frame_system::CheckSpecVersion::<Runtime>::new(),
			frame_system::CheckTxVersion::<Runtime>::new(),
			frame_system::CheckGenesis::<Runtime>::new(),
			frame_system::CheckEra::<Runtime>::from(sp_runtime::generic::Era::Immortal),
			frame_system::CheckNonce::<Runtime>::from(0),
			frame_system::CheckWeight::<Runtime>::new(),
			pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
			frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
			frame_system::WeightReclaim::<Runtime>::new(),
		)
	}
}
