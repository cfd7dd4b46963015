use super::*;
use frame_support::{assert_noop, assert_ok};
use modelchain_primitives::{ArtifactFormat, RejectionReason};

#[test]
fn publish_version_records_an_immutable_candidate_with_its_deposit() {
	ExtBuilder::build_and_execute(|| {
		let model = register_model(ALICE);
		let model_deposit = held(ALICE);
		let v = publish(ALICE, model, VersionKind::Initial, vec![]);
		let version = Versions::<Test>::get(v).unwrap();
		assert_eq!(version.status, VersionStatus::Candidate);
		assert_eq!(version.artifact, artifact(v as u8 + 1));
		assert_eq!(version.published_at, 1);
		assert_eq!(version.index, 0);
		assert_eq!(Models::<Test>::get(model).unwrap().version_count, 1);
		assert_eq!(ModelVersions::<Test>::get(model, 0), Some(v));
		assert_eq!(held(ALICE), model_deposit + version.deposit);
		assert_eq!(
			last_event(),
			RuntimeEvent::Registry(Event::VersionPublished {
				model,
				version: v,
				publisher: ALICE,
				digest: version.artifact.digest,
				deposit: version.deposit,
			})
		);
	});
}

#[test]
fn only_the_model_owner_publishes() {
	ExtBuilder::build_and_execute(|| {
		let model = register_model(ALICE);
		assert_noop!(
			try_publish(BOB, model, artifact(1), VersionKind::Initial, vec![], vec![], vec![]),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			try_publish(ALICE, 7, artifact(1), VersionKind::Initial, vec![], vec![], vec![]),
			Error::<Test>::UnknownModel
		);
	});
}

#[test]
fn malformed_artifacts_are_refused_with_specific_errors() {
	ExtBuilder::build_and_execute(|| {
		let m = register_model(ALICE);
		let bad_uri = |uri: &str| Artifact {
			uri: uri.as_bytes().to_vec().try_into().unwrap(),
			..artifact(1)
		};
		for uri in
			["ftp://host/model.onnx", "ipfs://", "s3://bucket/key", "https://", "ipfs://has space"]
		{
			assert_noop!(
				try_publish(ALICE, m, bad_uri(uri), VersionKind::Initial, vec![], vec![], vec![]),
				Error::<Test>::BadUri
			);
		}
		assert_noop!(
			try_publish(
				ALICE,
				m,
				Artifact { digest: [0; 32], ..artifact(1) },
				VersionKind::Initial,
				vec![],
				vec![],
				vec![]
			),
			Error::<Test>::ZeroDigest
		);
		assert_noop!(
			try_publish(
				ALICE,
				m,
				Artifact { size: 0, ..artifact(1) },
				VersionKind::Initial,
				vec![],
				vec![],
				vec![]
			),
			Error::<Test>::EmptyArtifact
		);
	});
}

#[test]
fn parents_must_fit_the_kind_exist_be_unique_and_belong_to_the_model() {
	ExtBuilder::build_and_execute(|| {
		let m = register_model(ALICE);
		let other = register_model(ALICE);
		let base = publish(ALICE, m, VersionKind::Initial, vec![]);
		let foreign = publish(ALICE, other, VersionKind::Initial, vec![]);
		let a = artifact(30);
		assert_noop!(
			try_publish(ALICE, m, a.clone(), VersionKind::Initial, vec![base], vec![], vec![]),
			Error::<Test>::ParentsDoNotMatchKind
		);
		assert_noop!(
			try_publish(ALICE, m, a.clone(), VersionKind::FineTune, vec![], vec![], vec![]),
			Error::<Test>::ParentsDoNotMatchKind
		);
		assert_noop!(
			try_publish(ALICE, m, a.clone(), VersionKind::Merge, vec![base], vec![], vec![]),
			Error::<Test>::ParentsDoNotMatchKind
		);
		assert_noop!(
			try_publish(ALICE, m, a.clone(), VersionKind::Merge, vec![base, base], vec![], vec![]),
			Error::<Test>::DuplicateParent
		);
		assert_noop!(
			try_publish(ALICE, m, a.clone(), VersionKind::FineTune, vec![42], vec![], vec![]),
			Error::<Test>::UnknownParent
		);
		assert_noop!(
			try_publish(ALICE, m, a.clone(), VersionKind::FineTune, vec![foreign], vec![], vec![]),
			Error::<Test>::ParentOfAnotherModel
		);
		assert_noop!(
			try_publish(ALICE, m, a, VersionKind::Aggregate, vec![0, 1, 2, 3, 4], vec![], vec![]),
			Error::<Test>::TooManyParents
		);
	});
}

