//! The rewards' logic: emission, the settlement formula (see the crate docs), claims, the
//! [`RoundRewards`] implementation and the `try_state` invariants.

use crate::{pallet::*, BalanceOf, RewardKind, WeightInfo};
use alloc::vec::Vec;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{fungible::Mutate, tokens::Preservation},
};
use modelchain_primitives::{JobId, RoundId, RoundRewards, RoundSettlement, ScoringRecords};
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{AtLeast32BitUnsigned, SaturatedConversion, Saturating, Zero},
	DispatchResult, Rounding,
};

const LOG_TARGET: &str = "runtime::rewards";

/// `amount × part / whole`, rounded down; zero when `whole` is zero.
fn mul_div<B: AtLeast32BitUnsigned + Copy>(amount: B, part: u128, whole: u128) -> B {
	if whole == 0 {
		return B::zero();
	}
	multiply_by_rational_with_rounding(amount.saturated_into::<u128>(), part, whole, Rounding::Down)
		.unwrap_or(0)
		.saturated_into()
}

/// Splits `amount` pro rata to `weights`, each part rounded down (so the parts add up to at most
/// `amount`). Weights whose sum would overflow are halved together until it does not, which keeps
/// their proportions to within a part in 2⁶⁴. All-zero weights get nothing.
pub(crate) fn split<B: AtLeast32BitUnsigned + Copy>(amount: B, weights: &[u128]) -> Vec<B> {
	let mut weights = weights.to_vec();
	let total = loop {
		match weights.iter().try_fold(0u128, |sum, w| sum.checked_add(*w)) {
			Some(total) => break total,
			None => weights.iter_mut().for_each(|w| *w >>= 1),
		}
	};
	weights.iter().map(|w| mul_div(amount, *w, total)).collect()
}

impl<T: Config> Pallet<T> {
	/// Adds `amount` to what `who` may claim.
	fn credit(who: &T::AccountId, amount: BalanceOf<T>) {
		if amount.is_zero() {
			return;
		}
		Pending::<T>::mutate(who, |pending| *pending = pending.saturating_add(amount));
		TotalUnclaimed::<T>::mutate(|total| *total = total.saturating_add(amount));
	}

	/// Credits `who` and says why.
	fn reward(who: &T::AccountId, amount: BalanceOf<T>, kind: RewardKind, round: Option<RoundId>) {
		if amount.is_zero() {
			return;
		}
		Self::credit(who, amount);
		Self::deposit_event(Event::RewardCredited { who: who.clone(), amount, kind, round });
	}

	/// Mints this block's emission: the treasury's share is credited to it, the rest joins the reserve.
	pub(crate) fn emit() {
		let amount = T::EmissionPerBlock::get();
		if amount.is_zero() {
			return;
		}
		if let Err(e) = T::Currency::mint_into(&Self::account_id(), amount) {
			log::error!(target: LOG_TARGET, "cannot mint the emission: {e:?}");
			return;
		}
		let to_treasury = T::TreasuryShare::get().mul_floor(amount);
		let to_reserve = amount.saturating_sub(to_treasury);
		Reserve::<T>::mutate(|reserve| *reserve = reserve.saturating_add(to_reserve));
		Self::credit(&T::Treasury::get(), to_treasury);
		Self::deposit_event(Event::Emitted { amount, to_reserve, to_treasury });
	}

	pub(crate) fn do_claim(who: T::AccountId) -> DispatchResult {
		let amount = Pending::<T>::get(&who);
		ensure!(!amount.is_zero(), Error::<T>::NothingToClaim);
		// The account keeps its existential deposit; it always holds what is credited (`try_state`).
		T::Currency::transfer(&Self::account_id(), &who, amount, Preservation::Preserve)?;
		Pending::<T>::remove(&who);
		TotalUnclaimed::<T>::mutate(|total| *total = total.saturating_sub(amount));
		Self::deposit_event(Event::RewardsClaimed { who, amount });
		Ok(())
	}

	/// Adds the scorers of `job` to `round`'s work. Returns how many scorers were read.
	pub(crate) fn do_note_job(round: RoundId, job: JobId) -> u32 {
		let scorers = T::Scoring::assessed_scorers(job, T::Tolerance::get());
		if scorers.is_empty() {
			return 0;
		}
		let count = scorers.len() as u32;
		Work::<T>::mutate(round, |work| {
			work.jobs.saturating_inc();
			for (who, stake, honest) in scorers {
				work.total = work.total.saturating_add(stake);
				if !honest {
					continue;
				}
				match work.honest.iter_mut().find(|(account, _)| *account == who) {
					Some((_, sum)) => *sum = sum.saturating_add(stake),
					None => {
						if work.honest.try_push((who, stake)).is_err() {
							log::warn!(target: LOG_TARGET, "round {round}: more honest scorers than MaxRoundScorers; the rest forfeit");
						}
					},
				}
			}
		});
		count
	}

