use super::*;
use frame_support::assert_ok;

#[test]
fn canonical_at_answers_before_between_and_after_changes() {
	ExtBuilder::build_and_execute(|| {
		let (m, v1) = validated_model(ALICE);
		let v2 = publish(ALICE, m, VersionKind::FineTune, vec![v1]);
		validate(v2, 960_000_000);
		System::set_block_number(10);
		assert_ok!(Registry::set_canonical(RuntimeOrigin::root(), m, v1));
		System::set_block_number(20);
		assert_ok!(Registry::set_canonical(RuntimeOrigin::root(), m, v2));
		System::set_block_number(30);
		assert_ok!(Registry::rollback(RuntimeOrigin::root(), m));

		assert_eq!(Registry::canonical_at(m, 0), None);
		assert_eq!(Registry::canonical_at(m, 9), None);
		assert_eq!(Registry::canonical_at(m, 10), Some(v1));
		assert_eq!(Registry::canonical_at(m, 19), Some(v1));
		assert_eq!(Registry::canonical_at(m, 20), Some(v2));
		assert_eq!(Registry::canonical_at(m, 29), Some(v2));
		assert_eq!(Registry::canonical_at(m, 30), Some(v1));
		assert_eq!(Registry::canonical_at(m, 1_000_000), Some(v1));
		assert_eq!(Registry::canonical_at(99, 10), None);
	});
}

#[test]
fn two_changes_in_one_block_leave_the_end_of_block_state() {
	ExtBuilder::build_and_execute(|| {
		let (m, v1) = validated_model(ALICE);
		let v2 = publish(ALICE, m, VersionKind::FineTune, vec![v1]);
		validate(v2, 960_000_000);
		System::set_block_number(4);
		assert_ok!(Registry::set_canonical(RuntimeOrigin::root(), m, v1));
		assert_ok!(Registry::set_canonical(RuntimeOrigin::root(), m, v2));
		assert_eq!(Models::<Test>::get(m).unwrap().history_len, 1);
		assert_eq!(Registry::canonical_at(m, 4), Some(v2));
		assert_eq!(Registry::canonical_at(m, 3), None);
	});
}

#[test]
fn canonical_at_is_exact_over_a_long_history() {
	ExtBuilder::build_and_execute(|| {
		let (m, v1) = validated_model(ALICE);
		let v2 = publish(ALICE, m, VersionKind::FineTune, vec![v1]);
		validate(v2, 960_000_000);
		// Alternate v1/v2 every third block, 60 times.
		let mut expected = vec![];
		for i in 0..60u64 {
			let block = 3 * i + 5;
			System::set_block_number(block);
			let v = if i % 2 == 0 { v1 } else { v2 };
			assert_ok!(Registry::set_canonical(RuntimeOrigin::root(), m, v));
			expected.push((block, v));
		}
		for block in 0..200u64 {
			let want = expected.iter().rev().find(|(b, _)| *b <= block).map(|(_, v)| *v);
			assert_eq!(Registry::canonical_at(m, block), want, "block {block}");
		}
	});
}

#[test]
fn lineage_follows_a_merge_breadth_first_without_repeats() {
	ExtBuilder::build_and_execute(|| {
		let m = register_model(ALICE);
		let base = publish(ALICE, m, VersionKind::Initial, vec![]);
		let left = publish(ALICE, m, VersionKind::FineTune, vec![base]);
		let right = publish(ALICE, m, VersionKind::FineTune, vec![base]);
		let merged = publish(ALICE, m, VersionKind::Merge, vec![left, right]);
		let tuned = publish(ALICE, m, VersionKind::FineTune, vec![merged]);
		assert_eq!(Registry::lineage(tuned), vec![merged, left, right, base]);
		assert_eq!(Registry::lineage(merged), vec![left, right, base]);
		assert_eq!(Registry::lineage(base), Vec::<VersionId>::new());
		assert_eq!(Registry::lineage(404), Vec::<VersionId>::new());
	});
}

#[test]
fn lineage_is_bounded_by_max_lineage() {
	ExtBuilder::build_and_execute(|| {
		let m = register_model(ALICE);
		let mut last = publish(ALICE, m, VersionKind::Initial, vec![]);
		for _ in 0..12 {
			last = publish(ALICE, m, VersionKind::FineTune, vec![last]);
		}
		let lineage = Registry::lineage(last);
		assert_eq!(lineage.len(), 8);
		assert_eq!(lineage[0], last - 1);
	});
}

#[test]
fn versions_are_listed_in_pages() {
	ExtBuilder::build_and_execute(|| {
		let m = register_model(ALICE);
		let ids: Vec<_> = (0..7).map(|_| publish(ALICE, m, VersionKind::Initial, vec![])).collect();
		assert_eq!(Registry::versions_of(m, 0, 3), ids[0..3].to_vec());
		assert_eq!(Registry::versions_of(m, 3, 3), ids[3..6].to_vec());
		assert_eq!(Registry::versions_of(m, 6, 3), ids[6..].to_vec());
		assert_eq!(Registry::versions_of(m, 9, 3), Vec::<VersionId>::new());
		assert_eq!(Registry::versions_of(99, 0, 3), Vec::<VersionId>::new());
	});
}

#[test]
fn details_views_carry_every_field() {
	ExtBuilder::build_and_execute(|| {
		let d = register_dataset(BOB);
		let m = register_model(ALICE);
		let v = publish_with_datasets(ALICE, m, VersionKind::Initial, vec![], vec![d]);
		let model = Registry::model_details(m).unwrap();
		assert_eq!((model.id, model.owner, model.version_count), (m, ALICE, 1));
		assert_eq!(model.tags, vec![b"vision".to_vec(), b"mnist".to_vec()]);
		let version = Registry::version_details(v).unwrap();
		assert_eq!(version.datasets, vec![d]);
		assert_eq!(version.metrics, vec![(b"val_accuracy".to_vec(), 950_000_000)]);
		assert_eq!(version.hyperparams, Some([9; 32]));
		let dataset = Registry::dataset_details(d).unwrap();
		assert_eq!((dataset.references, dataset.samples), (1, 1_797));
		assert!(Registry::model_details(5).is_none());
	});
}

#[test]
fn try_state_catches_a_broken_deposit() {
	ExtBuilder::build().execute_with(|| {
		let m = register_model(ALICE);
		assert!(Registry::do_try_state().is_ok());
		Models::<Test>::mutate(m, |model| model.as_mut().unwrap().deposit += 1);
		assert!(Registry::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_a_broken_history() {
	ExtBuilder::build().execute_with(|| {
		let (m, v) = validated_model(ALICE);
		System::set_block_number(5);
		assert_ok!(Registry::set_canonical(RuntimeOrigin::root(), m, v));
		CanonicalHistory::<Test>::insert(m, 1, CanonicalChange { since: 3, version: v });
		Models::<Test>::mutate(m, |model| model.as_mut().unwrap().history_len = 2);
		assert!(Registry::do_try_state().is_err());
	});
}
