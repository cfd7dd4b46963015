//! Evaluation plans, and the scoring jobs the registry creates and hears back from.

use super::*;
use frame_support::assert_noop;
use modelchain_primitives::{
	ArtifactCheck, ArtifactFault, JobOutcome, JobSpec, JobSubject, Metric, ScoreConsumer,
};

fn plan(golden: DatasetId) -> Option<EvaluationPlan> {
	Some(EvaluationPlan { golden, metric: Metric::Accuracy })
}

/// A model with an accuracy plan on a golden dataset; returns (model, golden).
fn model_with_plan(owner: AccountId) -> (ModelId, DatasetId) {
	let model = register_model(owner);
	let golden = register_dataset(CHARLIE);
	assert_ok!(Registry::set_evaluation_plan(RuntimeOrigin::signed(owner), model, plan(golden)));
	(model, golden)
}

fn references(dataset: DatasetId) -> u32 {
	Datasets::<Test>::get(dataset).unwrap().references
}

fn status(version: VersionId) -> VersionStatus {
	Versions::<Test>::get(version).unwrap().status
}

fn conclude(job: JobId, version: VersionId, outcome: JobOutcome) {
	<Registry as ScoreConsumer>::job_concluded(job, JobSubject::Version(version), outcome);
}

#[test]
fn the_owner_sets_a_plan_that_references_its_golden_dataset() {
	ExtBuilder::build_and_execute(|| {
		let (model, golden) = model_with_plan(ALICE);
		assert_eq!(Models::<Test>::get(model).unwrap().evaluation, plan(golden));
		assert_eq!(references(golden), 1);
		assert_eq!(last_event(), Event::EvaluationPlanSet { model, plan: plan(golden) }.into());
		// The golden dataset cannot be removed while the plan names it.
		assert_noop!(
			Registry::remove_dataset(RuntimeOrigin::signed(CHARLIE), golden),
			Error::<Test>::DatasetInUse
		);
		// Replacing the plan moves the reference; removing it releases it.
		let other = register_dataset(CHARLIE);
		assert_ok!(Registry::set_evaluation_plan(RuntimeOrigin::signed(ALICE), model, plan(other)));
		assert_eq!((references(golden), references(other)), (0, 1));
		assert_ok!(Registry::set_evaluation_plan(RuntimeOrigin::signed(ALICE), model, None));
		assert_eq!(references(other), 0);
		assert_ok!(Registry::remove_dataset(RuntimeOrigin::signed(CHARLIE), golden));
	});
}

#[test]
fn a_plan_needs_the_owner_a_safetensors_dataset_and_a_metric_that_fits_the_threshold() {
	ExtBuilder::build_and_execute(|| {
		let model = register_model(ALICE);
		let golden = register_dataset(CHARLIE);
		assert_noop!(
			Registry::set_evaluation_plan(RuntimeOrigin::signed(BOB), model, plan(golden)),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Registry::set_evaluation_plan(RuntimeOrigin::signed(ALICE), model, plan(99)),
			Error::<Test>::UnknownDataset
		);
		let onnx = NextDatasetId::<Test>::get();
		assert_ok!(Registry::register_dataset(
			RuntimeOrigin::signed(CHARLIE),
			artifact(77),
			10,
			b"MIT".to_vec(),
			None
		));
		assert_noop!(
			Registry::set_evaluation_plan(RuntimeOrigin::signed(ALICE), model, plan(onnx)),
			Error::<Test>::NotGoldenDataset
		);
		// An accuracy model (`AtLeast`) cannot be scored by a loss.
		let loss = Some(EvaluationPlan { golden, metric: Metric::MeanSquaredError });
		assert_noop!(
			Registry::set_evaluation_plan(RuntimeOrigin::signed(ALICE), model, loss),
			Error::<Test>::MetricContradictsThreshold
		);
	});
}

#[test]
fn the_threshold_cannot_turn_against_the_plans_metric() {
	ExtBuilder::build_and_execute(|| {
		let (model, _) = model_with_plan(ALICE);
		assert_noop!(
			Registry::update_model(
				RuntimeOrigin::signed(ALICE),
				model,
				b"MIT".to_vec(),
				b"https://example.org/card".to_vec(),
				vec![],
				ScoreThreshold::AtMost(5),
			),
			Error::<Test>::MetricContradictsThreshold
		);
	});
}

#[test]
fn publishing_under_a_plan_creates_the_scoring_job() {
	ExtBuilder::build_and_execute(|| {
		let (model, golden) = model_with_plan(ALICE);
		let version = publish(ALICE, model, VersionKind::Initial, vec![]);
		let golden_artifact = Datasets::<Test>::get(golden).unwrap().artifact;
		assert_eq!(
			jobs(),
			vec![JobSpec {
				subject: JobSubject::Version(version),
				model: Versions::<Test>::get(version).unwrap().artifact,
				golden: golden_artifact,
				metric: Metric::Accuracy,
				check: ArtifactCheck::None,
			}]
		);
		assert_eq!(Versions::<Test>::get(version).unwrap().scoring_job, Some(0));
		assert_eq!(last_event(), Event::EvaluationRequested { version, job: 0 }.into());
	});
}

#[test]
fn without_a_plan_no_job_is_created() {
	ExtBuilder::build_and_execute(|| {
		let model = register_model(ALICE);
		let version = publish(ALICE, model, VersionKind::Initial, vec![]);
		assert!(jobs().is_empty());
		assert_eq!(Versions::<Test>::get(version).unwrap().scoring_job, None);
	});
}

