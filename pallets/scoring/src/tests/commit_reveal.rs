//! Commits and reveals: the happy path and every way they are refused, both by the pool (the
//! `#[pallet::authorize]` check) and by the call itself.

use super::*;
use crate::Event;
use frame_support::assert_noop;
use sp_runtime::transaction_validity::InvalidTransaction;

#[test]
fn a_commit_then_its_reveal_record_the_verdict() {
	ExtBuilder::build_and_execute(|| {
		let key = register(ALICE);
		let job = create_job(1);
		let (record, scorer) = (Jobs::<Test>::get(job), Scorers::<Test>::get(ALICE));
		assert_ok!(commit(job, &key, Verdict::Scored(900), SALT));
		System::assert_last_event(Event::ScoreCommitted { job, scorer: ALICE }.into());
		let participation = Participations::<Test>::get(job, ALICE).unwrap();
		assert_eq!((participation.revealed, participation.stake), (None, MIN_STAKE));
		run_to(reveal_start(job));
		assert_ok!(reveal(job, &key, Verdict::Scored(900), SALT));
		System::assert_last_event(
			Event::ScoreRevealed { job, scorer: ALICE, verdict: Verdict::Scored(900) }.into(),
		);
		let participation = Participations::<Test>::get(job, ALICE).unwrap();
		assert_eq!(participation.revealed, Some(Verdict::Scored(900)));
		assert_eq!(participation.stake, MIN_STAKE);
		// The participation is the only record written: the job and the scorer are untouched.
		assert_eq!((Jobs::<Test>::get(job), Scorers::<Test>::get(ALICE)), (record, scorer));
	});
}

#[test]
fn commits_and_reveals_pay_no_fee_and_need_no_signed_origin() {
	ExtBuilder::build_and_execute(|| {
		let key = register(ALICE);
		let job = create_job(1);
		assert_ok!(commit(job, &key, Verdict::Scored(1), SALT));
		assert_eq!(Balances::free_balance(ALICE), ENDOWMENT - MIN_STAKE);
		// A signed origin is refused: only the scoring key's authorization counts.
		use frame_support::traits::UnfilteredDispatchable;
		let call = commit_call(job, &register(BOB), Verdict::Scored(1), SALT);
		assert!(call.dispatch_bypass_filter(RuntimeOrigin::signed(BOB)).is_err());
	});
}

#[test]
fn a_non_scorer_cannot_commit() {
	ExtBuilder::build_and_execute(|| {
		let job = create_job(1);
		let stranger = new_key();
		let call = commit_call(job, &stranger, Verdict::Scored(1), SALT);
		assert_eq!(validate(&call), Err(InvalidTransaction::BadSigner.into()));
		assert_noop!(dispatch(call), Error::<Test>::NotScorer);
	});
}

#[test]
fn a_commit_needs_the_keys_signature_over_it() {
	ExtBuilder::build_and_execute(|| {
		let key = register(ALICE);
		let job = create_job(1);
		// Signed by another key.
		let Call::commit_score { commitment, .. } =
			commit_call(job, &key, Verdict::Scored(1), SALT)
		else {
			unreachable!()
		};
		let forged = new_key().sign(&commit_payload(job, &commitment)).unwrap();
		let call = Call::commit_score { job, commitment, scorer: key.clone(), signature: forged };
		assert_eq!(validate(&call), Err(InvalidTransaction::BadProof.into()));
		// Signed over another commitment.
		let other = key.sign(&commit_payload(job, &h(9))).unwrap();
		let call = Call::commit_score { job, commitment, scorer: key, signature: other };
		assert_eq!(validate(&call), Err(InvalidTransaction::BadProof.into()));
	});
}

#[test]
fn a_scorer_commits_once_per_job() {
	ExtBuilder::build_and_execute(|| {
		let key = register(ALICE);
		let job = create_job(1);
		assert_ok!(commit(job, &key, Verdict::Scored(1), SALT));
		let again = commit_call(job, &key, Verdict::Scored(2), [8; 32]);
		assert_eq!(validate(&again), Err(InvalidTransaction::Stale.into()));
		assert_noop!(dispatch(again), Error::<Test>::AlreadyCommitted);
	});
}

#[test]
fn commits_close_with_the_commit_window() {
	ExtBuilder::build_and_execute(|| {
		let key = register(ALICE);
		let job = create_job(1);
		run_to(reveal_start(job));
		let late = commit_call(job, &key, Verdict::Scored(1), SALT);
		assert_eq!(validate(&late), Err(InvalidTransaction::Stale.into()));
		assert_noop!(dispatch(late), Error::<Test>::CommitWindowClosed);
	});
}

#[test]
fn a_commit_on_an_unknown_job_is_refused() {
	ExtBuilder::build_and_execute(|| {
		let key = register(ALICE);
		assert_noop!(
			dispatch(commit_call(42, &key, Verdict::Scored(1), SALT)),
			Error::<Test>::UnknownJob
		);
	});
}

