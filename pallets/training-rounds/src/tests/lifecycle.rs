//! Whole rounds: honest, lazy and poisoned contributors, aggregates that match and that lie, closing
//! without an aggregate, and the exact accounting of every token.

use super::*;
use frame_support::assert_noop;
use modelchain_primitives::{
	AggregatePart, ArtifactCheck, ArtifactFault, JobSubject, ModelRegistry, VersionStatus,
};

/// An honest validator and one that deviates, in every job of these tests that sets them up.
const HONEST_SCORER: AccountId = 10;
const DEVIANT_SCORER: AccountId = 11;

fn issuance_of_participants() -> Balance {
	[OWNER, HONEST_A, HONEST_B, POISONER, DATA_OWNER, AGGREGATOR, TREASURY, PAUPER, LAZY]
		.iter()
		.chain(&[HONEST_SCORER, DEVIANT_SCORER, Rewards::account_id()])
		.map(|who| total(*who))
		.sum()
}

fn pending(who: AccountId) -> Balance {
	pallet_rewards::Pending::<Test>::get(who)
}

#[test]
fn a_round_with_honest_lazy_and_poisoned_contributors_accounts_for_every_token() {
	ExtBuilder::build_and_execute(|| {
		setup();
		add_scorer(HONEST_SCORER, 100, true);
		add_scorer(DEVIANT_SCORER, 100, false);
		let mut p = params();
		p.max_updates = 4;
		let owner_before = (free(OWNER), total(OWNER));
		assert_ok!(TrainingRounds::open_round(RuntimeOrigin::signed(OWNER), 0, None, p, POT));
		// The pot and the deposit are held, nothing more.
		assert_eq!(free(OWNER), owner_before.0 - POT - 50);
		assert_eq!((held(HoldReason::Pot, OWNER), held(HoldReason::Deposit, OWNER)), (POT, 50));
		assert_eq!(jobs()[0].subject, JobSubject::RoundBase(0));
		assert_eq!(jobs()[0].check, ArtifactCheck::None);
		conclude(0, JobOutcome::Scored(BASE_SCORE));
		assert_eq!(last_event(), Event::BaseScored { round: 0, score: BASE_SCORE });

		let a = submit(HONEST_A, 1, 600, vec![DATA_1]);
		let b = submit(HONEST_B, 2, 400, vec![DATA_2]);
		let lazy = submit(LAZY, 3, 300, vec![GOLDEN]);
		let poisoned = submit(POISONER, 4, 600, vec![DATA_1, DATA_2]);
		for who in [HONEST_A, HONEST_B, LAZY, POISONER] {
			assert_eq!(free(who), ENDOWMENT - STAKE - 20);
			assert_eq!((held(HoldReason::Stake, who), held(HoldReason::Deposit, who)), (STAKE, 20));
		}
		// Nothing is scored before the submission window ends.
		assert_eq!(jobs().len(), 1);
		assert_eq!(state_of(a), UpdateState::Submitted);
		score_updates();
		assert_eq!(jobs().len(), 5);
		assert!(events().contains(&Event::UpdateScoringStarted { round: 0, update: a, job: 1 }));
		// Every update is checked against the base's graph.
		assert_eq!(
			jobs()[job_of(a) as usize].check,
			ArtifactCheck::SameGraphAs(artifact(100, ArtifactFormat::Onnx))
		);
		assert_eq!(held(HoldReason::Stake, HONEST_A), STAKE);
		assert_eq!(round().pending, 4);

		conclude(job_of(a), JobOutcome::Scored(600_000_000));
		conclude(job_of(b), JobOutcome::Scored(550_000_000));
		conclude(job_of(lazy), JobOutcome::Scored(505_000_000));
		conclude(job_of(poisoned), JobOutcome::Scored(100_000_000));
		assert_eq!(state_of(a), UpdateState::Accepted(600_000_000));
		assert_eq!(state_of(b), UpdateState::Accepted(550_000_000));
		assert_eq!(state_of(lazy), UpdateState::Rejected(505_000_000));
		assert_eq!(state_of(poisoned), UpdateState::Slashed(SlashReason::BelowFloor(100_000_000)));
		assert!(events().contains(&Event::UpdateSlashed {
			round: 0,
			update: poisoned,
			reason: SlashReason::BelowFloor(100_000_000),
			amount: STAKE,
			to: OWNER,
		}));
		// Honest and lazy stakes are back; the poisoned stake is in the pot.
		for who in [HONEST_A, HONEST_B, LAZY] {
			assert_eq!((free(who), total(who)), (ENDOWMENT - 20, ENDOWMENT));
		}
		assert_eq!((free(POISONER), total(POISONER)), (ENDOWMENT - STAKE - 20, ENDOWMENT - STAKE));
		assert_eq!(held(HoldReason::Pot, OWNER), POT + STAKE);
		assert_eq!(round().pot, POT + STAKE);
		assert_eq!(total(OWNER), owner_before.1 + STAKE);
		assert_eq!((round().pending, round().accepted), (0, 2));

		// The aggregate names the accepted updates in ascending id, weighted by samples.
		assert_ok!(TrainingRounds::submit_aggregate(
			RuntimeOrigin::signed(AGGREGATOR),
			0,
			artifact(50, ArtifactFormat::Onnx)
		));
		let job = round().aggregate.unwrap().job;
		let ArtifactCheck::AggregateOf { base, rule, parts } = jobs()[job as usize].check.clone()
		else {
			panic!("an aggregate job checks the aggregate")
		};
		assert_eq!((base, rule), (artifact(100, ArtifactFormat::Onnx), AggregationRule::FedAvg));
		assert_eq!(
			parts.into_inner(),
			vec![
				AggregatePart { artifact: artifact(1, ArtifactFormat::Onnx), weight: 600 },
				AggregatePart { artifact: artifact(2, ArtifactFormat::Onnx), weight: 400 },
			]
		);
		assert_eq!(held(HoldReason::Stake, AGGREGATOR), STAKE);

		conclude(job, JobOutcome::Scored(620_000_000));
		let version = 1;
		assert_eq!(round().state, RoundState::Finished(RoundOutcome::Aggregated(version)));
		assert!(events().contains(&Event::AggregateVerified {
			round: 0,
			version,
			score: 620_000_000
		}));
		let published = <Registry as ModelRegistry<AccountId>>::version(version).unwrap();
		assert_eq!(published.status, VersionStatus::Validated { score: 620_000_000 });
		assert_eq!(published.publisher, AGGREGATOR);
		let record = pallet_model_registry::Versions::<Test>::get(version).unwrap();
		assert_eq!(record.kind, VersionKind::Aggregate);
		assert_eq!(record.parents.into_inner(), vec![0]);
		assert_eq!(record.datasets.into_inner(), vec![DATA_1, DATA_2]);
		// The aggregator's stake is back; it holds the version's registry deposit.
		assert_eq!(held(HoldReason::Stake, AGGREGATOR), 0);
		assert_eq!(total(AGGREGATOR), ENDOWMENT);

		// Settled: the pot with the slash (1 100) left the owner for the rewards account. Six jobs
		// counted (base, four updates, aggregate), each with both scorers: work 1 200, honest 600.
		// Validators 10 % = 110: 55 to the honest one, 55 forfeited (into the reserve). Contributors
		// 990 by gain × samples, 100 M × 600 : 50 M × 400 = 3 : 1 → 742 and 247; of each, 20 % to
		// the datasets' owner (148 and 49). Dust 1.
		assert_eq!(held(HoldReason::Pot, OWNER), 0);
		assert_eq!(total(OWNER), owner_before.1 - POT);
		assert_eq!(pending(HONEST_A), 742 - 148);
		assert_eq!(pending(HONEST_B), 247 - 49);
		assert_eq!(pending(DATA_OWNER), 148 + 49);
		assert_eq!(pending(HONEST_SCORER), 55);
		assert_eq!(pending(DEVIANT_SCORER), 0);
		assert_eq!((pending(LAZY), pending(POISONER), pending(OWNER)), (0, 0, 0));
		assert_eq!(pallet_rewards::Reserve::<Test>::get(), 55 + 1);
		for who in [HONEST_A, HONEST_B, DATA_OWNER, HONEST_SCORER] {
			let (before, owed) = (free(who), pending(who));
			assert_ok!(Rewards::claim_rewards(RuntimeOrigin::signed(LAZY), who));
			assert_eq!(free(who), before + owed);
		}
		// Nothing was minted or burnt: the slash and the pot only moved.
		assert_eq!(issuance_of_participants(), Balances::total_issuance());
	});
}

