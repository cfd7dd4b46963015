//! Opening rounds, submitting and replacing updates, submitting aggregates: every error path.

use super::*;
use frame_support::assert_noop;
use modelchain_primitives::JobSubject;
use sp_runtime::{DispatchError, Perbill, TokenError};

fn open_with(who: AccountId, base: Option<VersionId>, p: RoundParamsOf<Test>) -> DispatchResult {
	TrainingRounds::open_round(RuntimeOrigin::signed(who), 0, base, p, POT)
}

use sp_runtime::DispatchResult;

#[test]
fn opening_needs_the_owner_an_active_model_and_a_scored_base() {
	ExtBuilder::build_and_execute(|| {
		assert_noop!(open_with(OWNER, None, params()), Error::<Test>::UnknownModel);
		setup();
		assert_noop!(open_with(HONEST_A, None, params()), Error::<Test>::NotModelOwner);
		// A candidate version is no base.
		assert_ok!(Registry::publish_version(
			RuntimeOrigin::signed(OWNER),
			0,
			artifact(110, ArtifactFormat::Onnx),
			VersionKind::FineTune,
			vec![0],
			None,
			vec![],
			vec![],
		));
		assert_noop!(open_with(OWNER, Some(1), params()), Error::<Test>::BadBaseVersion);
		assert_noop!(open_with(OWNER, Some(9), params()), Error::<Test>::BadBaseVersion);
		assert_ok!(Registry::retire_model(RuntimeOrigin::signed(OWNER), 0));
		assert_noop!(open_with(OWNER, None, params()), Error::<Test>::ModelRetired);
	});
}

#[test]
fn a_model_without_a_canonical_version_needs_a_named_base() {
	ExtBuilder::build_and_execute(|| {
		setup();
		assert_ok!(Registry::register_model(
			RuntimeOrigin::signed(OWNER),
			b"other".to_vec(),
			TaskKind::Classification,
			b"MIT".to_vec(),
			b"https://example.org/card".to_vec(),
			vec![],
			ScoreThreshold::AtLeast(0),
		));
		assert_noop!(
			TrainingRounds::open_round(RuntimeOrigin::signed(OWNER), 1, None, params(), POT),
			Error::<Test>::NoBaseVersion
		);
		// A version of another model is no base either.
		assert_noop!(
			TrainingRounds::open_round(RuntimeOrigin::signed(OWNER), 1, Some(0), params(), POT),
			Error::<Test>::BadBaseVersion
		);
	});
}

#[test]
fn round_parameters_are_checked() {
	ExtBuilder::build_and_execute(|| {
		setup();
		let with = |f: &dyn Fn(&mut RoundParamsOf<Test>)| {
			let mut p = params();
			f(&mut p);
			p
		};
		assert_noop!(
			open_with(OWNER, None, with(&|p| p.golden = 9)),
			Error::<Test>::UnknownDataset
		);
		assert_noop!(
			open_with(OWNER, None, with(&|p| p.submission_blocks = 4)),
			Error::<Test>::BadWindow
		);
		assert_noop!(
			open_with(OWNER, None, with(&|p| p.aggregation_blocks = 101)),
			Error::<Test>::BadWindow
		);
		assert_noop!(
			open_with(OWNER, None, with(&|p| p.max_updates = 0)),
			Error::<Test>::BadMaxUpdates
		);
		assert_noop!(
			open_with(OWNER, None, with(&|p| p.max_updates = 5)),
			Error::<Test>::BadMaxUpdates
		);
		assert_noop!(open_with(OWNER, None, with(&|p| p.stake = 9)), Error::<Test>::StakeTooLow);
		assert_noop!(
			open_with(
				OWNER,
				None,
				with(&|p| p.rule = AggregationRule::TrimmedMean(Perbill::from_percent(50)))
			),
			Error::<Test>::BadRule
		);
		assert_noop!(
			TrainingRounds::open_round(RuntimeOrigin::signed(OWNER), 0, None, params(), ENDOWMENT),
			TokenError::FundsUnavailable
		);
	});
}

