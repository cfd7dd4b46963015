//! The origins are told apart, and the timings come from genesis (production ones by default).

use crate::{self as pallet_governance, *};
use frame_support::{derive_impl, traits::EnsureOrigin};
use frame_system::RawOrigin;
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

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
	pub type Governance = pallet_governance;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

impl Config for Test {}

fn ext(timings: Option<TrackTimings<u64>>) -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_governance::GenesisConfig::<Test> { timings }.assimilate_storage(&mut storage).unwrap();
	sp_io::TestExternalities::new(storage)
}

#[test]
fn each_ensure_accepts_only_its_own_origin() {
	let promotion = || RuntimeOrigin::from(Origin::ModelPromotion);
	let rollback = || RuntimeOrigin::from(Origin::ModelRollback);
	assert!(EnsureModelPromotion::try_origin(promotion()).is_ok());
	assert!(EnsureModelPromotion::try_origin(rollback()).is_err());
	assert!(EnsureModelRollback::try_origin(rollback()).is_ok());
	assert!(EnsureModelRollback::try_origin(promotion()).is_err());
	for other in [RawOrigin::Root, RawOrigin::Signed(1), RawOrigin::None] {
		assert!(EnsureModelPromotion::try_origin(RuntimeOrigin::from(other.clone())).is_err());
		assert!(EnsureModelRollback::try_origin(RuntimeOrigin::from(other)).is_err());
	}
}

#[test]
fn without_genesis_timings_the_tracks_take_production_periods() {
	ext(None).execute_with(|| {
		let timings = Timings::<Test>::get();
		assert_eq!(timings, TrackTimings::production());
		// A week to decide a promotion, two days for a rollback, at 600 blocks an hour.
		assert_eq!(timings.promotion.decision, 7 * 24 * 600);
		assert_eq!(timings.rollback.decision, 2 * 24 * 600);
		assert!(timings.rollback.confirm < timings.promotion.confirm);
		Governance::do_try_state().unwrap();
	});
}

#[test]
fn a_development_genesis_sets_short_periods() {
	ext(Some(TrackTimings::development())).execute_with(|| {
		let timings = Timings::<Test>::get();
		assert_eq!(timings.promotion.prepare + timings.promotion.confirm, 5);
		assert!(timings.root.decision < 100);
		Governance::do_try_state().unwrap();
	});
}

#[test]
fn a_track_that_cannot_decide_breaks_the_invariants() {
	let mut broken = TrackTimings::<u64>::development();
	broken.rollback.confirm = 0;
	ext(Some(broken)).execute_with(|| {
		assert!(Governance::do_try_state().is_err());
	});
}