/// Round 0 with its base scored and HONEST_A's update accepted, at the end of the submission window.
fn open_with_one_accepted_update() {
	open();
	conclude(0, JobOutcome::Scored(BASE_SCORE));
	let a = submit(HONEST_A, 1, 600, vec![DATA_1]);
	score_updates();
	assert_eq!(round().submission_end, 11);
	conclude(job_of(a), JobOutcome::Scored(600_000_000));
}

#[test]
fn a_lying_aggregate_is_slashed_and_an_honest_one_may_follow() {
	ExtBuilder::build_and_execute(|| {
		open_with_one_accepted_update();
		assert_ok!(TrainingRounds::submit_aggregate(
			RuntimeOrigin::signed(AGGREGATOR),
			0,
			artifact(50, ArtifactFormat::Onnx)
		));
		let job = round().aggregate.unwrap().job;
		conclude(job, JobOutcome::Invalid(ArtifactFault::AggregateMismatch));
		assert_eq!(
			last_event(),
			Event::AggregateSlashed {
				round: 0,
				submitter: AGGREGATOR,
				reason: SlashReason::Invalid(ArtifactFault::AggregateMismatch),
				amount: STAKE,
				to: OWNER,
			}
		);
		assert_eq!(total(AGGREGATOR), ENDOWMENT - STAKE);
		assert_eq!(round().pot, POT + STAKE);
		assert_eq!(round().state, RoundState::Open);

		assert_ok!(TrainingRounds::submit_aggregate(
			RuntimeOrigin::signed(HONEST_A),
			0,
			artifact(51, ArtifactFormat::Onnx)
		));
		conclude(round().aggregate.unwrap().job, JobOutcome::Scored(610_000_000));
		assert_eq!(round().state, RoundState::Finished(RoundOutcome::Aggregated(1)));
	});
}

