//! A test runtime: System, Balances, the real model registry and the rounds pallet. Scoring is played
//! by the tests: `MockScoring` records the jobs created, and `conclude` delivers an outcome through the
//! pallet's `ScoreConsumer`, as the scoring pallet does.

use crate as pallet_training_rounds;
use core::cell::RefCell;
use frame_support::{derive_impl, parameter_types, traits::ConstU32, weights::Weight};
use frame_system::EnsureRoot;
use modelchain_primitives::{
	Artifact, ArtifactFormat, JobId, JobOutcome, JobSpec, ScoreConsumer, ScoreJobs, ScoringRecords,
};
use sp_runtime::{BuildStorage, DispatchError, Perbill};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u128;

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
	pub type Registry = pallet_model_registry;
	#[runtime::pallet_index(3)]
	pub type TrainingRounds = pallet_training_rounds;
	#[runtime::pallet_index(4)]
	pub type Rewards = pallet_rewards;
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

parameter_types! {
	pub const DepositBase: Balance = 100;
	pub const DepositPerByte: Balance = 1;
	pub static SlashedTo: Option<AccountId> = None;
}

impl pallet_model_registry::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = DepositBase;
	type DepositPerByte = DepositPerByte;
	type MaxNameLen = ConstU32<64>;
	type MaxLicenseLen = ConstU32<32>;
	type MaxTags = ConstU32<4>;
	type MaxTagLen = ConstU32<16>;
	type MaxParents = ConstU32<4>;
	type MaxVersionDatasets = ConstU32<6>;
	type MaxMetrics = ConstU32<4>;
	type MaxMetricKeyLen = ConstU32<16>;
	type MaxRollbackDepth = ConstU32<3>;
	type MaxLineage = ConstU32<8>;
	type PromoteOrigin = EnsureRoot<AccountId>;
	type RollbackOrigin = EnsureRoot<AccountId>;
	type EvaluationOrigin = EnsureRoot<AccountId>;
	type Scoring = ();
	type WeightInfo = ();
}

impl pallet_training_rounds::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Registry = Registry;
	type Scoring = MockScoring;
	type Rewards = Rewards;
	type SlashedTo = SlashedTo;
	type MaxUpdates = ConstU32<4>;
	type MaxUpdateDatasets = ConstU32<3>;
	type MaxRoundDatasets = ConstU32<6>;
	type MinStake = ConstU128<10>;
	type RoundDeposit = ConstU128<50>;
	type UpdateDeposit = ConstU128<20>;
	type MaxRoundsEnding = ConstU32<2>;
	type MinWindow = ConstU64<5>;
	type MaxWindow = ConstU64<100>;
	type WeightInfo = ();
}

use frame_support::traits::{ConstU128, ConstU64};

parameter_types! {
	pub const RewardsPalletId: frame_support::PalletId = frame_support::PalletId(*b"mdl/rwds");
	pub const Treasury: AccountId = TREASURY;
	pub const ValidatorShare: Perbill = Perbill::from_percent(10);
	pub const DataShare: Perbill = Perbill::from_percent(20);
	pub const RoundEmission: Perbill = Perbill::from_percent(50);
	pub const NoForfeitAccount: Option<AccountId> = None;
}

/// The real rewards pallet, with no emission (so that every amount in these tests comes from pots
/// and stakes): 10 % of a pot to honest validators, 20 % of an update's reward to its data owners.
impl pallet_rewards::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type PalletId = RewardsPalletId;
	type Scoring = MockScoring;
	type EmissionPerBlock = ConstU128<0>;
	type TreasuryShare = ValidatorShare;
	type Treasury = Treasury;
	type RoundEmission = RoundEmission;
	type ValidatorShare = ValidatorShare;
	type DataShare = DataShare;
	type Tolerance = ConstU64<0>;
	type ForfeitTo = NoForfeitAccount;
	type MaxRoundScorers = ConstU32<8>;
	type MaxContributions = ConstU32<4>;
	type MaxContributionData = ConstU32<12>;
	type WeightInfo = ();
}

