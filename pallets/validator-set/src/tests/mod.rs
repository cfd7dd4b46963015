//! Joining, leaving, removal, planning sessions by bond, and when a bond may be withdrawn.

use crate::{mock::*, Candidates, Error, Event, PlannedSession, StakeGuard, Unbonding, Validators};
use frame_support::{assert_noop, assert_ok};
use pallet_session::{SessionManager, ShouldEndSession};
use sp_runtime::{DispatchError, Perbill};

fn plan(session: u32) -> Option<Vec<AccountId>> {
	<ValidatorSet as SessionManager<AccountId>>::new_session(session)
}

fn last_event() -> Event<Test> {
	System::events()
		.into_iter()
		.rev()
		.find_map(|r| match r.event {
			RuntimeEvent::ValidatorSet(e) => Some(e),
			_ => None,
		})
		.expect("an event")
}

#[test]
fn a_scorer_with_keys_and_enough_stake_joins() {
	ExtBuilder::build_and_execute(|| {
		set_scorer(3, Some(200));
		set_keys(3, true);
		assert_ok!(ValidatorSet::join(RuntimeOrigin::signed(3)));
		assert_eq!(Candidates::<Test>::get().into_inner(), vec![1, 2, 3]);
		assert_eq!(last_event(), Event::CandidateJoined { who: 3, bond: 200 });
	});
}

#[test]
fn joining_needs_a_scorer_with_enough_stake_and_session_keys() {
	ExtBuilder::build_and_execute(|| {
		assert_noop!(ValidatorSet::join(RuntimeOrigin::signed(3)), Error::<Test>::NotScorer);
		set_scorer(3, Some(99));
		assert_noop!(ValidatorSet::join(RuntimeOrigin::signed(3)), Error::<Test>::BondTooLow);
		set_scorer(3, Some(100));
		assert_noop!(ValidatorSet::join(RuntimeOrigin::signed(3)), Error::<Test>::NoSessionKeys);
		// Session keys whose scoring key is not the one 3 registered as a scorer: its node would
		// author blocks but could not sign a score.
		set_session_key(3, 4);
		assert_noop!(
			ValidatorSet::join(RuntimeOrigin::signed(3)),
			Error::<Test>::ScoringKeyMismatch
		);
		set_keys(3, true);
		assert_ok!(ValidatorSet::join(RuntimeOrigin::signed(3)));
		assert_noop!(ValidatorSet::join(RuntimeOrigin::signed(3)), Error::<Test>::AlreadyCandidate);
		assert_noop!(ValidatorSet::join(RuntimeOrigin::none()), DispatchError::BadOrigin);
	});
}

#[test]
fn candidates_are_bounded() {
	ExtBuilder::build_and_execute(|| {
		for who in 3..=5 {
			set_scorer(who, Some(100));
			set_keys(who, true);
			assert_ok!(ValidatorSet::join(RuntimeOrigin::signed(who)));
		}
		set_scorer(6, Some(100));
		set_keys(6, true);
		assert_noop!(
			ValidatorSet::join(RuntimeOrigin::signed(6)),
			Error::<Test>::TooManyCandidates
		);
	});
}

#[test]
fn each_session_takes_the_top_bonds_among_eligible_candidates() {
	ExtBuilder::build_and_execute(|| {
		for (who, stake) in [(3, 700), (4, 700), (5, 100)] {
			set_scorer(who, Some(stake));
			set_keys(who, true);
			assert_ok!(ValidatorSet::join(RuntimeOrigin::signed(who)));
		}
		// Three seats: 1 (1 000), then 3 and 4 (700 each, the lower account first); 2 (500) and 5 wait.
		assert_eq!(plan(1), Some(vec![1, 3, 4]));
		assert_eq!(Validators::<Test>::get().into_inner(), vec![1, 3, 4]);
		assert_eq!(PlannedSession::<Test>::get(), 1);
		assert_eq!(
			last_event(),
			Event::ValidatorSetPlanned { session: 1, validators: vec![1, 3, 4] }
		);
		// A candidate whose keys are gone, or whose stake fell below the minimum, is skipped.
		set_keys(3, false);
		set_scorer(4, Some(50));
		assert_eq!(plan(2), Some(vec![1, 2, 5]));
		// So is one whose session scoring key changed since it joined: it would never score.
		set_session_key(1, 9);
		assert_eq!(plan(3), Some(vec![2, 5]));
		set_keys(1, true);
		assert_eq!(plan(4), Some(vec![1, 2, 5]));
	});
}

