//! Benchmarks of joining, leaving, removal and planning a session.

use super::*;
use crate::{Candidates, Validators};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::traits::{EnsureOrigin, Get};
use frame_system::RawOrigin;
use modelchain_primitives::ScorerStakes;
use sp_runtime::Perbill;

/// A scorer with session keys (its scorer key among them) and `MinBond` plus `extra`, not a
/// candidate yet.
fn scorer<T: Config>(name: &'static str, index: u32, extra: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Scorers::benchmark_scorer(&who, T::MinBond::get() + extra.into());
	let (_, key) = T::Scorers::scorer_of(&who).expect("registered");
	T::BenchmarkHelper::register_keys(&who, key);
	who
}

/// `count` candidates.
fn candidates<T: Config>(count: u32) -> Vec<T::AccountId> {
	(0..count)
		.map(|i| {
			let who = scorer::<T>("candidate", i, i);
			Pallet::<T>::do_join(who.clone()).expect("joins");
			who
		})
		.collect()
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Joining behind `MaxCandidates − 1` others.
	#[benchmark]
	fn join() {
		Candidates::<T>::kill();
		candidates::<T>(T::MaxCandidates::get() - 1);
		let who = scorer::<T>("joiner", 0, 0);
		whitelist_account!(who);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(Candidates::<T>::get().contains(&who));
	}

	/// Leaving from the end of a full list.
	#[benchmark]
	fn leave() {
		Candidates::<T>::kill();
		let who = candidates::<T>(T::MaxCandidates::get()).pop().expect("a candidate");
		whitelist_account!(who);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(!Candidates::<T>::get().contains(&who));
	}

	/// Removing the last of a full list, slashing half its bond.
	#[benchmark]
	fn remove() -> Result<(), BenchmarkError> {
		Candidates::<T>::kill();
		let who = candidates::<T>(T::MaxCandidates::get()).pop().expect("a candidate");
		let (bond, _) = T::Scorers::scorer_of(&who).expect("a scorer");
		let origin =
			T::RemoveOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone(), Perbill::from_percent(50));
		assert!(!Candidates::<T>::get().contains(&who));
		assert!(T::Scorers::scorer_of(&who).expect("a scorer").0 < bond);
		Ok(())
	}

	/// Planning a session from `c` candidates.
	#[benchmark]
	fn plan_session(c: Linear<1, { T::MaxCandidates::get() }>) {
		Candidates::<T>::kill();
		candidates::<T>(c);
		#[block]
		{
			Pallet::<T>::plan(1);
		}
		assert!(!Validators::<T>::get().is_empty());
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::ExtBuilder::build(), crate::mock::Test);
}
