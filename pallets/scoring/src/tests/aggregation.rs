//! The stake-weighted median, invalid majorities, and concluding jobs.

use super::*;
use crate::Event;
use frame_support::assert_noop;
use modelchain_primitives::{ArtifactFault, JobOutcome, JobSubject, ScoringRecords};

fn s(score: u64, stake: u128) -> (Verdict, u128) {
	(Verdict::Scored(score), stake)
}

fn bad(fault: ArtifactFault, stake: u128) -> (Verdict, u128) {
	(Verdict::Invalid(fault), stake)
}

#[test]
fn the_median_follows_stake_not_head_count() {
	// Three small scorers say 10, one large scorer says 50: the large one holds the majority.
	assert_eq!(aggregate(&[s(10, 1), s(10, 1), s(10, 1), s(50, 4)]), JobOutcome::Scored(50));
	// Uneven stakes: cumulative 3 of 10 at 20, 8 of 10 at 30 → 30.
	assert_eq!(aggregate(&[s(40, 2), s(20, 3), s(30, 5)]), JobOutcome::Scored(30));
	// Order of reveals does not matter.
	assert_eq!(aggregate(&[s(30, 5), s(40, 2), s(20, 3)]), JobOutcome::Scored(30));
}

#[test]
fn a_stake_minority_cannot_move_the_median() {
	let honest = [s(975, 10), s(975, 10), s(976, 10)];
	let with_liars = [s(975, 10), s(975, 10), s(976, 10), s(0, 9), s(u64::MAX, 9)];
	assert_eq!(aggregate(&honest), JobOutcome::Scored(975));
	assert_eq!(aggregate(&with_liars), JobOutcome::Scored(975));
}

#[test]
fn ties_take_the_lower_middle_score() {
	assert_eq!(aggregate(&[s(10, 1), s(20, 1)]), JobOutcome::Scored(10));
	assert_eq!(aggregate(&[s(10, 5), s(20, 5), s(30, 5), s(40, 5)]), JobOutcome::Scored(20));
	// Equal scores pool their stake.
	assert_eq!(aggregate(&[s(7, 1), s(7, 1), s(9, 3)]), JobOutcome::Scored(9));
	assert_eq!(aggregate(&[s(7, 2), s(7, 1), s(9, 3)]), JobOutcome::Scored(7));
}

#[test]
fn a_stake_majority_of_invalid_verdicts_makes_the_artifact_invalid() {
	assert_eq!(
		aggregate(&[bad(ArtifactFault::DigestMismatch, 3), s(900, 2)]),
		JobOutcome::Invalid(ArtifactFault::DigestMismatch)
	);
	// The reason with the most stake wins, whatever the head count.
	assert_eq!(
		aggregate(&[
			bad(ArtifactFault::InvalidModel, 1),
			bad(ArtifactFault::InvalidModel, 1),
			bad(ArtifactFault::ShapeMismatch, 3),
			s(1, 1),
		]),
		JobOutcome::Invalid(ArtifactFault::ShapeMismatch)
	);
	// A tie between reasons goes to the one declared first.
	assert_eq!(
		aggregate(&[bad(ArtifactFault::ShapeMismatch, 2), bad(ArtifactFault::DigestMismatch, 2)]),
		JobOutcome::Invalid(ArtifactFault::DigestMismatch)
	);
}

#[test]
fn exactly_half_invalid_is_not_a_majority() {
	assert_eq!(
		aggregate(&[bad(ArtifactFault::InvalidModel, 5), s(300, 2), s(400, 3)]),
		JobOutcome::Scored(400)
	);
}

#[test]
fn no_reveals_is_no_quorum() {
	assert_eq!(aggregate::<u128>(&[]), JobOutcome::NoQuorum);
	assert_eq!(aggregate(&[s(1, 0)]), JobOutcome::NoQuorum);
}