#[test]
fn reveals_wait_for_the_reveal_window() {
	ExtBuilder::build_and_execute(|| {
		let key = register(ALICE);
		let job = create_job(1);
		assert_ok!(commit(job, &key, Verdict::Scored(1), SALT));
		let early = reveal_call(job, &key, Verdict::Scored(1), SALT);
		assert_eq!(validate(&early), Err(InvalidTransaction::Future.into()));
		assert_noop!(dispatch(early), Error::<Test>::RevealTooEarly);
	});
}

#[test]
fn a_late_reveal_is_refused() {
	ExtBuilder::build_and_execute(|| {
		let key = register(ALICE);
		let job = create_job(1);
		assert_ok!(commit(job, &key, Verdict::Scored(1), SALT));
		let reveal_end = Jobs::<Test>::get(job).unwrap().reveal_end;
		// Past the window, before the job concludes (no `on_initialize` for that block yet).
		System::set_block_number(reveal_end + 1);
		let late = reveal_call(job, &key, Verdict::Scored(1), SALT);
		assert_eq!(validate(&late), Err(InvalidTransaction::Stale.into()));
		assert_noop!(dispatch(late), Error::<Test>::RevealTooLate);
	});
}

#[test]
fn a_reveal_without_a_commit_is_refused() {
	ExtBuilder::build_and_execute(|| {
		let key = register(ALICE);
		let job = create_job(1);
		run_to(reveal_start(job));
		let call = reveal_call(job, &key, Verdict::Scored(1), SALT);
		assert_eq!(validate(&call), Err(InvalidTransaction::Custom(2).into()));
		assert_noop!(dispatch(call), Error::<Test>::NoCommitment);
	});
}

#[test]
fn a_reveal_must_match_the_commitment() {
	ExtBuilder::build_and_execute(|| {
		let key = register(ALICE);
		let job = create_job(1);
		assert_ok!(commit(job, &key, Verdict::Scored(700), SALT));
		run_to(reveal_start(job));
		// Wrong salt.
		let wrong_salt = reveal_call(job, &key, Verdict::Scored(700), [0; 32]);
		assert_eq!(validate(&wrong_salt), Err(InvalidTransaction::Custom(1).into()));
		assert_noop!(dispatch(wrong_salt), Error::<Test>::CommitmentMismatch);
		// A changed verdict (copying a better score after seeing it is impossible too).
		let changed = reveal_call(job, &key, Verdict::Scored(701), SALT);
		assert_noop!(dispatch(changed), Error::<Test>::CommitmentMismatch);
		// Another scorer's commitment cannot be revealed by a key that did not make it.
		let bob = register(BOB);
		assert_noop!(
			dispatch(reveal_call(job, &bob, Verdict::Scored(700), SALT)),
			Error::<Test>::NoCommitment
		);
		assert_ok!(reveal(job, &key, Verdict::Scored(700), SALT));
	});
}

#[test]
fn a_verdict_is_revealed_once() {
	ExtBuilder::build_and_execute(|| {
		let key = register(ALICE);
		let job = create_job(1);
		assert_ok!(commit(job, &key, Verdict::Scored(1), SALT));
		run_to(reveal_start(job));
		assert_ok!(reveal(job, &key, Verdict::Scored(1), SALT));
		let again = reveal_call(job, &key, Verdict::Scored(1), SALT);
		assert_eq!(validate(&again), Err(InvalidTransaction::Stale.into()));
		assert_noop!(dispatch(again), Error::<Test>::AlreadyRevealed);
	});
}

#[test]
fn a_reveal_needs_the_keys_signature() {
	ExtBuilder::build_and_execute(|| {
		let key = register(ALICE);
		let job = create_job(1);
		assert_ok!(commit(job, &key, Verdict::Scored(1), SALT));
		run_to(reveal_start(job));
		let forged = new_key().sign(&reveal_payload(job, &Verdict::Scored(1), &SALT)).unwrap();
		let call = Call::reveal_score {
			job,
			verdict: Verdict::Scored(1),
			salt: SALT,
			scorer: key,
			signature: forged,
		};
		assert_eq!(validate(&call), Err(InvalidTransaction::BadProof.into()));
	});
}

#[test]
fn pool_transactions_are_unique_per_job_phase_and_key() {
	ExtBuilder::build_and_execute(|| {
		let key = register(ALICE);
		let job = create_job(1);
		let (valid, _) = commit_call(job, &key, Verdict::Scored(1), SALT)
			.authorize(TransactionSource::External)
			.unwrap()
			.unwrap();
		let (other_salt, _) = commit_call(job, &key, Verdict::Scored(1), [1; 32])
			.authorize(TransactionSource::External)
			.unwrap()
			.unwrap();
		// Two commits of one key on one job provide the same tag: the pool keeps one.
		assert_eq!(valid.provides, other_salt.provides);
		assert_eq!(valid.longevity, COMMIT_WINDOW + 1);
		let bob = register(BOB);
		let (bobs, _) = commit_call(job, &bob, Verdict::Scored(1), SALT)
			.authorize(TransactionSource::External)
			.unwrap()
			.unwrap();
		assert_ne!(valid.provides, bobs.provides);
	});
}