#[test]
fn a_version_can_never_be_its_own_ancestor() {
	// Parents must exist before the version is published, and ids only grow: a version's parents
	// always have lower ids, so no cycle can be built. The only way to name the new id is to guess it.
	ExtBuilder::build_and_execute(|| {
		let m = register_model(ALICE);
		let next = NextVersionId::<Test>::get();
		assert_noop!(
			try_publish(ALICE, m, artifact(1), VersionKind::FineTune, vec![next], vec![], vec![]),
			Error::<Test>::UnknownParent
		);
	});
}

#[test]
fn datasets_and_metrics_are_checked() {
	ExtBuilder::build_and_execute(|| {
		let m = register_model(ALICE);
		let d = register_dataset(BOB);
		let a = artifact(1);
		assert_noop!(
			try_publish(ALICE, m, a.clone(), VersionKind::Initial, vec![], vec![d, d], vec![]),
			Error::<Test>::DuplicateDataset
		);
		assert_noop!(
			try_publish(ALICE, m, a.clone(), VersionKind::Initial, vec![], vec![9], vec![]),
			Error::<Test>::UnknownDataset
		);
		assert_noop!(
			try_publish(
				ALICE,
				m,
				a.clone(),
				VersionKind::Initial,
				vec![],
				vec![d, 1, 2, 3, 4],
				vec![]
			),
			Error::<Test>::TooManyDatasets
		);
		assert_noop!(
			try_publish(
				ALICE,
				m,
				a.clone(),
				VersionKind::Initial,
				vec![],
				vec![],
				vec![(vec![], 1)]
			),
			Error::<Test>::BadMetricKey
		);
		assert_noop!(
			try_publish(
				ALICE,
				m,
				a.clone(),
				VersionKind::Initial,
				vec![],
				vec![],
				vec![(vec![b'k'; 17], 1)]
			),
			Error::<Test>::MetricKeyTooLong
		);
		assert_noop!(
			try_publish(
				ALICE,
				m,
				a.clone(),
				VersionKind::Initial,
				vec![],
				vec![],
				vec![(b"acc".to_vec(), 1), (b"acc".to_vec(), 2)]
			),
			Error::<Test>::DuplicateMetric
		);
		assert_noop!(
			try_publish(
				ALICE,
				m,
				a,
				VersionKind::Initial,
				vec![],
				vec![],
				(0..5u8).map(|i| (vec![b'a' + i], 1)).collect()
			),
			Error::<Test>::TooManyMetrics
		);
	});
}

#[test]
fn evaluation_moves_a_candidate_to_validated_or_rejected_once() {
	ExtBuilder::build_and_execute(|| {
		let m = register_model(ALICE);
		let good = publish(ALICE, m, VersionKind::Initial, vec![]);
		let bad = publish(ALICE, m, VersionKind::Initial, vec![]);
		validate(good, 970_000_000);
		assert_eq!(
			last_event(),
			RuntimeEvent::Registry(Event::VersionValidated { version: good, score: 970_000_000 })
		);
		assert_ok!(Registry::report_evaluation(
			RuntimeOrigin::root(),
			bad,
			EvaluationOutcome::Rejected(RejectionReason::DigestMismatch)
		));
		assert_eq!(
			Versions::<Test>::get(bad).unwrap().status,
			VersionStatus::Rejected { reason: RejectionReason::DigestMismatch }
		);
		assert_noop!(
			Registry::report_evaluation(
				RuntimeOrigin::root(),
				good,
				EvaluationOutcome::Validated(1)
			),
			Error::<Test>::NotCandidate
		);
		assert_noop!(
			Registry::report_evaluation(RuntimeOrigin::root(), 99, EvaluationOutcome::Validated(1)),
			Error::<Test>::UnknownVersion
		);
		assert_noop!(
			Registry::report_evaluation(
				RuntimeOrigin::signed(ALICE),
				bad,
				EvaluationOutcome::Validated(1)
			),
			sp_runtime::DispatchError::BadOrigin
		);
	});
}