#[test]
fn a_job_concludes_after_its_reveal_window_with_every_participant_assessed() {
	ExtBuilder::build_and_execute(|| {
		let alice = register_with(ALICE, 300);
		let bob = register_with(BOB, 200);
		let charlie = register_with(CHARLIE, 100);
		let dave = register_with(DAVE, 100);
		let job = create_job(7);
		assert_ok!(commit(job, &alice, Verdict::Scored(900), SALT));
		assert_ok!(commit(job, &bob, Verdict::Scored(880), SALT));
		assert_ok!(commit(job, &charlie, Verdict::Invalid(ArtifactFault::InvalidModel), SALT));
		assert_ok!(commit(job, &dave, Verdict::Scored(1), SALT));
		run_to(reveal_start(job));
		assert_ok!(reveal(job, &alice, Verdict::Scored(900), SALT));
		assert_ok!(reveal(job, &bob, Verdict::Scored(880), SALT));
		assert_ok!(reveal(job, &charlie, Verdict::Invalid(ArtifactFault::InvalidModel), SALT));
		// Dave never reveals.
		let end = conclusion(job);
		run_to(end - 1);
		assert!(Jobs::<Test>::contains_key(job), "still open on the window's last block");
		run_to(end);

		// Scores 880 (200) and 900 (300), 100 invalid: median of 500 stake behind scores is 900.
		let outcome = JobOutcome::Scored(900);
		assert_eq!(concluded(), vec![(job, JobSubject::Version(7), outcome)]);
		System::assert_last_event(
			Event::JobConcluded { job, subject: JobSubject::Version(7), outcome, reveals: 3 }
				.into(),
		);
		System::assert_has_event(Event::RevealMissed { job, scorer: DAVE }.into());
		let assessment = |who| Participations::<Test>::get(job, who).unwrap().assessment;
		assert_eq!(assessment(ALICE), Some(Assessment::Scored { deviation: 0 }));
		assert_eq!(assessment(BOB), Some(Assessment::Scored { deviation: 20 }));
		assert_eq!(assessment(CHARLIE), Some(Assessment::Disagreed));
		assert_eq!(assessment(DAVE), Some(Assessment::MissedReveal));
		assert_eq!(Scorers::<Test>::get(DAVE).unwrap().missed_reveals, 1);
		assert_eq!(Scorers::<Test>::get(ALICE).unwrap().missed_reveals, 0);
		let result = Results::<Test>::get(job).unwrap();
		assert_eq!((result.outcome, result.commits, result.reveals), (outcome, 4, 3));
		assert_eq!(result.revealed_stake, 600);
		assert!(!Jobs::<Test>::contains_key(job));
		assert!(OpenJobs::<Test>::get().is_empty());

		// What the rewards read: with a tolerance of 20, Alice (0) and Bob (20) were honest; Charlie
		// disagreed and Dave missed his reveal. Each with the stake its verdict weighed.
		let mut assessed = <Scoring as ScoringRecords<_, _>>::assessed_scorers(job, 20);
		assessed.sort();
		assert_eq!(
			assessed,
			vec![(ALICE, 300, true), (BOB, 200, true), (CHARLIE, 100, false), (DAVE, 100, false)]
		);
		// A tighter tolerance makes Bob's 20 a deviation.
		let honest: Vec<_> = <Scoring as ScoringRecords<_, _>>::assessed_scorers(job, 19)
			.into_iter()
			.filter(|(_, _, honest)| *honest)
			.map(|(who, _, _)| who)
			.collect();
		assert_eq!(honest, vec![ALICE]);
	});
}

#[test]
fn the_rewards_read_nobody_for_a_job_that_has_not_concluded() {
	ExtBuilder::build_and_execute(|| {
		let alice = register(ALICE);
		let job = create_job(1);
		assert_ok!(commit(job, &alice, Verdict::Scored(5), SALT));
		assert!(<Scoring as ScoringRecords<_, _>>::assessed_scorers(job, 0).is_empty());
		assert!(<Scoring as ScoringRecords<_, _>>::assessed_scorers(99, 0).is_empty());
	});
}

#[test]
fn a_job_nobody_reveals_concludes_without_quorum() {
	ExtBuilder::build_and_execute(|| {
		let job = create_job(3);
		run_to(conclusion(job));
		assert_eq!(concluded(), vec![(job, JobSubject::Version(3), JobOutcome::NoQuorum)]);
	});
}

