//! A test runtime: System, Balances and the rewards. The scorers of jobs are set by the tests
//! (`set_job`), as the scoring pallet records them.

use crate as pallet_rewards;
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU128, ConstU32, ConstU64},
	PalletId,
};
use modelchain_primitives::{JobId, Score, ScoringRecords};
use sp_runtime::{BuildStorage, Perbill};
use std::collections::BTreeMap;

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
	type ExistentialDeposit = ConstU128<ED>;
}

pub const ED: Balance = 5;
pub const TREASURY: AccountId = 100;

parameter_types! {
	pub const RewardsPalletId: PalletId = PalletId(*b"mdl/rwds");
	pub static Emission: Balance = 1_000;
	pub static TreasuryShare: Perbill = Perbill::from_percent(20);
	pub static RoundEmission: Perbill = Perbill::from_percent(10);
	pub static ValidatorShare: Perbill = Perbill::from_percent(10);
	pub static DataShare: Perbill = Perbill::from_percent(30);
	pub static ForfeitTo: Option<AccountId> = None;
	pub const Treasury: AccountId = TREASURY;
}

impl pallet_rewards::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type PalletId = RewardsPalletId;
	type Scoring = MockScoring;
	type EmissionPerBlock = Emission;
	type TreasuryShare = TreasuryShare;
	type Treasury = Treasury;
	type RoundEmission = RoundEmission;
	type ValidatorShare = ValidatorShare;
	type DataShare = DataShare;
	type Tolerance = ConstU64<TOLERANCE>;
	type ForfeitTo = ForfeitTo;
	type MaxRoundScorers = ConstU32<4>;
	type MaxContributions = ConstU32<8>;
	type MaxContributionData = ConstU32<16>;
	type WeightInfo = ();
}

/// How far from the median an honest score may be in this runtime.
pub const TOLERANCE: Score = 10;

/// A scorer of a concluded job: account, stake, deviation from the median (`None`: missed the reveal).
pub type JobScorer = (AccountId, Balance, Option<Score>);

thread_local! {
	/// Each job's scorers.
	static JOBS: RefCell<BTreeMap<JobId, Vec<JobScorer>>> = const { RefCell::new(BTreeMap::new()) };
}

/// Records that `job` concluded with these scorers.
pub fn set_job(job: JobId, scorers: Vec<JobScorer>) {
	JOBS.with(|jobs| jobs.borrow_mut().insert(job, scorers));
}

/// Plays the scoring pallet: honest means revealed within `tolerance` of the median.
pub struct MockScoring;
impl ScoringRecords<AccountId, Balance> for MockScoring {
	fn assessed_scorers(job: JobId, tolerance: Score) -> Vec<(AccountId, Balance, bool)> {
		JOBS.with(|jobs| {
			jobs.borrow()
				.get(&job)
				.map(|scorers| {
					scorers
						.iter()
						.map(|(who, stake, deviation)| {
							(*who, *stake, deviation.is_some_and(|d| d <= tolerance))
						})
						.collect()
				})
				.unwrap_or_default()
		})
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_concluded_job(scorers: &[(AccountId, Balance)]) -> JobId {
		let job = JOBS.with(|jobs| jobs.borrow().len() as JobId);
		set_job(job, scorers.iter().map(|(who, stake)| (*who, *stake, Some(0))).collect());
		job
	}
}

pub const ENDOWMENT: Balance = 1_000_000;

/// Externalities with the rewards account created at genesis, at block 1; `try_state` runs after
/// every test.
pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build() -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: (1..=20).map(|who| (who, ENDOWMENT)).collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_rewards::GenesisConfig::<Test>::default().assimilate_storage(&mut storage).unwrap();
		JOBS.with(|jobs| jobs.borrow_mut().clear());
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	pub fn build_and_execute(test: impl FnOnce()) {
		Self::build().execute_with(|| {
			test();
			Rewards::do_try_state().expect("rewards invariants hold after the test");
		});
	}
}