#[test]
fn the_registry_trait_reads_versions_and_records_outcomes() {
	ExtBuilder::build_and_execute(|| {
		let m = register_model(ALICE);
		let v = publish(ALICE, m, VersionKind::Initial, vec![]);
		let view = <Registry as ModelRegistry<AccountId>>::version(v).unwrap();
		assert_eq!((view.model, view.publisher, view.status), (m, ALICE, VersionStatus::Candidate));
		assert_ok!(<Registry as ModelRegistry<AccountId>>::mark_rejected(
			v,
			RejectionReason::Unavailable
		));
		assert!(<Registry as ModelRegistry<AccountId>>::mark_validated(v, 1).is_err());
		let d = register_dataset(BOB);
		let dataset = <Registry as ModelRegistry<AccountId>>::dataset(d).unwrap();
		assert_eq!((dataset.owner, dataset.samples), (BOB, 1_797));
		assert_eq!(dataset.artifact.format, ArtifactFormat::Safetensors);
		assert!(<Registry as ModelRegistry<AccountId>>::version(99).is_none());
	});
}

#[test]
fn removing_a_version_returns_its_deposit_and_keeps_positions_dense() {
	ExtBuilder::build_and_execute(|| {
		let m = register_model(ALICE);
		let model_deposit = held(ALICE);
		let d = register_dataset(BOB);
		let v0 = publish(ALICE, m, VersionKind::Initial, vec![]);
		let v1 = publish_with_datasets(ALICE, m, VersionKind::FineTune, vec![v0], vec![d]);
		let v2 = publish(ALICE, m, VersionKind::Initial, vec![]);
		assert_eq!(Versions::<Test>::get(v0).unwrap().children, 1);
		assert_eq!(Datasets::<Test>::get(d).unwrap().references, 1);

		assert_noop!(
			Registry::remove_version(RuntimeOrigin::signed(ALICE), v0),
			Error::<Test>::VersionHasChildren
		);
		assert_noop!(
			Registry::remove_version(RuntimeOrigin::signed(BOB), v1),
			Error::<Test>::NotOwner
		);
		let deposit = Versions::<Test>::get(v1).unwrap().deposit;
		assert_ok!(Registry::remove_version(RuntimeOrigin::signed(ALICE), v1));
		assert_eq!(
			last_event(),
			RuntimeEvent::Registry(Event::VersionRemoved {
				model: m,
				version: v1,
				deposit_released: deposit
			})
		);
		assert_eq!(Versions::<Test>::get(v0).unwrap().children, 0);
		assert_eq!(Datasets::<Test>::get(d).unwrap().references, 0);
		// v2 moved into v1's position.
		assert_eq!(ModelVersions::<Test>::get(m, 1), Some(v2));
		assert_eq!(Versions::<Test>::get(v2).unwrap().index, 1);
		assert_eq!(Registry::versions_of(m, 0, 10), vec![v0, v2]);

		assert_ok!(Registry::remove_version(RuntimeOrigin::signed(ALICE), v0));
		assert_ok!(Registry::remove_version(RuntimeOrigin::signed(ALICE), v2));
		assert_eq!(held(ALICE), model_deposit);
		assert_noop!(
			Registry::remove_version(RuntimeOrigin::signed(ALICE), v2),
			Error::<Test>::UnknownVersion
		);
	});
}

#[test]
fn validated_and_canonical_versions_cannot_be_removed() {
	ExtBuilder::build_and_execute(|| {
		let (m, v) = validated_model(ALICE);
		assert_noop!(
			Registry::remove_version(RuntimeOrigin::signed(ALICE), v),
			Error::<Test>::VersionNotRemovable
		);
		assert_ok!(Registry::set_canonical(RuntimeOrigin::root(), m, v));
		assert_noop!(
			Registry::remove_version(RuntimeOrigin::signed(ALICE), v),
			Error::<Test>::VersionNotRemovable
		);
	});
}