thread_local! {
	/// Jobs created through `MockScoring`, in order; their ids are their positions.
	pub static JOBS: RefCell<Vec<JobSpec>> = const { RefCell::new(Vec::new()) };
	/// How many more jobs `MockScoring` takes (`None`: any number); it refuses the others, as the
	/// scoring pallet does at its most open jobs.
	pub static SCORING_ROOM: RefCell<Option<u32>> = const { RefCell::new(None) };
	/// The scorers of each concluded job: account, stake, honest.
	pub static SCORERS: RefCell<Vec<(JobId, AccountId, Balance, bool)>> =
		const { RefCell::new(Vec::new()) };
}

/// Scorer `who` with `stake` took part in every job concluded from now on, honestly or not.
pub fn add_scorer(who: AccountId, stake: Balance, honest: bool) {
	SCORERS.with(|s| s.borrow_mut().push((JobId::MAX, who, stake, honest)));
}

impl ScoringRecords<AccountId, Balance> for MockScoring {
	fn assessed_scorers(_job: JobId, _tolerance: u64) -> Vec<(AccountId, Balance, bool)> {
		SCORERS.with(|s| {
			s.borrow().iter().map(|(_, who, stake, honest)| (*who, *stake, *honest)).collect()
		})
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_concluded_job(_: &[(AccountId, Balance)]) -> JobId {
		unimplemented!("the rounds' benchmarks run on the runtime's scoring pallet")
	}
}

/// Records the jobs the rounds create; the tests play the validators' outcomes back.
pub struct MockScoring;
impl ScoreJobs for MockScoring {
	fn create_job(spec: JobSpec) -> Result<JobId, DispatchError> {
		let room = SCORING_ROOM.with(|room| *room.borrow());
		if room == Some(0) {
			return Err(DispatchError::Other("too many open jobs"));
		}
		SCORING_ROOM.with(|r| *r.borrow_mut() = room.map(|n| n - 1));
		Ok(JOBS.with(|jobs| {
			let mut jobs = jobs.borrow_mut();
			jobs.push(spec);
			jobs.len() as JobId - 1
		}))
	}
	fn create_job_weight() -> Weight {
		Weight::zero()
	}
}

pub fn jobs() -> Vec<JobSpec> {
	JOBS.with(|jobs| jobs.borrow().clone())
}

/// Delivers job `job`'s outcome, as the scoring pallet does when a job concludes.
pub fn conclude(job: JobId, outcome: JobOutcome) {
	let spec = jobs()[job as usize].clone();
	<TrainingRounds as ScoreConsumer>::job_concluded(job, spec.subject, outcome);
}

pub fn artifact(seed: u8, format: ArtifactFormat) -> Artifact {
	Artifact {
		uri: format!("https://example.org/{seed}").into_bytes().try_into().unwrap(),
		digest: [seed; 32],
		size: 1_000,
		format,
	}
}

/// The model owner, who opens rounds.
pub const OWNER: AccountId = 1;
pub const HONEST_A: AccountId = 2;
pub const HONEST_B: AccountId = 3;
pub const POISONER: AccountId = 4;
pub const DATA_OWNER: AccountId = 5;
pub const AGGREGATOR: AccountId = 6;
pub const TREASURY: AccountId = 7;
/// Has less than any stake.
pub const PAUPER: AccountId = 8;
/// Submits an update that is valid but no better than the base.
pub const LAZY: AccountId = 9;
pub const ENDOWMENT: Balance = 1_000_000;

/// Externalities with endowed accounts at block 1; `try_state` of both pallets runs after every test.
pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build() -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: vec![
				(OWNER, ENDOWMENT),
				(HONEST_A, ENDOWMENT),
				(HONEST_B, ENDOWMENT),
				(POISONER, ENDOWMENT),
				(DATA_OWNER, ENDOWMENT),
				(AGGREGATOR, ENDOWMENT),
				(TREASURY, ENDOWMENT),
				(PAUPER, 15),
				(LAZY, ENDOWMENT),
			],
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_rewards::GenesisConfig::<Test>::default().assimilate_storage(&mut storage).unwrap();
		JOBS.with(|jobs| jobs.borrow_mut().clear());
		SCORERS.with(|s| s.borrow_mut().clear());
		SCORING_ROOM.with(|room| *room.borrow_mut() = None);
		SlashedTo::set(None);
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	pub fn build_and_execute(test: impl FnOnce()) {
		Self::build().execute_with(|| {
			test();
			TrainingRounds::do_try_state().expect("round invariants hold after the test");
			Rewards::do_try_state().expect("rewards invariants hold after the test");
			Registry::do_try_state().expect("registry invariants hold after the test");
		});
	}
}