#[test]
fn opening_holds_the_pot_and_scores_the_base_on_the_rounds_golden_set() {
	ExtBuilder::build_and_execute(|| {
		open();
		assert_eq!(
			last_event(),
			Event::RoundOpened {
				round: 0,
				model: 0,
				base: 0,
				opener: OWNER,
				pot: POT,
				submission_end: 11,
				job: 0,
			}
		);
		let job = &jobs()[0];
		assert_eq!(job.model, artifact(100, ArtifactFormat::Onnx));
		assert_eq!(job.golden, artifact(101, ArtifactFormat::Safetensors));
		assert_eq!(job.metric, Metric::Accuracy);
		assert_eq!(round().base_score, BaseScore::Pending(0));
	});
}

#[test]
fn joining_is_checked() {
	ExtBuilder::build_and_execute(|| {
		open();
		let join_with = |who, round, datasets: Vec<u64>| {
			TrainingRounds::join_round(RuntimeOrigin::signed(who), round, datasets)
		};
		assert_noop!(join_with(HONEST_A, 7, vec![DATA_1]), Error::<Test>::UnknownRound);
		assert_noop!(join_with(HONEST_A, 0, vec![]), Error::<Test>::BadDatasetCount);
		assert_noop!(join_with(HONEST_A, 0, vec![0, 1, 2, 3]), Error::<Test>::BadDatasetCount);
		assert_noop!(join_with(HONEST_A, 0, vec![DATA_1, DATA_1]), Error::<Test>::DuplicateDataset);
		assert_noop!(join_with(HONEST_A, 0, vec![9]), Error::<Test>::UnknownDataset);
		assert_noop!(join_with(PAUPER, 0, vec![DATA_1]), TokenError::FundsUnavailable);
		let id = join(HONEST_A, vec![DATA_1, DATA_2]);
		assert_eq!(
			last_event(),
			Event::RoundJoined {
				round: 0,
				update: id,
				contributor: HONEST_A,
				datasets: vec![DATA_1, DATA_2].try_into().unwrap(),
				stake: STAKE,
			}
		);
		let update = Updates::<Test>::get(id).unwrap();
		assert_eq!(
			(update.state, update.artifact, update.available),
			(UpdateState::Joined, None, 1_000)
		);
		assert_eq!(
			(held(HoldReason::Stake, HONEST_A), held(HoldReason::Deposit, HONEST_A)),
			(STAKE, 20)
		);
		assert_eq!((round().updates, round().pending), (1, 1));
		assert_noop!(join_with(HONEST_A, 0, vec![DATA_1]), Error::<Test>::AlreadyJoined);
		go_to(11);
		assert_noop!(join_with(HONEST_B, 0, vec![DATA_1]), Error::<Test>::SubmissionClosed);
	});
}

#[test]
fn updates_are_checked() {
	ExtBuilder::build_and_execute(|| {
		open();
		let submit_with = |who, round, art: Artifact, samples| {
			TrainingRounds::submit_update(RuntimeOrigin::signed(who), round, art, samples)
		};
		let onnx = artifact(1, ArtifactFormat::Onnx);
		assert_noop!(submit_with(HONEST_A, 7, onnx.clone(), 1), Error::<Test>::UnknownRound);
		assert_noop!(submit_with(HONEST_A, 0, onnx.clone(), 1), Error::<Test>::NotJoined);
		join(HONEST_A, vec![DATA_1, DATA_2]);
		assert_noop!(
			submit_with(HONEST_A, 0, artifact(1, ArtifactFormat::Gguf), 1),
			Error::<Test>::BadArtifact
		);
		let mut bad_uri = onnx.clone();
		bad_uri.uri = b"ftp://x".to_vec().try_into().unwrap();
		assert_noop!(submit_with(HONEST_A, 0, bad_uri, 1), Error::<Test>::BadArtifact);
		assert_noop!(submit_with(HONEST_A, 0, onnx.clone(), 0), Error::<Test>::BadSampleCount);
		// More samples than the declared datasets hold together.
		assert_noop!(submit_with(HONEST_A, 0, onnx.clone(), 1_001), Error::<Test>::BadSampleCount);
		assert_ok!(submit_with(HONEST_A, 0, onnx.clone(), 1_000));
		go_to(11);
		assert_noop!(submit_with(HONEST_A, 0, onnx, 1), Error::<Test>::SubmissionClosed);
	});
}

