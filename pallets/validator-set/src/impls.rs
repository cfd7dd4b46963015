//! Joining and leaving, planning each session's set (the session pallet's `SessionManager`), when
//! sessions end (`ShouldEndSession`), and the `try_state` invariants.

use crate::{pallet::*, SessionIndex, WeightInfo};
use alloc::vec::Vec;
use frame_support::{ensure, pallet_prelude::*, traits::EstimateNextSessionRotation};
use frame_system::pallet_prelude::BlockNumberFor;
use modelchain_primitives::{ScorerStakes, SessionScoringKey};
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchResult, Permill,
};

impl<T: Config> Pallet<T> {
	pub(crate) fn do_join(who: T::AccountId) -> DispatchResult {
		let bond = Self::eligible(&who)?;
		Candidates::<T>::try_mutate(|candidates| {
			ensure!(!candidates.contains(&who), Error::<T>::AlreadyCandidate);
			candidates.try_push(who.clone()).map_err(|_| Error::<T>::TooManyCandidates)
		})?;
		Unbonding::<T>::remove(&who);
		Self::deposit_event(Event::CandidateJoined { who, bond });
		Ok(())
	}

	/// Drops `who` from the candidates; returns the session from which its bond is free.
	pub(crate) fn do_leave(who: &T::AccountId) -> Result<SessionIndex, DispatchError> {
		Candidates::<T>::try_mutate(|candidates| {
			let at = candidates.iter().position(|c| c == who).ok_or(Error::<T>::NotCandidate)?;
			candidates.remove(at);
			Ok::<_, DispatchError>(())
		})?;
		let free_from = PlannedSession::<T>::get().saturating_add(T::UnbondSessions::get());
		Unbonding::<T>::insert(who, free_from);
		Ok(free_from)
	}

	/// `who`'s bond if it may validate: a scorer bonded with at least `MinBond` whose session
	/// scoring key is its scorer key. Checked on joining and again at every planning, since stake
	/// and keys may change after joining.
	fn eligible(who: &T::AccountId) -> Result<T::Balance, Error<T>> {
		let (bond, key) = T::Scorers::scorer_of(who).ok_or(Error::<T>::NotScorer)?;
		ensure!(bond >= T::MinBond::get(), Error::<T>::BondTooLow);
		let session_key = T::SessionKeys::scoring_key(who).ok_or(Error::<T>::NoSessionKeys)?;
		ensure!(session_key == key, Error::<T>::ScoringKeyMismatch);
		Ok(bond)
	}

	/// The top `MaxValidators` eligible candidates by bond (ties: the lower account), or `None` when
	/// none is eligible (the current set then stays).
	pub(crate) fn plan(session: SessionIndex) -> Option<Vec<T::AccountId>> {
		let mut ranked: Vec<(T::AccountId, T::Balance)> = Candidates::<T>::get()
			.into_iter()
			.filter_map(|who| Self::eligible(&who).ok().map(|bond| (who, bond)))
			.collect();
		if ranked.is_empty() {
			log::warn!(target: "runtime::validator-set", "no eligible candidate for session {session}: the set stays");
			return None;
		}
		ranked.sort_by(|(a, bond_a), (b, bond_b)| bond_b.cmp(bond_a).then_with(|| a.cmp(b)));
		ranked.truncate(T::MaxValidators::get() as usize);
		let validators: Vec<T::AccountId> = ranked.into_iter().map(|(who, _)| who).collect();
		Validators::<T>::put(BoundedVec::truncate_from(validators.clone()));
		PlannedSession::<T>::put(session);
		Self::deposit_event(Event::ValidatorSetPlanned { session, validators: validators.clone() });
		Some(validators)
	}

	/// Checks the pallet's invariants:
	/// - no account is a candidate twice, and no candidate is unbonding;
	/// - the planned set is not empty once a session was planned, and has no duplicates.
	#[cfg(any(feature = "try-runtime", feature = "std"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let candidates = Candidates::<T>::get();
		let mut sorted = candidates.to_vec();
		sorted.sort();
		sorted.dedup();
		ensure!(sorted.len() == candidates.len(), "a candidate is listed twice");
		ensure!(
			candidates.iter().all(|c| !Unbonding::<T>::contains_key(c)),
			"a candidate is unbonding"
		);
		let validators = Validators::<T>::get();
		let mut unique = validators.to_vec();
		unique.sort();
		unique.dedup();
		ensure!(unique.len() == validators.len(), "a validator is listed twice");
		Ok(())
	}
}

impl<T: Config> pallet_session::SessionManager<T::AccountId> for Pallet<T> {
	fn new_session(new_index: SessionIndex) -> Option<Vec<T::AccountId>> {
		let planned = Self::plan(new_index);
		frame_system::Pallet::<T>::register_extra_weight_unchecked(
			T::WeightInfo::plan_session(T::MaxCandidates::get()),
			DispatchClass::Mandatory,
		);
		planned
	}

	fn end_session(_: SessionIndex) {}

	fn start_session(_: SessionIndex) {}
}

/// A session ends every [`SessionLength`] blocks.
impl<T: Config> pallet_session::ShouldEndSession<BlockNumberFor<T>> for Pallet<T> {
	fn should_end_session(now: BlockNumberFor<T>) -> bool {
		let length = SessionLength::<T>::get();
		!length.is_zero() && (now % length).is_zero()
	}
}

impl<T: Config> EstimateNextSessionRotation<BlockNumberFor<T>> for Pallet<T> {
	fn average_session_length() -> BlockNumberFor<T> {
		SessionLength::<T>::get()
	}

	fn estimate_current_session_progress(now: BlockNumberFor<T>) -> (Option<Permill>, Weight) {
		let length = SessionLength::<T>::get();
		let progress = if length.is_zero() {
			None
		} else {
			let into = (now % length).saturating_add(1u32.into());
			Some(Permill::from_rational(into, length))
		};
		(progress, T::DbWeight::get().reads(1))
	}

	fn estimate_next_session_rotation(
		now: BlockNumberFor<T>,
	) -> (Option<BlockNumberFor<T>>, Weight) {
		let length = SessionLength::<T>::get();
		let next = if length.is_zero() {
			None
		} else {
			Some(now.saturating_add(length.saturating_sub(now % length)))
		};
		(next, T::DbWeight::get().reads(1))
	}
}
