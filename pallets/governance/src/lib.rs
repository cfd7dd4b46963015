//! # Governance origins
//!
//! The origins that referenda dispatch model decisions with, and the timing of their tracks.
//!
//! - [`Origin::ModelPromotion`]: a referendum on the *model promotion* track passed. The runtime makes
//!   it the registry's `PromoteOrigin`: `modelRegistry.setCanonical(model, version)` becomes canonical
//!   only by this vote (or by root). The registry still refuses a version that is not `Validated` or is
//!   below the model's threshold, so a referendum for one fails at enactment with the registry's error.
//! - [`Origin::ModelRollback`]: a referendum on the faster *model rollback* track passed; the registry's
//!   `RollbackOrigin`, which returns a model to its last verified canonical version.
//!
//! The tracks themselves (deposits, curves, how many are decided at once) are the runtime's
//! `pallet_referenda::TracksInfo`; their periods are [`Timings`], set per network in the genesis preset:
//! a development network decides in a few dozen blocks, a production one in days. A runtime upgrade (a
//! root referendum) changes them.

#![cfg_attr(not(feature = "std"), no_std)]

pub use pallet::*;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::{EnsureOrigin, OriginTrait},
	Deserialize, Serialize,
};
use scale_info::TypeInfo;

#[cfg(test)]
mod tests;

/// The periods of one referendum track, in blocks.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
	Serialize,
	Deserialize,
)]
#[serde(crate = "frame_support::__private::serde", rename_all = "camelCase")]
pub struct Timing<BlockNumber> {
	/// Before a referendum can start being decided (once its decision deposit is placed).
	pub prepare: BlockNumber,
	/// How long it may be decided before it times out.
	pub decision: BlockNumber,
	/// How long the approval and support thresholds must hold before it passes.
	pub confirm: BlockNumber,
	/// The least delay between passing and enactment.
	pub min_enactment: BlockNumber,
}

/// The periods of every track.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
	Serialize,
	Deserialize,
)]
#[serde(crate = "frame_support::__private::serde", rename_all = "camelCase")]
pub struct TrackTimings<BlockNumber> {
	/// Root: runtime upgrades and every other privileged call.
	pub root: Timing<BlockNumber>,
	/// Model promotion: a validated version becomes canonical.
	pub promotion: Timing<BlockNumber>,
	/// Model rollback: back to the last verified version (faster: it is the safety valve).
	pub rollback: Timing<BlockNumber>,
}

impl<BlockNumber: From<u32> + Copy> TrackTimings<BlockNumber> {
	/// Production periods at 6-second blocks (600 blocks an hour).
	pub fn production() -> Self {
		const HOUR: u32 = 600;
		const DAY: u32 = 24 * HOUR;
		let timing = |prepare: u32, decision: u32, confirm: u32, min_enactment: u32| Timing {
			prepare: prepare.into(),
			decision: decision.into(),
			confirm: confirm.into(),
			min_enactment: min_enactment.into(),
		};
		Self {
			root: timing(2 * HOUR, 14 * DAY, DAY, DAY),
			promotion: timing(HOUR, 7 * DAY, 12 * HOUR, HOUR),
			rollback: timing(HOUR / 6, 2 * DAY, HOUR, 1),
		}
	}

	/// Development periods: a referendum that everyone supports passes about 10 blocks after its
	/// decision deposit, so tests of whole referenda run in a minute.
	pub fn development() -> Self {
		let fast = Timing {
			prepare: 2u32.into(),
			decision: 40u32.into(),
			confirm: 3u32.into(),
			min_enactment: 1u32.into(),
		};
		Self { root: fast, promotion: fast, rollback: fast }
	}
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::BlockNumberFor;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {}

	/// The origins referenda dispatch model decisions with.
	#[pallet::origin]
	#[derive(
		Clone,
		Copy,
		PartialEq,
		Eq,
		Encode,
		Decode,
		DecodeWithMemTracking,
		MaxEncodedLen,
		TypeInfo,
		Debug,
	)]
	pub enum Origin {
		/// A model promotion referendum passed.
		ModelPromotion,
		/// A model rollback referendum passed.
		ModelRollback,
	}

	/// Production periods unless the genesis preset says otherwise.
	#[pallet::type_value]
	pub fn DefaultTimings<T: Config>() -> TrackTimings<BlockNumberFor<T>> {
		TrackTimings::production()
	}

	/// The periods of the referendum tracks.
	#[pallet::storage]
	pub type Timings<T: Config> =
		StorageValue<_, TrackTimings<BlockNumberFor<T>>, ValueQuery, DefaultTimings<T>>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The tracks' periods; production periods when `None`.
		pub timings: Option<TrackTimings<BlockNumberFor<T>>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if let Some(timings) = self.timings {
				Timings::<T>::put(timings);
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	impl<T: Config> Pallet<T> {
		/// Every track can decide: no period is zero except the enactment delay.
		#[cfg(any(feature = "try-runtime", feature = "std"))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use sp_runtime::traits::Zero;
			let timings = Timings::<T>::get();
			for timing in [timings.root, timings.promotion, timings.rollback] {
				ensure!(
					!timing.decision.is_zero() && !timing.confirm.is_zero(),
					"a track has no decision or confirmation period"
				);
			}
			Ok(())
		}
	}
}

/// Ensures a model promotion referendum passed.
pub struct EnsureModelPromotion;
/// Ensures a model rollback referendum passed.
pub struct EnsureModelRollback;

macro_rules! ensure_governance_origin {
	($ensure:ident, $variant:ident) => {
		impl<O: OriginTrait + From<Origin>> EnsureOrigin<O> for $ensure
		where
			for<'a> &'a O::PalletsOrigin: TryInto<&'a Origin>,
		{
			type Success = ();

			fn try_origin(o: O) -> Result<Self::Success, O> {
				let ours = matches!(o.caller().try_into(), Ok(Origin::$variant));
				if ours {
					Ok(())
				} else {
					Err(o)
				}
			}

			#[cfg(feature = "runtime-benchmarks")]
			fn try_successful_origin() -> Result<O, ()> {
				Ok(O::from(Origin::$variant))
			}
		}
	};
}

ensure_governance_origin!(EnsureModelPromotion, ModelPromotion);
ensure_governance_origin!(EnsureModelRollback, ModelRollback);