#[test]
fn a_round_takes_at_most_its_contributors_and_datasets() {
	ExtBuilder::build_and_execute(|| {
		open();
		for seed in 110..114u8 {
			assert_ok!(Registry::register_dataset(
				RuntimeOrigin::signed(DATA_OWNER),
				artifact(seed, ArtifactFormat::Safetensors),
				10,
				b"CC0-1.0".to_vec(),
				None,
			));
		}
		join(HONEST_A, vec![0, 1, 2]);
		join(HONEST_B, vec![3, 4, 5]);
		// A seventh distinct dataset.
		assert_noop!(
			TrainingRounds::join_round(RuntimeOrigin::signed(LAZY), 0, vec![6]),
			Error::<Test>::TooManyRoundDatasets
		);
		join(LAZY, vec![0]);
		assert_noop!(
			TrainingRounds::join_round(RuntimeOrigin::signed(POISONER), 0, vec![0]),
			Error::<Test>::TooManyUpdates
		);
	});
}

#[test]
fn a_replacement_keeps_the_id_and_stake_and_only_the_last_artifact_is_scored() {
	ExtBuilder::build_and_execute(|| {
		open();
		conclude(0, JobOutcome::Scored(BASE_SCORE));
		let first = submit(HONEST_A, 1, 600, vec![DATA_1]);
		assert!(matches!(last_event(), Event::UpdateSubmitted { replaced: false, .. }));
		let again = submit(HONEST_A, 2, 500, vec![DATA_1]);
		assert_eq!(again, first);
		assert_eq!(
			last_event(),
			Event::UpdateSubmitted {
				round: 0,
				update: first,
				contributor: HONEST_A,
				samples: 500,
				digest: [2; 32],
				replaced: true,
			}
		);
		assert_eq!(held(HoldReason::Stake, HONEST_A), STAKE);
		assert_eq!(held(HoldReason::Deposit, HONEST_A), 20);
		assert_eq!((round().updates, round().pending), (1, 1));
		score_updates();
		// One job, for the last artifact.
		assert_eq!(jobs().len(), 2);
		assert_eq!(jobs()[1].subject, JobSubject::Update(first));
		assert_eq!(jobs()[1].model, artifact(2, ArtifactFormat::Onnx));
		conclude(job_of(first), JobOutcome::Scored(600_000_000));
		assert_eq!(state_of(first), UpdateState::Accepted(600_000_000));
		assert_eq!(Updates::<Test>::get(first).unwrap().samples, 500);
	});
}

#[test]
fn contributors_who_submit_nothing_get_their_stake_back_when_the_window_ends() {
	ExtBuilder::build_and_execute(|| {
		open();
		conclude(0, JobOutcome::Scored(BASE_SCORE));
		let idle = join(LAZY, vec![DATA_1]);
		let a = submit(HONEST_A, 1, 600, vec![DATA_1]);
		score_updates();
		assert_eq!(state_of(idle), UpdateState::Lapsed);
		assert!(events().contains(&Event::UpdateLapsed { round: 0, update: idle }));
		assert_eq!((free(LAZY), total(LAZY)), (ENDOWMENT - 20, ENDOWMENT));
		assert_eq!(round().pending, 1);
		// The round goes on with the submitted update alone.
		conclude(job_of(a), JobOutcome::Scored(600_000_000));
		assert_eq!((round().pending, round().accepted), (0, 1));
		assert_ok!(TrainingRounds::submit_aggregate(
			RuntimeOrigin::signed(AGGREGATOR),
			0,
			artifact(50, ArtifactFormat::Onnx)
		));
	});
}

