//! A test runtime: System and the validator set. Scorers' stakes and session keys are set by the tests
//! (`set_scorer`, `set_keys`, `set_session_key`), as the scoring and session pallets record them. A
//! scorer's registered key is its account id; `set_keys` gives it session keys with that scoring key.

use crate as pallet_validator_set;
use core::cell::RefCell;
use frame_support::{derive_impl, parameter_types, traits::ConstU32};
use frame_system::EnsureRoot;
use modelchain_primitives::{ScorerStakes, SessionScoringKey};
use sp_runtime::BuildStorage;
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
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type ValidatorSet = pallet_validator_set;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

thread_local! {
	static STAKES: RefCell<BTreeMap<AccountId, Balance>> = const { RefCell::new(BTreeMap::new()) };
	static KEYS: RefCell<BTreeMap<AccountId, u64>> = const { RefCell::new(BTreeMap::new()) };
}

/// `who` is a registered scorer with `stake` (`None`: it unregistered).
pub fn set_scorer(who: AccountId, stake: Option<Balance>) {
	STAKES.with(|s| match stake {
		Some(stake) => s.borrow_mut().insert(who, stake),
		None => s.borrow_mut().remove(&who),
	});
}

/// `who`'s scorer stake, if it is a scorer.
pub fn stake(who: AccountId) -> Option<Balance> {
	STAKES.with(|s| s.borrow().get(&who).copied())
}

/// `who` has session keys whose scoring key is its scorer key, or no session keys.
pub fn set_keys(who: AccountId, registered: bool) {
	KEYS.with(|k| {
		if registered {
			k.borrow_mut().insert(who, who);
		} else {
			k.borrow_mut().remove(&who);
		}
	});
}

/// `who` has session keys whose scoring key is `key`.
pub fn set_session_key(who: AccountId, key: u64) {
	KEYS.with(|k| k.borrow_mut().insert(who, key));
}

pub struct MockScorers;
impl ScorerStakes<AccountId, Balance> for MockScorers {
	type Key = u64;

	fn scorer_of(who: &AccountId) -> Option<(Balance, u64)> {
		STAKES.with(|s| s.borrow().get(who).map(|stake| (*stake, *who)))
	}

	fn slash(who: &AccountId, fraction: sp_runtime::Perbill) -> Balance {
		STAKES.with(|s| {
			s.borrow_mut().get_mut(who).map_or(0, |stake| {
				let burned = fraction.mul_floor(*stake);
				*stake -= burned;
				burned
			})
		})
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_scorer(who: &AccountId, stake: Balance) {
		set_scorer(*who, Some(stake));
	}
}

pub struct MockKeys;
impl SessionScoringKey<AccountId, u64> for MockKeys {
	fn scoring_key(who: &AccountId) -> Option<u64> {
		KEYS.with(|k| k.borrow().get(who).copied())
	}
}

parameter_types! {
	pub const MinBond: Balance = 100;
}

impl pallet_validator_set::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	type Scorers = MockScorers;
	type SessionKeys = MockKeys;
	type RemoveOrigin = EnsureRoot<AccountId>;
	type MinBond = MinBond;
	type MaxCandidates = ConstU32<5>;
	type MaxValidators = ConstU32<3>;
	type UnbondSessions = ConstU32<2>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockKeys;
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId, u64> for MockKeys {
	fn register_keys(who: &AccountId, scoring: u64) {
		set_session_key(*who, scoring);
	}
}

/// Externalities where 1 and 2 are scorers with keys and the genesis candidates; `try_state` runs after
/// every test.
pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build() -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_validator_set::GenesisConfig::<Test> {
			candidates: vec![1, 2],
			session_length: Some(10),
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		STAKES.with(|s| s.borrow_mut().clear());
		KEYS.with(|k| k.borrow_mut().clear());
		for (who, stake) in [(1, 1_000), (2, 500)] {
			set_scorer(who, Some(stake));
			set_keys(who, true);
		}
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	pub fn build_and_execute(test: impl FnOnce()) {
		Self::build().execute_with(|| {
			test();
			ValidatorSet::do_try_state().expect("validator-set invariants hold after the test");
		});
	}
}
