//! Registering and unregistering scorers.

use super::*;
use crate::Event;
use frame_support::{assert_noop, traits::fungible::InspectHold};

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ScorerStake.into(), &who)
}

#[test]
fn registering_holds_the_stake_and_maps_the_key() {
	ExtBuilder::build_and_execute(|| {
		let key = register_with(ALICE, 500);
		assert_eq!(held(ALICE), 500);
		assert_eq!(ScorerAccounts::<Test>::get(&key), Some(ALICE));
		let scorer = Scorers::<Test>::get(ALICE).unwrap();
		assert_eq!((scorer.key, scorer.stake, scorer.missed_reveals), (key.clone(), 500, 0));
		System::assert_last_event(
			Event::ScorerRegistered { scorer: ALICE, key, stake: 500 }.into(),
		);
	});
}

#[test]
fn an_account_registers_once_and_a_key_belongs_to_one_scorer() {
	ExtBuilder::build_and_execute(|| {
		let key = register(ALICE);
		assert_noop!(
			Scoring::register_scorer(RuntimeOrigin::signed(ALICE), new_key(), MIN_STAKE),
			Error::<Test>::AlreadyScorer
		);
		assert_noop!(
			Scoring::register_scorer(RuntimeOrigin::signed(BOB), key, MIN_STAKE),
			Error::<Test>::KeyInUse
		);
	});
}

#[test]
fn the_stake_must_reach_the_minimum_and_be_there() {
	ExtBuilder::build_and_execute(|| {
		assert_noop!(
			Scoring::register_scorer(RuntimeOrigin::signed(ALICE), new_key(), MIN_STAKE - 1),
			Error::<Test>::StakeTooLow
		);
		assert!(
			Scoring::register_scorer(RuntimeOrigin::signed(PAUPER), new_key(), MIN_STAKE).is_err()
		);
		assert!(!Scorers::<Test>::contains_key(PAUPER));
		assert_eq!(Balances::free_balance(PAUPER), 50);
	});
}

#[test]
fn no_more_than_max_scorers_register() {
	ExtBuilder::build_and_execute(|| {
		for who in 100..100 + MAX_SCORERS as u64 {
			fund(who);
			register(who);
		}
		let late = 200;
		fund(late);
		assert_noop!(
			Scoring::register_scorer(RuntimeOrigin::signed(late), new_key(), MIN_STAKE),
			Error::<Test>::TooManyScorers
		);
	});
}

#[test]
fn unregistering_releases_the_stake_and_frees_the_key() {
	ExtBuilder::build_and_execute(|| {
		let key = register_with(ALICE, 300);
		assert_ok!(Scoring::unregister_scorer(RuntimeOrigin::signed(ALICE)));
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::free_balance(ALICE), ENDOWMENT);
		assert!(!ScorerAccounts::<Test>::contains_key(&key));
		System::assert_last_event(Event::ScorerUnregistered { scorer: ALICE, stake: 300 }.into());
		// The key can be registered again, by anyone.
		assert_ok!(Scoring::register_scorer(RuntimeOrigin::signed(BOB), key, MIN_STAKE));
	});
}

#[test]
fn a_slash_burns_from_the_held_stake_and_lowers_the_stake() {
	use modelchain_primitives::ScorerStakes;
	use sp_runtime::Perbill;
	ExtBuilder::build_and_execute(|| {
		let key = register_with(ALICE, 1_000);
		let issuance = Balances::total_issuance();
		// A third, rounded down: burned, not moved anywhere.
		assert_eq!(
			<Scoring as ScorerStakes<_, _>>::slash(&ALICE, Perbill::from_rational(1u32, 3)),
			333
		);
		assert_eq!(held(ALICE), 667);
		assert_eq!(Balances::total_issuance(), issuance - 333);
		assert_eq!(Balances::free_balance(ALICE), ENDOWMENT - 1_000);
		assert_eq!(<Scoring as ScorerStakes<_, _>>::scorer_of(&ALICE), Some((667, key)));
		System::assert_last_event(Event::ScorerSlashed { scorer: ALICE, amount: 333 }.into());
		// Nothing to burn: no event, nothing changes.
		let events = System::events().len();
		assert_eq!(<Scoring as ScorerStakes<_, _>>::slash(&ALICE, Perbill::zero()), 0);
		assert_eq!(<Scoring as ScorerStakes<_, _>>::slash(&BOB, Perbill::one()), 0);
		assert_eq!(System::events().len(), events);
		// What is left is released on leaving.
		assert_ok!(Scoring::unregister_scorer(RuntimeOrigin::signed(ALICE)));
		assert_eq!(Balances::free_balance(ALICE), ENDOWMENT - 333);
	});
}

#[test]
fn a_scorer_with_open_commitments_cannot_leave() {
	ExtBuilder::build_and_execute(|| {
		let key = register(ALICE);
		register(BOB);
		let first = create_job(1);
		let job = create_job(2);
		// Committed to the second of two open jobs.
		assert_ok!(commit(job, &key, Verdict::Scored(5), SALT));
		assert_noop!(
			Scoring::unregister_scorer(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::ScorerBusy
		);
		// A scorer that committed to none of the open jobs may leave.
		assert_ok!(Scoring::unregister_scorer(RuntimeOrigin::signed(BOB)));
		run_to(conclusion(job));
		assert!(!Jobs::<Test>::contains_key(first));
		assert_ok!(Scoring::unregister_scorer(RuntimeOrigin::signed(ALICE)));
	});
}

#[test]
fn only_scorers_unregister() {
	ExtBuilder::build_and_execute(|| {
		assert_noop!(
			Scoring::unregister_scorer(RuntimeOrigin::signed(BOB)),
			Error::<Test>::NotScorer
		);
	});
}

fn fund(who: AccountId) {
	use frame_support::traits::fungible::Mutate;
	assert_ok!(Balances::mint_into(&who, ENDOWMENT));
}
