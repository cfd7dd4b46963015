//! OpenGov: preimages, the scheduler, conviction voting and referenda, with three tracks.
//!
//! | id | track | origin | decision deposit | decided at once | passes with |
//! | --- | --- | --- | --- | --- | --- |
//! | 0 | `root` | `Root` | 1 000 MDL | 1 | approval 100 % → 50 %, support 50 % → 5 % |
//! | 1 | `model_promotion` | `Governance::ModelPromotion` (the registry's `PromoteOrigin`) | 100 MDL | 10 | approval 100 % → 50 %, support 10 % → 1 % |
//! | 2 | `model_rollback` | `Governance::ModelRollback` (the registry's `RollbackOrigin`) | 10 MDL | 10 | approval 100 % → 50 %, support 5 % → 0.5 % |
//!
//! Thresholds fall linearly over the decision period. The periods are
//! [`pallet_governance::Timings`], set by the genesis preset (short on dev and local networks).

use super::*;
use alloc::borrow::Cow;
use frame_support::traits::{
	fungible::HoldConsideration, EqualPrivilegeOnly, LinearStoragePrice, OriginTrait,
};
use frame_system::EnsureSigned;
use pallet_referenda::{Curve, Track, TrackInfo};
use sp_runtime::str_array as name;

use crate::{OriginCaller, Preimage, Referenda, Scheduler};

parameter_types! {
	pub const PreimageBaseDeposit: Balance = UNIT;
	pub const PreimageByteDeposit: Balance = MICRO_UNIT * 10;
	pub const PreimageHoldReason: RuntimeHoldReason =
		RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
}

impl pallet_preimage::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_preimage::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type ManagerOrigin = EnsureRoot<AccountId>;
	type Consideration = HoldConsideration<
		AccountId,
		Balances,
		PreimageHoldReason,
		LinearStoragePrice<PreimageBaseDeposit, PreimageByteDeposit, Balance>,
	>;
}

parameter_types! {
	/// Scheduled calls may use 80 % of a block.
	pub MaximumSchedulerWeight: Weight =
		Perbill::from_percent(80) * RuntimeBlockWeights::get().max_block;
}

impl pallet_scheduler::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeOrigin = RuntimeOrigin;
	type PalletsOrigin = OriginCaller;
	type RuntimeCall = RuntimeCall;
	type MaximumWeight = MaximumSchedulerWeight;
	// Only referenda schedule (through their own path); nobody schedules directly but root.
	type ScheduleOrigin = EnsureRoot<AccountId>;
	type MaxScheduledPerBlock = ConstU32<50>;
	type WeightInfo = pallet_scheduler::weights::SubstrateWeight<Runtime>;
	type OriginPrivilegeCmp = EqualPrivilegeOnly;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

parameter_types! {
	/// Votes stay locked for a day per conviction doubling (one day at 1x).
	pub const VoteLockingPeriod: BlockNumber = DAYS;
}

impl pallet_conviction_voting::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_conviction_voting::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type Polls = Referenda;
	type MaxTurnout = frame_support::traits::TotalIssuanceOf<Balances, AccountId>;
	type MaxVotes = ConstU32<64>;
	type VoteLockingPeriod = VoteLockingPeriod;
	type BlockNumberProvider = System;
	type VotingHooks = ();
}

parameter_types! {
	pub const SubmissionDeposit: Balance = UNIT;
	pub const UndecidingTimeout: BlockNumber = 14 * DAYS;
	pub const AlarmInterval: BlockNumber = 1;
}