fn run_hook(block: u64) {
	go_to(block);
	<TrainingRounds as frame_support::traits::Hooks<u64>>::on_initialize(block);
}

/// Scoring takes `room` more jobs (`None`: any number).
fn scoring_room(room: Option<u32>) {
	SCORING_ROOM.with(|r| *r.borrow_mut() = room);
}

#[test]
fn rounds_ending_in_one_block_are_bounded_and_queued_in_order() {
	ExtBuilder::build_and_execute(|| {
		setup();
		let open_for = |blocks| {
			let mut p = params();
			p.submission_blocks = blocks;
			TrainingRounds::open_round(RuntimeOrigin::signed(OWNER), 0, None, p, POT)
		};
		// `MaxRoundsEnding` is 2 here.
		assert_ok!(open_for(10));
		assert_ok!(open_for(10));
		assert_noop!(open_for(10), Error::<Test>::TooManyRoundsEnding);
		assert_ok!(open_for(11));
		assert_eq!(RoundsEnding::<Test>::get(11).into_inner(), vec![0, 1]);
		assert_eq!(RoundsEnding::<Test>::get(12).into_inner(), vec![2]);
		for round in 0..3 {
			assert_ok!(TrainingRounds::join_round(
				RuntimeOrigin::signed(HONEST_A),
				round,
				vec![DATA_1]
			));
			assert_ok!(TrainingRounds::submit_update(
				RuntimeOrigin::signed(HONEST_A),
				round,
				artifact(round as u8 + 1, ArtifactFormat::Onnx),
				10,
			));
		}
		// Scoring is full when rounds 0 and 1 end: both wait in the queue, nothing is lost.
		scoring_room(Some(0));
		run_hook(11);
		assert!(!RoundsEnding::<Test>::contains_key(11));
		assert_eq!(ScoringQueueBounds::<Test>::get(), (0, 2));
		assert_eq!(jobs().len(), 3);
		assert_eq!(held(HoldReason::Stake, HONEST_A), 3 * STAKE);
		// Scoring has room again: the queue is served first come, first served, at most
		// `MaxRoundsEnding` rounds a block, so round 2 (ending now) waits one block.
		scoring_room(None);
		run_hook(12);
		assert_eq!(ScoringQueueBounds::<Test>::get(), (2, 3));
		let models: Vec<_> = jobs()[3..].iter().map(|j| j.model.clone()).collect();
		assert_eq!(
			models,
			vec![artifact(1, ArtifactFormat::Onnx), artifact(2, ArtifactFormat::Onnx)]
		);
		run_hook(13);
		assert_eq!(ScoringQueueBounds::<Test>::get(), (3, 3));
		assert_eq!(jobs()[5].model, artifact(3, ArtifactFormat::Onnx));
		assert_eq!(ScoringQueue::<Test>::iter().count(), 0);
		// An idle block leaves the queue alone.
		run_hook(14);
		assert_eq!(ScoringQueueBounds::<Test>::get(), (3, 3));
	});
}

#[test]
fn a_round_whose_jobs_scoring_takes_only_in_part_resumes_where_it_stopped() {
	ExtBuilder::build_and_execute(|| {
		open();
		let a = submit(HONEST_A, 1, 600, vec![DATA_1]);
		let b = submit(HONEST_B, 2, 400, vec![DATA_2]);
		// Scoring takes A's job and is then full: the round stays first in the queue.
		scoring_room(Some(1));
		score_updates();
		let job_a = job_of(a);
		assert_eq!(state_of(b), UpdateState::Submitted);
		assert_eq!(ScoringQueueBounds::<Test>::get(), (0, 1));
		run_hook(12);
		assert_eq!(ScoringQueueBounds::<Test>::get(), (0, 1));
		// Room again: B's job opens, A's is not created twice.
		scoring_room(None);
		run_hook(13);
		assert_eq!(ScoringQueueBounds::<Test>::get(), (1, 1));
		assert_eq!(jobs().len(), 3);
		assert_eq!((job_of(a), jobs()[job_of(b) as usize].subject), (job_a, JobSubject::Update(b)));
	});
}