#[test]
fn when_no_job_can_be_created_nothing_is_published() {
	ExtBuilder::build_and_execute(|| {
		let (model, _) = model_with_plan(ALICE);
		SCORING_FULL.with(|f| f.set(true));
		assert_noop!(
			try_publish(ALICE, model, artifact(1), VersionKind::Initial, vec![], vec![], vec![]),
			sp_runtime::DispatchError::Other("too many open jobs")
		);
	});
}

#[test]
fn a_scored_job_validates_the_version_with_the_median() {
	ExtBuilder::build_and_execute(|| {
		let (model, _) = model_with_plan(ALICE);
		let version = publish(ALICE, model, VersionKind::Initial, vec![]);
		conclude(0, version, JobOutcome::Scored(975_925_925));
		assert_eq!(status(version), VersionStatus::Validated { score: 975_925_925 });
		assert_eq!(Versions::<Test>::get(version).unwrap().scoring_job, None);
		// It can now be promoted by governance.
		assert_ok!(Registry::set_canonical(RuntimeOrigin::root(), model, version));
	});
}

#[test]
fn an_invalid_job_rejects_the_version_with_the_reason() {
	ExtBuilder::build_and_execute(|| {
		let (model, _) = model_with_plan(ALICE);
		for (fault, reason) in [
			(ArtifactFault::DigestMismatch, RejectionReason::DigestMismatch),
			(ArtifactFault::Unavailable, RejectionReason::Unavailable),
			(ArtifactFault::ShapeMismatch, RejectionReason::InvalidModel),
			(ArtifactFault::GoldenSetUnusable, RejectionReason::GoldenSetUnusable),
		] {
			let version = publish(ALICE, model, VersionKind::Initial, vec![]);
			let job = Versions::<Test>::get(version).unwrap().scoring_job.unwrap();
			conclude(job, version, JobOutcome::Invalid(fault));
			assert_eq!(status(version), VersionStatus::Rejected { reason });
		}
	});
}

#[test]
fn an_inconclusive_job_leaves_a_candidate_that_can_be_scored_again() {
	ExtBuilder::build_and_execute(|| {
		let (model, _) = model_with_plan(ALICE);
		let version = publish(ALICE, model, VersionKind::Initial, vec![]);
		assert_noop!(
			Registry::request_evaluation(RuntimeOrigin::signed(ALICE), version),
			Error::<Test>::EvaluationPending
		);
		conclude(0, version, JobOutcome::NoQuorum);
		assert_eq!(status(version), VersionStatus::Candidate);
		assert_eq!(last_event(), Event::EvaluationInconclusive { version, job: 0 }.into());
		assert_ok!(Registry::request_evaluation(RuntimeOrigin::signed(ALICE), version));
		assert_eq!(Versions::<Test>::get(version).unwrap().scoring_job, Some(1));
	});
}

#[test]
fn only_the_awaited_job_counts() {
	ExtBuilder::build_and_execute(|| {
		let (model, _) = model_with_plan(ALICE);
		let version = publish(ALICE, model, VersionKind::Initial, vec![]);
		// Governance evaluated it first: the job's later outcome changes nothing.
		validate(version, 5);
		conclude(0, version, JobOutcome::Invalid(ArtifactFault::InvalidModel));
		assert_eq!(status(version), VersionStatus::Validated { score: 5 });
		// A job about a removed version is ignored.
		let removed = publish(ALICE, model, VersionKind::Initial, vec![]);
		assert_ok!(Registry::remove_version(RuntimeOrigin::signed(ALICE), removed));
		conclude(1, removed, JobOutcome::Scored(1));
	});
}

#[test]
fn requesting_an_evaluation_needs_a_plan_a_candidate_and_a_stakeholder() {
	ExtBuilder::build_and_execute(|| {
		let model = register_model(ALICE);
		let version = publish(ALICE, model, VersionKind::Initial, vec![]);
		assert_noop!(
			Registry::request_evaluation(RuntimeOrigin::signed(ALICE), version),
			Error::<Test>::NoEvaluationPlan
		);
		let golden = register_dataset(CHARLIE);
		assert_ok!(Registry::set_evaluation_plan(
			RuntimeOrigin::signed(ALICE),
			model,
			plan(golden)
		));
		assert_noop!(
			Registry::request_evaluation(RuntimeOrigin::signed(BOB), version),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Registry::request_evaluation(RuntimeOrigin::signed(ALICE), 42),
			Error::<Test>::UnknownVersion
		);
		assert_ok!(Registry::request_evaluation(RuntimeOrigin::signed(ALICE), version));
		conclude(0, version, JobOutcome::Scored(1));
		assert_noop!(
			Registry::request_evaluation(RuntimeOrigin::signed(ALICE), version),
			Error::<Test>::NotCandidate
		);
	});
}

#[test]
fn removing_a_model_releases_its_golden_dataset() {
	ExtBuilder::build_and_execute(|| {
		let (model, golden) = model_with_plan(ALICE);
		assert_ok!(Registry::retire_model(RuntimeOrigin::signed(ALICE), model));
		assert_ok!(Registry::remove_model(RuntimeOrigin::signed(ALICE), model));
		assert_eq!(references(golden), 0);
	});
}
