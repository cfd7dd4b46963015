//! A test runtime: System, Balances and the registry, with Root as every privileged origin.

use crate as pallet_model_registry;
use core::cell::{Cell, RefCell};
use frame_support::weights::Weight;
use frame_support::{derive_impl, parameter_types, traits::ConstU32};
use frame_system::EnsureRoot;
use modelchain_primitives::{JobId, JobSpec, ScoreJobs};
use sp_runtime::{BuildStorage, DispatchError};

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
	type MaxVersionDatasets = ConstU32<4>;
	type MaxMetrics = ConstU32<4>;
	type MaxMetricKeyLen = ConstU32<16>;
	type MaxRollbackDepth = ConstU32<3>;
	type MaxLineage = ConstU32<8>;
	type PromoteOrigin = EnsureRoot<AccountId>;
	type RollbackOrigin = EnsureRoot<AccountId>;
	type EvaluationOrigin = EnsureRoot<AccountId>;
	type Scoring = MockScoring;
	type WeightInfo = ();
}

thread_local! {
	/// Jobs created through `MockScoring`, in order; their ids are their positions.
	pub static JOBS: RefCell<Vec<JobSpec>> = const { RefCell::new(Vec::new()) };
	/// When set, creating a job fails (as the scoring pallet does when too many jobs are open).
	pub static SCORING_FULL: Cell<bool> = const { Cell::new(false) };
}

/// Records the jobs the registry creates; the tests play the validators' outcomes back.
pub struct MockScoring;
impl ScoreJobs for MockScoring {
	fn create_job(spec: JobSpec) -> Result<JobId, DispatchError> {
		if SCORING_FULL.with(|f| f.get()) {
			return Err(DispatchError::Other("too many open jobs"));
		}
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

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
/// Has less than any deposit.
pub const PAUPER: AccountId = 4;
pub const ENDOWMENT: Balance = 1_000_000;

/// Externalities with endowed accounts at block 1; `try_state` runs after every test that uses it.
pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build() -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: vec![
				(ALICE, ENDOWMENT),
				(BOB, ENDOWMENT),
				(CHARLIE, ENDOWMENT),
				(PAUPER, 50),
			],
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		JOBS.with(|jobs| jobs.borrow_mut().clear());
		SCORING_FULL.with(|f| f.set(false));
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	pub fn build_and_execute(test: impl FnOnce()) {
		Self::build().execute_with(|| {
			test();
			Registry::do_try_state().expect("registry invariants hold after the test");
		});
	}
}