#[test]
fn an_aggregate_nobody_scored_is_released_and_may_be_submitted_again() {
	ExtBuilder::build_and_execute(|| {
		open_with_one_accepted_update();
		let agg = artifact(50, ArtifactFormat::Onnx);
		assert_ok!(TrainingRounds::submit_aggregate(
			RuntimeOrigin::signed(AGGREGATOR),
			0,
			agg.clone()
		));
		conclude(round().aggregate.unwrap().job, JobOutcome::NoQuorum);
		assert_eq!(last_event(), Event::AggregateUnscored { round: 0 });
		assert_eq!(total(AGGREGATOR), ENDOWMENT);
		assert_eq!(free(AGGREGATOR), ENDOWMENT);
		assert_ok!(TrainingRounds::submit_aggregate(RuntimeOrigin::signed(AGGREGATOR), 0, agg));
	});
}

#[test]
fn without_an_aggregate_the_best_accepted_update_is_published_at_close() {
	ExtBuilder::build_and_execute(|| {
		open();
		conclude(0, JobOutcome::Scored(BASE_SCORE));
		let a = submit(HONEST_A, 1, 600, vec![DATA_1]);
		let b = submit(HONEST_B, 2, 400, vec![DATA_2]);
		score_updates();
		conclude(job_of(b), JobOutcome::Scored(650_000_000));
		go_to(14);
		conclude(job_of(a), JobOutcome::Scored(600_000_000));
		// The aggregation window runs `aggregation_blocks` after the last verdict.
		assert_eq!(round().aggregation_end(), 24);
		go_to(23);
		assert_noop!(
			TrainingRounds::close_round(RuntimeOrigin::signed(LAZY), 0),
			Error::<Test>::CannotCloseYet
		);
		go_to(24);
		assert_noop!(
			TrainingRounds::submit_aggregate(
				RuntimeOrigin::signed(AGGREGATOR),
				0,
				artifact(50, ArtifactFormat::Onnx)
			),
			Error::<Test>::AggregationClosed
		);
		assert_ok!(TrainingRounds::close_round(RuntimeOrigin::signed(LAZY), 0));
		assert_eq!(round().state, RoundState::Finished(RoundOutcome::BestUpdate(1)));
		let record = pallet_model_registry::Versions::<Test>::get(1).unwrap();
		assert_eq!(record.publisher, HONEST_B);
		assert_eq!(record.kind, VersionKind::FineTune);
		assert_eq!(record.parents.into_inner(), vec![0]);
		assert_eq!(record.datasets.into_inner(), vec![DATA_2]);
		assert_eq!(record.status, VersionStatus::Validated { score: 650_000_000 });
		assert_noop!(
			TrainingRounds::close_round(RuntimeOrigin::signed(LAZY), 0),
			Error::<Test>::RoundFinished
		);
	});
}