#[test]
fn without_any_eligible_candidate_the_set_stays() {
	ExtBuilder::build_and_execute(|| {
		assert_eq!(plan(1), Some(vec![1, 2]));
		set_keys(1, false);
		set_keys(2, false);
		assert_eq!(plan(2), None);
		assert_eq!(Validators::<Test>::get().into_inner(), vec![1, 2]);
	});
}

#[test]
fn a_leaving_validator_s_bond_stays_bonded_for_the_unbonding_sessions() {
	ExtBuilder::build_and_execute(|| {
		assert_eq!(plan(1), Some(vec![1, 2]));
		assert!(!ValidatorSet::may_withdraw(&2), "a candidate's stake is its bond");
		assert_ok!(ValidatorSet::leave(RuntimeOrigin::signed(2)));
		assert_eq!(last_event(), Event::CandidateLeft { who: 2, free_from: 3 });
		assert_eq!(Unbonding::<Test>::get(2), Some(3));
		// Still in the planned set: bonded.
		assert!(!ValidatorSet::may_withdraw(&2));
		assert_eq!(plan(2), Some(vec![1]));
		// Out of the set, but unbonding until session 3.
		assert!(!ValidatorSet::may_withdraw(&2));
		assert_eq!(plan(3), Some(vec![1]));
		assert!(ValidatorSet::may_withdraw(&2));
		ValidatorSet::withdrawn(&2);
		assert_eq!(Unbonding::<Test>::get(2), None);
		// Someone who never joined may always withdraw.
		assert!(ValidatorSet::may_withdraw(&9));
		assert_noop!(ValidatorSet::leave(RuntimeOrigin::signed(2)), Error::<Test>::NotCandidate);
	});
}

#[test]
fn rejoining_cancels_the_unbonding() {
	ExtBuilder::build_and_execute(|| {
		assert_ok!(ValidatorSet::leave(RuntimeOrigin::signed(2)));
		assert_ok!(ValidatorSet::join(RuntimeOrigin::signed(2)));
		assert_eq!(Unbonding::<Test>::get(2), None);
	});
}

#[test]
fn governance_removes_a_candidate() {
	ExtBuilder::build_and_execute(|| {
		assert_noop!(
			ValidatorSet::remove(RuntimeOrigin::signed(1), 2, Perbill::zero()),
			DispatchError::BadOrigin
		);
		assert_ok!(ValidatorSet::remove(RuntimeOrigin::root(), 2, Perbill::zero()));
		assert_eq!(last_event(), Event::CandidateRemoved { who: 2, free_from: 2, slashed: 0 });
		assert_eq!(Candidates::<Test>::get().into_inner(), vec![1]);
		assert_eq!(stake(2), Some(500));
		assert_noop!(
			ValidatorSet::remove(RuntimeOrigin::root(), 2, Perbill::zero()),
			Error::<Test>::NotCandidate
		);
	});
}

#[test]
fn governance_removal_burns_the_slash_it_decides() {
	ExtBuilder::build_and_execute(|| {
		// A third of 1 000, rounded down.
		assert_ok!(ValidatorSet::remove(RuntimeOrigin::root(), 1, Perbill::from_rational(1u32, 3)));
		assert_eq!(last_event(), Event::CandidateRemoved { who: 1, free_from: 2, slashed: 333 });
		assert_eq!(stake(1), Some(667));
		assert_eq!(Unbonding::<Test>::get(1), Some(2));
		// A failed removal slashes nothing.
		assert_noop!(
			ValidatorSet::remove(RuntimeOrigin::root(), 1, Perbill::one()),
			Error::<Test>::NotCandidate
		);
		assert_eq!(stake(1), Some(667));
		// The whole bond.
		assert_ok!(ValidatorSet::remove(RuntimeOrigin::root(), 2, Perbill::one()));
		assert_eq!(last_event(), Event::CandidateRemoved { who: 2, free_from: 2, slashed: 500 });
		assert_eq!(stake(2), Some(0));
	});
}

#[test]
fn sessions_end_every_session_length_blocks() {
	ExtBuilder::build_and_execute(|| {
		assert!(!ValidatorSet::should_end_session(9));
		assert!(ValidatorSet::should_end_session(10));
		assert!(ValidatorSet::should_end_session(20));
		use frame_support::traits::EstimateNextSessionRotation;
		assert_eq!(ValidatorSet::estimate_next_session_rotation(13).0, Some(20));
		assert_eq!(ValidatorSet::average_session_length(), 10);
	});
}
