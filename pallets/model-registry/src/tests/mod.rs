//! Unit tests, one behaviour each. `ExtBuilder::build_and_execute` runs `try_state` after every test.

mod canonical;
mod datasets;
mod evaluation;
mod models;
mod queries;
mod versions;

use crate::{mock::*, *};
use frame_support::{assert_ok, traits::fungible::InspectHold};
use modelchain_primitives::{Artifact, ArtifactFormat};

pub fn artifact(seed: u8) -> Artifact {
	Artifact {
		uri: format!("ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy{seed:03}")
			.into_bytes()
			.try_into()
			.unwrap(),
		digest: [seed.max(1); 32],
		size: 1_000 + seed as u64,
		format: ArtifactFormat::Onnx,
	}
}

pub fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Registry(HoldReason::RegistryDeposit), &who)
}

pub fn last_event() -> RuntimeEvent {
	System::events().pop().expect("an event").event
}

/// Registers a model owned by `owner` with an `AtLeast(threshold)` bar; returns its id.
pub fn register_model_with_threshold(owner: AccountId, threshold: Score) -> ModelId {
	let id = NextModelId::<Test>::get();
	assert_ok!(Registry::register_model(
		RuntimeOrigin::signed(owner),
		b"digits-classifier".to_vec(),
		TaskKind::Classification,
		b"Apache-2.0".to_vec(),
		b"https://example.org/cards/digits".to_vec(),
		vec![b"vision".to_vec(), b"mnist".to_vec()],
		ScoreThreshold::AtLeast(threshold),
	));
	id
}

pub fn register_model(owner: AccountId) -> ModelId {
	register_model_with_threshold(owner, 900_000_000)
}

/// Publishes a version of `model` (by its owner `who`) with these parents; returns its id.
pub fn publish(
	who: AccountId,
	model: ModelId,
	kind: VersionKind,
	parents: Vec<VersionId>,
) -> VersionId {
	publish_with_datasets(who, model, kind, parents, vec![])
}

pub fn publish_with_datasets(
	who: AccountId,
	model: ModelId,
	kind: VersionKind,
	parents: Vec<VersionId>,
	datasets: Vec<DatasetId>,
) -> VersionId {
	let id = NextVersionId::<Test>::get();
	assert_ok!(Registry::publish_version(
		RuntimeOrigin::signed(who),
		model,
		artifact(id as u8 + 1),
		kind,
		parents,
		Some([9; 32]),
		datasets,
		vec![(b"val_accuracy".to_vec(), 950_000_000)],
	));
	id
}

/// Publishes a version as `who`, with no hyper-parameter digest; returns the call's result.
pub fn try_publish(
	who: AccountId,
	model: ModelId,
	artifact: Artifact,
	kind: VersionKind,
	parents: Vec<VersionId>,
	datasets: Vec<DatasetId>,
	metrics: Vec<(Vec<u8>, i64)>,
) -> sp_runtime::DispatchResult {
	Registry::publish_version(
		RuntimeOrigin::signed(who),
		model,
		artifact,
		kind,
		parents,
		None,
		datasets,
		metrics,
	)
}

pub fn register_dataset(owner: AccountId) -> DatasetId {
	let id = NextDatasetId::<Test>::get();
	assert_ok!(Registry::register_dataset(
		RuntimeOrigin::signed(owner),
		Artifact { format: ArtifactFormat::Safetensors, ..artifact(200 + id as u8) },
		1_797,
		b"CC-BY-4.0".to_vec(),
		Some(b"https://example.org/schemas/digits".to_vec()),
	));
	id
}

pub fn validate(version: VersionId, score: Score) {
	assert_ok!(Registry::report_evaluation(
		RuntimeOrigin::root(),
		version,
		EvaluationOutcome::Validated(score)
	));
}

/// A model with a validated initial version; returns (model, version).
pub fn validated_model(owner: AccountId) -> (ModelId, VersionId) {
	let model = register_model(owner);
	let version = publish(owner, model, VersionKind::Initial, vec![]);
	validate(version, 950_000_000);
	(model, version)
}