#[test]
fn a_round_without_accepted_updates_closes_with_no_improvement() {
	ExtBuilder::build_and_execute(|| {
		open();
		conclude(0, JobOutcome::Scored(BASE_SCORE));
		let lazy = submit(LAZY, 1, 100, vec![DATA_1]);
		score_updates();
		conclude(job_of(lazy), JobOutcome::Scored(BASE_SCORE));
		assert_noop!(
			TrainingRounds::submit_aggregate(
				RuntimeOrigin::signed(AGGREGATOR),
				0,
				artifact(50, ArtifactFormat::Onnx)
			),
			Error::<Test>::NothingToAggregate
		);
		assert_ok!(TrainingRounds::close_round(RuntimeOrigin::signed(LAZY), 0));
		assert_eq!(
			last_event(),
			Event::RoundFinished { round: 0, outcome: RoundOutcome::NoImprovement }
		);
		// The pot left the owner's hold and was credited back to it (nobody scored: no validator
		// share); the records' deposits stay held with the records.
		assert_eq!(held(HoldReason::Pot, OWNER), 0);
		assert_eq!(held(HoldReason::Deposit, OWNER), 50);
		assert_eq!(pending(OWNER), POT);
		let free_before = free(OWNER);
		assert_ok!(Rewards::claim_rewards(RuntimeOrigin::signed(OWNER), OWNER));
		assert_eq!(free(OWNER), free_before + POT);
	});
}

#[test]
fn updates_scored_before_the_base_wait_for_its_score() {
	ExtBuilder::build_and_execute(|| {
		open();
		let a = submit(HONEST_A, 1, 600, vec![DATA_1]);
		let p = submit(POISONER, 2, 600, vec![DATA_1]);
		score_updates();
		conclude(job_of(a), JobOutcome::Scored(600_000_000));
		conclude(job_of(p), JobOutcome::Scored(10_000_000));
		assert_eq!(state_of(a), UpdateState::Scored(600_000_000));
		assert_eq!(held(HoldReason::Stake, HONEST_A), STAKE);
		assert_eq!(round().pending, 2);
		conclude(0, JobOutcome::Scored(BASE_SCORE));
		assert_eq!(state_of(a), UpdateState::Accepted(600_000_000));
		assert_eq!(state_of(p), UpdateState::Slashed(SlashReason::BelowFloor(10_000_000)));
		assert_eq!((round().pending, round().accepted), (0, 1));
	});
}

