//! Opening rounds, submitting and replacing updates, submitting aggregates: every error path.

use super::*;
use frame_support::assert_noop;
use modelchain_primitives::{ArtifactFault, JobSubject};
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
fn updates_are_checked() {
	ExtBuilder::build_and_execute(|| {
		open();
		let submit_with = |who, art: Artifact, samples, datasets: Vec<u64>| {
			TrainingRounds::submit_update(RuntimeOrigin::signed(who), 0, art, samples, datasets)
		};
		let onnx = artifact(1, ArtifactFormat::Onnx);
		assert_noop!(
			TrainingRounds::submit_update(
				RuntimeOrigin::signed(HONEST_A),
				7,
				onnx.clone(),
				1,
				vec![1]
			),
			Error::<Test>::UnknownRound
		);
		assert_noop!(
			submit_with(HONEST_A, artifact(1, ArtifactFormat::Gguf), 1, vec![DATA_1]),
			Error::<Test>::BadArtifact
		);
		let mut bad_uri = onnx.clone();
		bad_uri.uri = b"ftp://x".to_vec().try_into().unwrap();
		assert_noop!(submit_with(HONEST_A, bad_uri, 1, vec![DATA_1]), Error::<Test>::BadArtifact);
		assert_noop!(
			submit_with(HONEST_A, onnx.clone(), 1, vec![]),
			Error::<Test>::BadDatasetCount
		);
		assert_noop!(
			submit_with(HONEST_A, onnx.clone(), 1, vec![0, 1, 2, 3]),
			Error::<Test>::BadDatasetCount
		);
		assert_noop!(
			submit_with(HONEST_A, onnx.clone(), 1, vec![DATA_1, DATA_1]),
			Error::<Test>::DuplicateDataset
		);
		assert_noop!(
			submit_with(HONEST_A, onnx.clone(), 1, vec![9]),
			Error::<Test>::UnknownDataset
		);
		assert_noop!(
			submit_with(HONEST_A, onnx.clone(), 0, vec![DATA_1]),
			Error::<Test>::BadSampleCount
		);
		// More samples than the declared datasets hold together.
		assert_noop!(
			submit_with(HONEST_A, onnx.clone(), 1_001, vec![DATA_1, DATA_2]),
			Error::<Test>::BadSampleCount
		);
		assert_noop!(
			submit_with(PAUPER, onnx.clone(), 1, vec![DATA_1]),
			TokenError::FundsUnavailable
		);
		go_to(11);
		assert_noop!(submit_with(HONEST_A, onnx, 1, vec![DATA_1]), Error::<Test>::SubmissionClosed);
	});
}

#[test]
fn a_round_takes_at_most_its_updates_and_datasets() {
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
		submit(HONEST_A, 1, 1, vec![0, 1, 2]);
		submit(HONEST_B, 2, 1, vec![3, 4, 5]);
		// A seventh distinct dataset.
		assert_noop!(
			TrainingRounds::submit_update(
				RuntimeOrigin::signed(LAZY),
				0,
				artifact(3, ArtifactFormat::Onnx),
				1,
				vec![6]
			),
			Error::<Test>::TooManyRoundDatasets
		);
		// A replacement may swap its own datasets.
		submit(HONEST_B, 2, 1, vec![3, 4, 6]);
		submit(LAZY, 3, 1, vec![0]);
		assert_noop!(
			TrainingRounds::submit_update(
				RuntimeOrigin::signed(POISONER),
				0,
				artifact(4, ArtifactFormat::Onnx),
				1,
				vec![0]
			),
			Error::<Test>::TooManyUpdates
		);
	});
}

#[test]
fn a_replacement_keeps_the_id_and_stake_and_only_its_newest_job_counts() {
	ExtBuilder::build_and_execute(|| {
		open();
		conclude(0, JobOutcome::Scored(BASE_SCORE));
		let first = submit(HONEST_A, 1, 600, vec![DATA_1]);
		let old_job = job_of(first);
		let again = submit(HONEST_A, 2, 500, vec![DATA_1]);
		assert_eq!(again, first);
		assert!(matches!(last_event(), Event::UpdateSubmitted { replaced: true, .. }));
		assert_eq!(held(HoldReason::Stake, HONEST_A), STAKE);
		assert_eq!(held(HoldReason::Deposit, HONEST_A), 20);
		assert_eq!((round().updates, round().pending), (1, 1));
		// The old artifact's verdict no longer counts.
		conclude(old_job, JobOutcome::Scored(10));
		assert!(matches!(state_of(first), UpdateState::Scoring(_)));
		conclude(job_of(first), JobOutcome::Scored(600_000_000));
		assert_eq!(state_of(first), UpdateState::Accepted(600_000_000));
		// Replaced after acceptance: scored again, with the stake held again.
		submit(HONEST_A, 3, 500, vec![DATA_1]);
		assert_eq!(held(HoldReason::Stake, HONEST_A), STAKE);
		assert_eq!((round().pending, round().accepted), (1, 0));
		assert_eq!(jobs()[job_of(first) as usize].subject, JobSubject::Update(first));
	});
}

#[test]
fn a_slashed_contributor_may_stake_again_with_a_replacement() {
	ExtBuilder::build_and_execute(|| {
		open();
		conclude(0, JobOutcome::Scored(BASE_SCORE));
		let p = submit(POISONER, 1, 600, vec![DATA_1]);
		conclude(job_of(p), JobOutcome::Invalid(ArtifactFault::InvalidModel));
		assert_eq!(held(HoldReason::Stake, POISONER), 0);
		submit(POISONER, 2, 600, vec![DATA_1]);
		assert_eq!(held(HoldReason::Stake, POISONER), STAKE);
		assert_eq!(total(POISONER), ENDOWMENT - STAKE);
	});
}

#[test]
fn aggregates_wait_for_every_verdict_and_the_submission_window() {
	ExtBuilder::build_and_execute(|| {
		open();
		let agg = || artifact(50, ArtifactFormat::Onnx);
		let a = submit(HONEST_A, 1, 600, vec![DATA_1]);
		go_to(11);
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
fn an_update_is_charged_for_the_other_updates_it_reads() {
	ExtBuilder::build_and_execute(|| {
		use crate::weights::WeightInfo;
		open();
		let submit_weight = |who, seed| {
			TrainingRounds::submit_update(
				RuntimeOrigin::signed(who),
				0,
				artifact(seed, ArtifactFormat::Onnx),
				1,
				vec![DATA_1],
			)
			.expect("the update is taken")
			.actual_weight
		};
		let charged = |others| Some(<() as WeightInfo>::submit_update(others));
		assert_eq!(submit_weight(HONEST_A, 1), charged(0));
		assert_eq!(submit_weight(HONEST_B, 2), charged(1));
		assert_eq!(submit_weight(POISONER, 3), charged(2));
		// A replacement reads the others, not itself.
		assert_eq!(submit_weight(HONEST_A, 4), charged(2));
		// The refund is real: charging the most a round takes would cost more.
		let most = <<Test as Config>::MaxUpdates as frame_support::traits::Get<u32>>::get() - 1;
		assert!(
			<() as WeightInfo>::submit_update(2).all_lt(<() as WeightInfo>::submit_update(most))
		);
	});
}