impl pallet_referenda::Config for Runtime {
	type RuntimeCall = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_referenda::weights::SubstrateWeight<Runtime>;
	type Scheduler = Scheduler;
	type Currency = Balances;
	type SubmitOrigin = EnsureSigned<AccountId>;
	type CancelOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	type Slash = ();
	type Votes = pallet_conviction_voting::VotesOf<Runtime>;
	type Tally = pallet_conviction_voting::TallyOf<Runtime>;
	type SubmissionDeposit = SubmissionDeposit;
	type MaxQueued = ConstU32<100>;
	type UndecidingTimeout = UndecidingTimeout;
	type AlarmInterval = AlarmInterval;
	type Tracks = Tracks;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

impl pallet_governance::Config for Runtime {}

/// The root track.
pub const ROOT_TRACK: u16 = 0;
/// The model promotion track.
pub const PROMOTION_TRACK: u16 = 1;
/// The model rollback track.
pub const ROLLBACK_TRACK: u16 = 2;

/// A threshold falling linearly from `ceil` to `floor` (percent) over the decision period.
const fn linear(floor: u32, ceil: u32) -> Curve {
	Curve::LinearDecreasing {
		length: Perbill::from_percent(100),
		floor: Perbill::from_percent(floor),
		ceil: Perbill::from_percent(ceil),
	}
}

/// A threshold falling linearly from `ceil` to `floor` (per mille) over the decision period.
const fn linear_permille(floor: u32, ceil: u32) -> Curve {
	Curve::LinearDecreasing {
		length: Perbill::from_percent(100),
		floor: Perbill::from_perthousand(floor),
		ceil: Perbill::from_perthousand(ceil),
	}
}

/// The referendum tracks; their periods come from [`pallet_governance::Timings`].
pub struct Tracks;

impl pallet_referenda::TracksInfo<Balance, BlockNumber> for Tracks {
	type Id = u16;
	type RuntimeOrigin = <RuntimeOrigin as OriginTrait>::PalletsOrigin;

	fn tracks() -> impl Iterator<Item = Cow<'static, Track<Self::Id, Balance, BlockNumber>>> {
		let timings = pallet_governance::Timings::<Runtime>::get();
		let track = |id,
		             label: &str,
		             max_deciding,
		             deposit,
		             timing: pallet_governance::Timing<_>,
		             min_approval,
		             min_support| {
			Cow::Owned(Track {
				id,
				info: TrackInfo {
					name: name(label),
					max_deciding,
					decision_deposit: deposit,
					prepare_period: timing.prepare,
					decision_period: timing.decision,
					confirm_period: timing.confirm,
					min_enactment_period: timing.min_enactment,
					min_approval,
					min_support,
				},
			})
		};
		[
			track(
				ROOT_TRACK,
				"root",
				1,
				1_000 * UNIT,
				timings.root,
				linear(50, 100),
				linear(5, 50),
			),
			track(
				PROMOTION_TRACK,
				"model_promotion",
				10,
				100 * UNIT,
				timings.promotion,
				linear(50, 100),
				linear(1, 10),
			),
			track(
				ROLLBACK_TRACK,
				"model_rollback",
				10,
				10 * UNIT,
				timings.rollback,
				linear(50, 100),
				linear_permille(5, 50),
			),
		]
		.into_iter()
	}

	fn track_for(origin: &Self::RuntimeOrigin) -> Result<Self::Id, ()> {
		if let Ok(system) = frame_system::RawOrigin::<AccountId>::try_from(origin.clone()) {
			return match system {
				frame_system::RawOrigin::Root => Ok(ROOT_TRACK),
				_ => Err(()),
			};
		}
		match pallet_governance::Origin::try_from(origin.clone()) {
			Ok(pallet_governance::Origin::ModelPromotion) => Ok(PROMOTION_TRACK),
			Ok(pallet_governance::Origin::ModelRollback) => Ok(ROLLBACK_TRACK),
			Err(_) => Err(()),
		}
	}
}

/// The registry's `PromoteOrigin`: a passed model promotion referendum, or root.
pub type PromoteOrigin = frame_support::traits::EitherOfDiverse<
	EnsureRoot<AccountId>,
	pallet_governance::EnsureModelPromotion,
>;
/// The registry's `RollbackOrigin`: a passed model rollback referendum, or root.
pub type RollbackOrigin = frame_support::traits::EitherOfDiverse<
	EnsureRoot<AccountId>,
	pallet_governance::EnsureModelRollback,
>;