#[test]
fn an_unscorable_base_finishes_the_round_and_releases_every_stake() {
	ExtBuilder::build_and_execute(|| {
		open();
		add_scorer(HONEST_SCORER, 100, true);
		let a = submit(HONEST_A, 1, 600, vec![DATA_1]);
		let b = submit(HONEST_B, 2, 400, vec![DATA_2]);
		let poisoned = submit(POISONER, 4, 600, vec![DATA_1]);
		score_updates();
		conclude(job_of(a), JobOutcome::Scored(600_000_000));
		conclude(0, JobOutcome::Invalid(ArtifactFault::GoldenSetUnusable));
		// The validator who agreed the base was unscorable earned 10 % of the pot; the rest went back
		// to the owner, as a refund to claim.
		assert_eq!(held(HoldReason::Pot, OWNER), 0);
		assert_eq!(pending(HONEST_SCORER), POT / 10);
		assert_eq!(pending(OWNER), POT - POT / 10);
		// A model that is itself invalid, judged after the round finished, is still slashed: to the
		// owner, free, since the settled pot takes nothing more.
		let owner_free = free(OWNER);
		conclude(job_of(poisoned), JobOutcome::Invalid(ArtifactFault::InvalidModel));
		assert_eq!(
			state_of(poisoned),
			UpdateState::Slashed(SlashReason::Invalid(ArtifactFault::InvalidModel))
		);
		assert_eq!(free(OWNER), owner_free + STAKE);
		assert_eq!(total(POISONER), ENDOWMENT - STAKE);
		// Nor does a verdict on a settled round leave work to pay.
		assert_eq!(pallet_rewards::Work::<Test>::iter().count(), 0);
		assert_eq!(round().state, RoundState::Finished(RoundOutcome::BaseUnscorable));
		assert_eq!(state_of(a), UpdateState::Unscored);
		assert_eq!(total(HONEST_A), ENDOWMENT);
		// B's verdict arrives later: released too, whatever it says.
		conclude(job_of(b), JobOutcome::Scored(900_000_000));
		assert_eq!(state_of(b), UpdateState::Unscored);
		assert_eq!(free(HONEST_B), ENDOWMENT - 20);
		assert_noop!(
			TrainingRounds::join_round(RuntimeOrigin::signed(LAZY), 0, vec![DATA_1]),
			Error::<Test>::RoundFinished
		);
	});
}

#[test]
fn a_round_whose_base_was_unscorable_releases_its_contributors_when_the_window_ends() {
	ExtBuilder::build_and_execute(|| {
		open();
		let a = submit(HONEST_A, 1, 600, vec![DATA_1]);
		let b = join(HONEST_B, vec![DATA_2]);
		conclude(0, JobOutcome::NoQuorum);
		assert_eq!(round().state, RoundState::Finished(RoundOutcome::BaseUnscorable));
		assert_noop!(
			TrainingRounds::submit_update(
				RuntimeOrigin::signed(HONEST_B),
				0,
				artifact(2, ArtifactFormat::Onnx),
				1
			),
			Error::<Test>::RoundFinished
		);
		// Stakes stay held until the window ends, then come back; no job is opened.
		assert_eq!(held(HoldReason::Stake, HONEST_A), STAKE);
		score_updates();
		assert_eq!(jobs().len(), 1);
		assert_eq!((state_of(a), state_of(b)), (UpdateState::Unscored, UpdateState::Lapsed));
		assert_eq!((total(HONEST_A), total(HONEST_B)), (ENDOWMENT, ENDOWMENT));
		assert_eq!((free(HONEST_A), free(HONEST_B)), (ENDOWMENT - 20, ENDOWMENT - 20));
		assert_eq!(round().pending, 0);
	});
}

