//! The rounds pallet's behaviour, one behaviour per test. Every test ends with both pallets'
//! `try_state` invariants (see `ExtBuilder::build_and_execute`).

mod lifecycle;
mod migrations;
mod submissions;

use crate::{mock::*, *};
use frame_support::{
	assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use modelchain_primitives::{
	AggregationRule, Artifact, ArtifactFormat, JobOutcome, Metric, ModelId, RoundId, Score,
	UpdateId, VersionId,
};
use pallet_model_registry::{EvaluationOutcome, ScoreThreshold, TaskKind, VersionKind};

pub const BASE_SCORE: Score = 500_000_000;
pub const STAKE: Balance = 100;
pub const POT: Balance = 1_000;
pub const GOLDEN: u64 = 0;
pub const DATA_1: u64 = 1;
pub const DATA_2: u64 = 2;

pub fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| if let RuntimeEvent::TrainingRounds(e) = r.event { Some(e) } else { None })
		.collect()
}

pub fn last_event() -> Event<Test> {
	events().pop().expect("an event")
}

/// A model of OWNER with a canonical version 0, a golden dataset (0) and two training datasets of
/// DATA_OWNER (1: 600 samples, 2: 400 samples).
pub fn setup() -> (ModelId, VersionId) {
	assert_ok!(Registry::register_model(
		RuntimeOrigin::signed(OWNER),
		b"digits".to_vec(),
		TaskKind::Classification,
		b"MIT".to_vec(),
		b"https://example.org/card".to_vec(),
		vec![],
		ScoreThreshold::AtLeast(0),
	));
	assert_ok!(Registry::publish_version(
		RuntimeOrigin::signed(OWNER),
		0,
		artifact(100, ArtifactFormat::Onnx),
		VersionKind::Initial,
		vec![],
		None,
		vec![],
		vec![],
	));
	assert_ok!(Registry::report_evaluation(
		RuntimeOrigin::root(),
		0,
		EvaluationOutcome::Validated(BASE_SCORE)
	));
	assert_ok!(Registry::set_canonical(RuntimeOrigin::root(), 0, 0));
	for (seed, samples, format) in [
		(101, 300, ArtifactFormat::Safetensors),
		(102, 600, ArtifactFormat::Safetensors),
		(103, 400, ArtifactFormat::Safetensors),
	] {
		assert_ok!(Registry::register_dataset(
			RuntimeOrigin::signed(DATA_OWNER),
			artifact(seed, format),
			samples,
			b"CC0-1.0".to_vec(),
			None,
		));
	}
	(0, 0)
}

pub fn params() -> RoundParamsOf<Test> {
	RoundParams {
		golden: GOLDEN,
		metric: Metric::Accuracy,
		min_improvement: 10_000_000,
		tolerance: 50_000_000,
		rule: AggregationRule::FedAvg,
		stake: STAKE,
		max_updates: 3,
		submission_blocks: 10,
		aggregation_blocks: 10,
	}
}

/// Sets up the registry and opens round 0 with `params()`; the base's job is job 0.
pub fn open() -> RoundId {
	setup();
	assert_ok!(TrainingRounds::open_round(RuntimeOrigin::signed(OWNER), 0, None, params(), POT));
	0
}

/// `who` joins round 0 declaring `datasets`; returns its update's id.
pub fn join(who: AccountId, datasets: Vec<u64>) -> UpdateId {
	assert_ok!(TrainingRounds::join_round(RuntimeOrigin::signed(who), 0, datasets));
	ContributorUpdate::<Test>::get(0, who).expect("the contributor joined")
}

/// `who` submits (joining round 0 first with `datasets` if it has not) the update `seed`.
pub fn submit(who: AccountId, seed: u8, samples: u64, datasets: Vec<u64>) -> UpdateId {
	let id = match ContributorUpdate::<Test>::get(0, who) {
		Some(id) => {
			assert_eq!(Updates::<Test>::get(id).unwrap().datasets.into_inner(), datasets);
			id
		},
		None => join(who, datasets),
	};
	assert_ok!(TrainingRounds::submit_update(
		RuntimeOrigin::signed(who),
		0,
		artifact(seed, ArtifactFormat::Onnx),
		samples,
	));
	id
}

/// Goes to the end of round 0's submission window and runs that block's hook: the submitted
/// updates' scoring jobs open.
pub fn score_updates() {
	let end = round().submission_end;
	go_to(end);
	<TrainingRounds as frame_support::traits::Hooks<u64>>::on_initialize(end);
}

/// The job of an update's current artifact.
pub fn job_of(update: UpdateId) -> JobId {
	match Updates::<Test>::get(update).unwrap().state {
		UpdateState::Scoring(job) => job,
		other => panic!("update {update} is not being scored: {other:?}"),
	}
}

pub fn state_of(update: UpdateId) -> UpdateState {
	Updates::<Test>::get(update).unwrap().state
}

pub fn round() -> RoundOf<Test> {
	Rounds::<Test>::get(0).unwrap()
}

pub fn go_to(block: u64) {
	System::set_block_number(block);
}

pub fn free(who: AccountId) -> Balance {
	Balances::balance(&who)
}

pub fn held(reason: HoldReason, who: AccountId) -> Balance {
	Balances::balance_on_hold(&reason.into(), &who)
}

pub fn total(who: AccountId) -> Balance {
	Balances::total_balance(&who)
}

use modelchain_primitives::JobId;
