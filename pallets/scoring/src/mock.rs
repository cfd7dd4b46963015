//! A test runtime: System, Balances and Scoring, with a consumer that records every job's outcome.

use crate as pallet_scoring;
use core::cell::RefCell;
use frame_support::{derive_impl, parameter_types, traits::ConstU32, weights::Weight};
use modelchain_primitives::{
	Artifact, ArtifactCheck, ArtifactFormat, JobId, JobOutcome, JobSpec, JobSubject, Metric,
	ScoreConsumer,
};
use sp_core::offchain::{testing, OffchainDbExt, OffchainWorkerExt, TransactionPoolExt};
use sp_keystore::{testing::MemoryKeystore, KeystoreExt};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u128;
/// The transactions the offchain worker builds: general ones, authorized by the scoring key.
pub type Extrinsic = sp_runtime::testing::TestXt<RuntimeCall, (frame_system::AuthorizeCall<Test>,)>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeHoldReason,
		RuntimeFreezeReason,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(2)]
	pub type Scoring = pallet_scoring;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

impl frame_system::offchain::CreateTransactionBase<pallet_scoring::Call<Test>> for Test {
	type Extrinsic = Extrinsic;
	type RuntimeCall = RuntimeCall;
}

impl frame_system::offchain::CreateTransaction<pallet_scoring::Call<Test>> for Test {
	type Extension = (frame_system::AuthorizeCall<Test>,);
	fn create_transaction(call: RuntimeCall, extension: Self::Extension) -> Extrinsic {
		Extrinsic::new_transaction(call, extension)
	}
}

impl frame_system::offchain::CreateAuthorizedTransaction<pallet_scoring::Call<Test>> for Test {
	fn create_extension() -> Self::Extension {
		(frame_system::AuthorizeCall::<Test>::new(),)
	}
}

thread_local! {
	/// Every outcome the consumer heard, in order.
	pub static CONCLUDED: RefCell<Vec<(JobId, JobSubject, JobOutcome)>> = const { RefCell::new(Vec::new()) };
}

/// Records outcomes, as the registry would act on them.
pub struct RecordOutcomes;
impl ScoreConsumer for RecordOutcomes {
	fn job_concluded(job: JobId, subject: JobSubject, outcome: JobOutcome) -> Weight {
		CONCLUDED.with(|c| c.borrow_mut().push((job, subject, outcome)));
		Weight::zero()
	}
	fn job_concluded_weight() -> Weight {
		Weight::zero()
	}
}

pub fn concluded() -> Vec<(JobId, JobSubject, JobOutcome)> {
	CONCLUDED.with(|c| c.borrow().clone())
}

pub const MIN_STAKE: Balance = 100;
pub const COMMIT_WINDOW: u64 = 10;
pub const REVEAL_WINDOW: u64 = 5;
pub const MAX_SCORERS: u32 = 8;
pub const MAX_OPEN_JOBS: u32 = 4;

parameter_types! {
	pub const MinScorerStake: Balance = MIN_STAKE;
	pub const CommitWindow: u64 = COMMIT_WINDOW;
	pub const RevealWindow: u64 = REVEAL_WINDOW;
	pub const ScoringPriority: u64 = 1 << 20;
}

impl pallet_scoring::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MinScorerStake = MinScorerStake;
	type MaxScorers = ConstU32<MAX_SCORERS>;
	type CommitWindow = CommitWindow;
	type RevealWindow = RevealWindow;
	type MaxOpenJobs = ConstU32<MAX_OPEN_JOBS>;
	type MaxConcludePerBlock = ConstU32<2>;
	type ScoringPriority = ScoringPriority;
	type Consumer = RecordOutcomes;
	type StakeGuard = BondedScorers;
	type WeightInfo = ();
}

thread_local! {
	/// Scorers whose stake is a validator's bond: they cannot leave (the runtime's validator set).
	pub static BONDED: RefCell<Vec<AccountId>> = const { RefCell::new(Vec::new()) };
}

/// The runtime's `StakeGuard` in miniature: the stake of a scorer in [`BONDED`] stays.
pub struct BondedScorers;
impl modelchain_primitives::StakeGuard<AccountId> for BondedScorers {
	fn may_withdraw(who: &AccountId) -> bool {
		!BONDED.with(|b| b.borrow().contains(who))
	}
	fn withdrawn(_: &AccountId) {}
}

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
pub const DAVE: AccountId = 4;
pub const EVE: AccountId = 5;
/// Has less than the minimum stake.
pub const PAUPER: AccountId = 9;
pub const ENDOWMENT: Balance = 1_000_000;

/// An artifact whose URI is `http://127.0.0.1/<name>` and whose digest is `[fill; 32]`.
pub fn artifact(name: &str, fill: u8, format: ArtifactFormat) -> Artifact {
	Artifact {
		uri: format!("http://127.0.0.1/{name}").into_bytes().try_into().unwrap(),
		digest: [fill; 32],
		size: 1_000,
		format,
	}
}

/// A job spec about version `version` with made-up artifacts.
pub fn spec(version: u64) -> JobSpec {
	JobSpec {
		subject: JobSubject::Version(version),
		model: artifact("model.onnx", 1, ArtifactFormat::Onnx),
		golden: artifact("golden.safetensors", 2, ArtifactFormat::Safetensors),
		metric: Metric::Accuracy,
		check: ArtifactCheck::None,
	}
}

/// Externalities at block 1 with endowed accounts, a memory keystore, and offchain test extensions.
pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build() -> (sp_io::TestExternalities, OffchainState) {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: [ALICE, BOB, CHARLIE, DAVE, EVE]
				.into_iter()
				.map(|who| (who, ENDOWMENT))
				.chain([(PAUPER, 50)])
				.collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		let (offchain, offchain_state) = testing::TestOffchainExt::new();
		let (pool, pool_state) = testing::TestTransactionPoolExt::new();
		ext.register_extension(OffchainDbExt::new(offchain.clone()));
		ext.register_extension(OffchainWorkerExt::new(offchain));
		ext.register_extension(TransactionPoolExt::new(pool));
		ext.register_extension(KeystoreExt::new(MemoryKeystore::new()));
		ext.execute_with(|| System::set_block_number(1));
		CONCLUDED.with(|c| c.borrow_mut().clear());
		BONDED.with(|b| b.borrow_mut().clear());
		let _ = offchain_state;
		(ext, OffchainState { pool: pool_state })
	}

	/// Like the runtime's genesis: a scorer whose stake is a validator's bond (Eve), so benchmarks
	/// run next to a scorer that can neither leave nor be displaced.
	#[cfg(feature = "runtime-benchmarks")]
	pub fn with_bonded_scorer() -> sp_io::TestExternalities {
		let (mut ext, _) = Self::build();
		ext.execute_with(|| {
			use sp_runtime::RuntimeAppPublic;
			let key = crate::ScorerId::generate_pair(None);
			Scoring::do_register_scorer(EVE, key, MIN_STAKE).expect("Eve is funded");
			BONDED.with(|b| b.borrow_mut().push(EVE));
		});
		ext
	}

	pub fn build_and_execute(test: impl FnOnce()) {
		Self::build().0.execute_with(|| {
			test();
			Scoring::do_try_state().expect("scoring invariants hold after the test");
		});
	}
}

/// Handles on the offchain test state.
pub struct OffchainState {
	pub pool: std::sync::Arc<parking_lot::RwLock<testing::PoolState>>,
}