#[test]
fn an_invalid_majority_is_agreed_with() {
	ExtBuilder::build_and_execute(|| {
		let alice = register(ALICE);
		let bob = register(BOB);
		let charlie = register(CHARLIE);
		let job = create_job(1);
		let digest = Verdict::Invalid(ArtifactFault::DigestMismatch);
		assert_ok!(commit(job, &alice, digest, SALT));
		assert_ok!(commit(job, &bob, digest, SALT));
		assert_ok!(commit(job, &charlie, Verdict::Scored(5), SALT));
		run_to(reveal_start(job));
		assert_ok!(reveal(job, &alice, digest, SALT));
		assert_ok!(reveal(job, &bob, digest, SALT));
		assert_ok!(reveal(job, &charlie, Verdict::Scored(5), SALT));
		run_to(conclusion(job));
		assert_eq!(concluded()[0].2, JobOutcome::Invalid(ArtifactFault::DigestMismatch));
		let assessment = |who| Participations::<Test>::get(job, who).unwrap().assessment;
		assert_eq!(assessment(ALICE), Some(Assessment::Agreed));
		assert_eq!(assessment(CHARLIE), Some(Assessment::Disagreed));
	});
}

#[test]
fn no_more_than_max_conclude_per_block_jobs_conclude_in_one_block() {
	ExtBuilder::build_and_execute(|| {
		let jobs: Vec<JobId> = (0..3).map(create_job).collect();
		// All three are due at the same block; the mock concludes two per block.
		let end = conclusion(jobs[0]);
		run_to(end);
		assert_eq!(concluded().len(), 2);
		assert_eq!(OpenJobs::<Test>::get().to_vec(), vec![jobs[2]]);
		run_to(end + 1);
		assert_eq!(concluded().len(), 3);
	});
}

#[test]
fn anyone_may_conclude_a_due_job() {
	ExtBuilder::build_and_execute(|| {
		let job = create_job(1);
		assert_noop!(
			Scoring::conclude_job(RuntimeOrigin::signed(EVE), job),
			Error::<Test>::JobStillOpen
		);
		System::set_block_number(conclusion(job));
		assert_ok!(Scoring::conclude_job(RuntimeOrigin::signed(EVE), job));
		assert_eq!(concluded().len(), 1);
		assert_noop!(
			Scoring::conclude_job(RuntimeOrigin::signed(EVE), job),
			Error::<Test>::UnknownJob
		);
	});
}

#[test]
fn open_jobs_are_bounded() {
	ExtBuilder::build_and_execute(|| {
		for version in 0..MAX_OPEN_JOBS as u64 {
			create_job(version);
		}
		assert_noop!(<Scoring as ScoreJobs>::create_job(spec(99)), Error::<Test>::TooManyOpenJobs);
	});
}

#[test]
fn a_job_needs_well_formed_artifacts() {
	ExtBuilder::build_and_execute(|| {
		let mut bad_spec = spec(1);
		bad_spec.model.digest = [0; 32];
		assert_noop!(<Scoring as ScoreJobs>::create_job(bad_spec), Error::<Test>::BadArtifact);
		let mut bad_spec = spec(1);
		bad_spec.golden.uri = b"ftp://x".to_vec().try_into().unwrap();
		assert_noop!(<Scoring as ScoreJobs>::create_job(bad_spec), Error::<Test>::BadArtifact);
	});
}

#[test]
fn jobs_get_windows_from_config() {
	ExtBuilder::build_and_execute(|| {
		run_to(4);
		let job = create_job(1);
		let record = Jobs::<Test>::get(job).unwrap();
		assert_eq!((record.created, record.commit_end), (4, 4 + COMMIT_WINDOW));
		assert_eq!(record.reveal_end, 4 + COMMIT_WINDOW + REVEAL_WINDOW);
		System::assert_last_event(
			Event::JobCreated {
				job,
				subject: JobSubject::Version(1),
				commit_end: record.commit_end,
				reveal_end: record.reveal_end,
			}
			.into(),
		);
	});
}