#[test]
fn invalid_updates_are_slashed_but_failures_that_are_not_theirs_are_not() {
	ExtBuilder::build_and_execute(|| {
		open();
		conclude(0, JobOutcome::Scored(BASE_SCORE));
		let wrong_graph = submit(POISONER, 1, 600, vec![DATA_1]);
		let golden_broken = submit(HONEST_A, 2, 600, vec![DATA_1]);
		let nobody = submit(HONEST_B, 3, 400, vec![DATA_2]);
		score_updates();
		conclude(job_of(wrong_graph), JobOutcome::Invalid(ArtifactFault::ArchitectureMismatch));
		conclude(job_of(golden_broken), JobOutcome::Invalid(ArtifactFault::ReferenceUnusable));
		conclude(job_of(nobody), JobOutcome::NoQuorum);
		assert_eq!(
			state_of(wrong_graph),
			UpdateState::Slashed(SlashReason::Invalid(ArtifactFault::ArchitectureMismatch))
		);
		assert_eq!(state_of(golden_broken), UpdateState::Unscored);
		assert_eq!(state_of(nobody), UpdateState::Unscored);
		assert_eq!(total(POISONER), ENDOWMENT - STAKE);
		assert_eq!((total(HONEST_A), total(HONEST_B)), (ENDOWMENT, ENDOWMENT));
	});
}

#[test]
fn slashes_go_to_the_configured_account_when_there_is_one() {
	ExtBuilder::build_and_execute(|| {
		SlashedTo::set(Some(TREASURY));
		open();
		conclude(0, JobOutcome::Scored(BASE_SCORE));
		let p = submit(POISONER, 1, 600, vec![DATA_1]);
		score_updates();
		conclude(job_of(p), JobOutcome::Invalid(ArtifactFault::NonFiniteOutput));
		assert_eq!(free(TREASURY), ENDOWMENT + STAKE);
		assert_eq!(round().pot, POT);
		assert_eq!(total(POISONER), ENDOWMENT - STAKE);
	});
}

#[test]
fn for_a_loss_metric_lower_scores_are_better() {
	ExtBuilder::build_and_execute(|| {
		setup();
		let mut p = params();
		p.metric = Metric::MeanSquaredError;
		assert_ok!(TrainingRounds::open_round(RuntimeOrigin::signed(OWNER), 0, None, p, POT));
		conclude(0, JobOutcome::Scored(BASE_SCORE));
		let better = submit(HONEST_A, 1, 600, vec![DATA_1]);
		let worse = submit(POISONER, 2, 600, vec![DATA_1]);
		let close = submit(LAZY, 3, 600, vec![DATA_1]);
		score_updates();
		conclude(job_of(better), JobOutcome::Scored(400_000_000));
		conclude(job_of(worse), JobOutcome::Scored(600_000_000));
		conclude(job_of(close), JobOutcome::Scored(540_000_000));
		assert_eq!(state_of(better), UpdateState::Accepted(400_000_000));
		assert_eq!(state_of(worse), UpdateState::Slashed(SlashReason::BelowFloor(600_000_000)));
		assert_eq!(state_of(close), UpdateState::Rejected(540_000_000));
	});
}

#[test]
fn a_verified_aggregate_the_registry_refuses_leaves_the_round_open() {
	ExtBuilder::build_and_execute(|| {
		open_with_one_accepted_update();
		assert_ok!(TrainingRounds::submit_aggregate(
			RuntimeOrigin::signed(AGGREGATOR),
			0,
			artifact(50, ArtifactFormat::Onnx)
		));
		assert_ok!(Registry::retire_model(RuntimeOrigin::signed(OWNER), 0));
		conclude(round().aggregate.unwrap().job, JobOutcome::Scored(610_000_000));
		assert!(matches!(last_event(), Event::AggregateNotPublished { round: 0, .. }));
		assert_eq!(round().state, RoundState::Open);
		assert_eq!(total(AGGREGATOR), ENDOWMENT);
		go_to(21);
		assert_ok!(TrainingRounds::close_round(RuntimeOrigin::signed(LAZY), 0));
		assert_eq!(round().state, RoundState::Finished(RoundOutcome::NotPublished));
	});
}