	/// Settles a finished round by the formula in the crate docs.
	pub(crate) fn do_settle(settlement: RoundSettlement<T::AccountId, BalanceOf<T>>) {
		let RoundSettlement { round, pot, opener, contributions } = settlement;
		let at = Some(round);
		let work = Work::<T>::take(round);
		let emission = if contributions.is_empty() {
			Zero::zero()
		} else {
			let emission = T::RoundEmission::get().mul_floor(Reserve::<T>::get());
			Reserve::<T>::mutate(|reserve| *reserve = reserve.saturating_sub(emission));
			emission
		};
		let total = pot.saturating_add(emission);

		// Validators.
		let work_total: u128 = work.total.saturated_into();
		let validator_share =
			if work_total == 0 { Zero::zero() } else { T::ValidatorShare::get().mul_floor(total) };
		let mut validators = BalanceOf::<T>::zero();
		let mut honest_total = 0u128;
		for (who, stake) in work.honest.iter() {
			let stake: u128 = (*stake).saturated_into();
			honest_total = honest_total.saturating_add(stake);
			let amount = mul_div(validator_share, stake, work_total);
			validators = validators.saturating_add(amount);
			Self::reward(who, amount, RewardKind::Validator, at);
		}
		let forfeited =
			mul_div(validator_share, work_total.saturating_sub(honest_total), work_total);
		match T::ForfeitTo::get() {
			Some(to) => Self::reward(&to, forfeited, RewardKind::Treasury, at),
			None => Reserve::<T>::mutate(|reserve| *reserve = reserve.saturating_add(forfeited)),
		}

		// Contributors, or the opener.
		let for_contributors = total.saturating_sub(validator_share);
		let zero = BalanceOf::<T>::zero();
		let (mut compute, mut data, mut refund) = (zero, zero, zero);
		if contributions.is_empty() {
			refund = for_contributors;
			Self::reward(&opener, refund, RewardKind::Refund, at);
		} else {
			let mut weights: Vec<u128> = contributions
				.iter()
				.map(|c| (c.gain as u128).saturating_mul(c.samples as u128))
				.collect();
			if weights.iter().all(|w| *w == 0) {
				weights = contributions.iter().map(|c| c.samples as u128).collect();
			}
			for (contribution, share) in contributions.iter().zip(split(for_contributors, &weights))
			{
				let data_part = T::DataShare::get().mul_floor(share);
				let samples: Vec<u128> =
					contribution.data.iter().map(|(_, samples)| *samples as u128).collect();
				let mut data_paid = BalanceOf::<T>::zero();
				for ((owner, _), amount) in contribution.data.iter().zip(split(data_part, &samples))
				{
					data_paid = data_paid.saturating_add(amount);
					Self::reward(owner, amount, RewardKind::Data, at);
				}
				let compute_part = share.saturating_sub(data_part);
				Self::reward(&contribution.contributor, compute_part, RewardKind::Compute, at);
				compute = compute.saturating_add(compute_part);
				data = data.saturating_add(data_paid);
			}
		}

		let paid = compute
			.saturating_add(data)
			.saturating_add(validators)
			.saturating_add(refund)
			.saturating_add(forfeited);
		let dust = total.saturating_sub(paid);
		Reserve::<T>::mutate(|reserve| *reserve = reserve.saturating_add(dust));
		Self::deposit_event(Event::RoundSettled {
			round,
			pot,
			emission,
			compute,
			data_owners: data,
			validators,
			refund,
			forfeited,
			dust,
		});
	}
}

/// Training rounds hand their finished rounds, and their concluded jobs, to the rewards.
impl<T: Config> RoundRewards<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn account() -> T::AccountId {
		Self::account_id()
	}

	fn note_job(round: RoundId, job: JobId) -> Weight {
		let scorers = Self::do_note_job(round, job);
		T::WeightInfo::note_job(scorers)
	}

	fn note_job_weight() -> Weight {
		T::WeightInfo::note_job(T::MaxRoundScorers::get())
	}

	fn settle(settlement: RoundSettlement<T::AccountId, BalanceOf<T>>) -> Weight {
		let contributions = settlement.contributions.len() as u32;
		let datasets = settlement.contributions.iter().map(|c| c.data.len() as u32).sum();
		Self::do_settle(settlement);
		Self::settle_weight(contributions, datasets)
	}

	fn settle_weight(contributions: u32, datasets: u32) -> Weight {
		T::WeightInfo::settle(contributions, datasets, T::MaxRoundScorers::get())
	}
}

/// Invariants, checked by `try_state` (and after every unit test).
#[cfg(any(feature = "try-runtime", feature = "std"))]
impl<T: Config> Pallet<T> {
	/// - [`TotalUnclaimed`] is the sum of [`Pending`];
	/// - the rewards account holds at least its existential deposit plus [`Reserve`] plus
	///   [`TotalUnclaimed`], so every credit can be claimed;
	/// - a round's honest work is at most its total work.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::traits::fungible::Inspect;
		let sum = Pending::<T>::iter_values()
			.fold(BalanceOf::<T>::zero(), |sum, amount| sum.saturating_add(amount));
		ensure!(sum == TotalUnclaimed::<T>::get(), "TotalUnclaimed is not the sum of Pending");
		let needed = T::Currency::minimum_balance()
			.saturating_add(Reserve::<T>::get())
			.saturating_add(TotalUnclaimed::<T>::get());
		ensure!(
			T::Currency::balance(&Self::account_id()) >= needed,
			"the rewards account holds less than the reserve and the unclaimed rewards"
		);
		for (_, work) in Work::<T>::iter() {
			let honest = work
				.honest
				.iter()
				.fold(BalanceOf::<T>::zero(), |sum, (_, stake)| sum.saturating_add(*stake));
			ensure!(honest <= work.total, "a round's honest work exceeds its total work");
		}
		Ok(())
	}
}
