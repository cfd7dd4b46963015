//! Benchmarks of the claim, the per-block emission, noting a job's scorers and settling a round.

use super::*;
use crate::{Pending, Reserve, TotalUnclaimed, Work};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, Get};
use frame_system::RawOrigin;
use modelchain_primitives::{Contribution, RoundRewards, RoundSettlement, ScoringRecords};
use sp_runtime::traits::{Bounded, Saturating};

fn big<T: Config>() -> BalanceOf<T> {
	BalanceOf::<T>::max_value() / 1_000_000u32.into()
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A claim that creates the claimant's account.
	#[benchmark]
	fn claim_rewards() {
		let who: T::AccountId = account("claimant", 0, 0);
		let amount = T::Currency::minimum_balance().saturating_mul(100u32.into());
		T::Currency::mint_into(&Pallet::<T>::account_id(), amount).expect("minted");
		Pending::<T>::insert(&who, amount);
		TotalUnclaimed::<T>::mutate(|total| *total = total.saturating_add(amount));
		let caller: T::AccountId = whitelisted_caller();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), who.clone());

		assert_eq!(Pending::<T>::get(&who), 0u32.into());
	}

	/// One block's emission.
	#[benchmark]
	fn emit() {
		let before = Reserve::<T>::get();
		#[block]
		{
			Pallet::<T>::emit();
		}
		assert!(Reserve::<T>::get() >= before);
	}

	/// Noting a job whose `s` scorers are all honest and new to the round.
	#[benchmark]
	fn note_job(s: Linear<1, { T::MaxRoundScorers::get() }>) {
		let stake = T::Currency::minimum_balance();
		let scorers: Vec<(T::AccountId, BalanceOf<T>)> =
			(0..s).map(|i| (account("scorer", i, 0), stake)).collect();
		let job = T::Scoring::benchmark_concluded_job(&scorers);
		#[block]
		{
			<Pallet<T> as RoundRewards<_, _>>::note_job(0, job);
		}
		assert_eq!(Work::<T>::get(0).honest.len() as u32, s);
	}

	/// Settling a round with `c` accepted updates declaring `d` datasets together, and `v` honest
	/// scorers.
	#[benchmark]
	fn settle(
		c: Linear<0, { T::MaxContributions::get() }>,
		d: Linear<0, { T::MaxContributionData::get() }>,
		v: Linear<0, { T::MaxRoundScorers::get() }>,
	) {
		let stake = T::Currency::minimum_balance();
		let scorers: Vec<(T::AccountId, BalanceOf<T>)> =
			(0..v).map(|i| (account("scorer", i, 0), stake)).collect();
		if v > 0 {
			let job = T::Scoring::benchmark_concluded_job(&scorers);
			<Pallet<T> as RoundRewards<_, _>>::note_job(0, job);
		}
		let mut contributions: Vec<Contribution<T::AccountId>> = (0..c)
			.map(|i| Contribution {
				contributor: account("contributor", i, 0),
				gain: 1_000 + i as u64,
				samples: 1_000,
				data: Vec::new(),
			})
			.collect();
		if c > 0 {
			for i in 0..d {
				let owner = account("owner", i, 0);
				contributions[(i % c) as usize].data.push((owner, 100 + i as u64));
			}
		}
		// The emission reserve tops the round up when it has contributions.
		Pallet::<T>::emit();
		let pot = big::<T>();
		T::Currency::mint_into(&Pallet::<T>::account_id(), pot).expect("minted");
		let opener: T::AccountId = account("opener", 0, 0);
		#[block]
		{
			<Pallet<T> as RoundRewards<_, _>>::settle(RoundSettlement {
				round: 0,
				pot,
				opener,
				contributions,
			});
		}
		assert!(!Work::<T>::contains_key(0));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::ExtBuilder::build(), crate::mock::Test);
}