#[test]
fn aggregates_wait_for_every_verdict_and_the_submission_window() {
	ExtBuilder::build_and_execute(|| {
		open();
		let agg = || artifact(50, ArtifactFormat::Onnx);
		let a = submit(HONEST_A, 1, 600, vec![DATA_1]);
		score_updates();
		// The base's score and A's verdict are still out.
		assert_noop!(
			TrainingRounds::submit_aggregate(RuntimeOrigin::signed(AGGREGATOR), 0, agg()),
			Error::<Test>::NotAggregating
		);
		conclude(0, JobOutcome::Scored(BASE_SCORE));
		assert_noop!(
			TrainingRounds::submit_aggregate(RuntimeOrigin::signed(AGGREGATOR), 0, agg()),
			Error::<Test>::NotAggregating
		);
		assert_noop!(
			TrainingRounds::close_round(RuntimeOrigin::signed(AGGREGATOR), 0),
			Error::<Test>::CannotCloseYet
		);
		conclude(job_of(a), JobOutcome::Scored(600_000_000));
		assert_noop!(
			TrainingRounds::submit_aggregate(
				RuntimeOrigin::signed(AGGREGATOR),
				0,
				artifact(50, ArtifactFormat::Safetensors)
			),
			Error::<Test>::BadArtifact
		);
		assert_noop!(
			TrainingRounds::submit_aggregate(RuntimeOrigin::signed(PAUPER), 0, agg()),
			TokenError::FundsUnavailable
		);
		assert_ok!(TrainingRounds::submit_aggregate(RuntimeOrigin::signed(AGGREGATOR), 0, agg()));
		assert_noop!(
			TrainingRounds::submit_aggregate(RuntimeOrigin::signed(HONEST_B), 0, agg()),
			Error::<Test>::AggregatePending
		);
		// While an aggregate is scored, the round does not close, even past the window.
		go_to(40);
		assert_noop!(
			TrainingRounds::close_round(RuntimeOrigin::signed(AGGREGATOR), 0),
			Error::<Test>::CannotCloseYet
		);
		assert_noop!(
			TrainingRounds::close_round(RuntimeOrigin::signed(AGGREGATOR), 3),
			Error::<Test>::UnknownRound
		);
	});
}

#[test]
fn unsigned_origins_are_refused() {
	ExtBuilder::build_and_execute(|| {
		open();
		assert_noop!(
			TrainingRounds::close_round(RuntimeOrigin::none(), 0),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn joining_is_charged_for_the_other_contributors_it_reads() {
	ExtBuilder::build_and_execute(|| {
		use crate::weights::WeightInfo;
		open();
		let join_weight = |who| {
			TrainingRounds::join_round(RuntimeOrigin::signed(who), 0, vec![DATA_1])
				.expect("the contributor joins")
				.actual_weight
		};
		let charged = |others| Some(<() as WeightInfo>::join_round(others));
		assert_eq!(join_weight(HONEST_A), charged(0));
		assert_eq!(join_weight(HONEST_B), charged(1));
		assert_eq!(join_weight(POISONER), charged(2));
		// The refund is real: charging the most a round takes would cost more.
		let most = <<Test as Config>::MaxUpdates as frame_support::traits::Get<u32>>::get() - 1;
		assert!(<() as WeightInfo>::join_round(2).all_lt(<() as WeightInfo>::join_round(most)));
	});
}
