use super::*;
use frame_support::{assert_noop, assert_ok};
use sp_runtime::DispatchError;

#[test]
fn set_canonical_promotes_a_validated_version_behind_the_promote_origin() {
	ExtBuilder::build_and_execute(|| {
		let (m, v) = validated_model(ALICE);
		assert_noop!(
			Registry::set_canonical(RuntimeOrigin::signed(ALICE), m, v),
			DispatchError::BadOrigin
		);
		assert_ok!(Registry::set_canonical(RuntimeOrigin::root(), m, v));
		assert_eq!(
			last_event(),
			RuntimeEvent::Registry(Event::CanonicalVersionSet {
				model: m,
				version: v,
				previous: None
			})
		);
		assert_eq!(Models::<Test>::get(m).unwrap().canonical, Some(v));
		assert_eq!(
			Versions::<Test>::get(v).unwrap().status,
			VersionStatus::Canonical { score: 950_000_000 }
		);
		assert_noop!(
			Registry::set_canonical(RuntimeOrigin::root(), m, v),
			Error::<Test>::AlreadyCanonical
		);
	});
}

#[test]
fn only_validated_versions_meeting_the_threshold_become_canonical() {
	ExtBuilder::build_and_execute(|| {
		let m = register_model_with_threshold(ALICE, 900_000_000);
		let candidate = publish(ALICE, m, VersionKind::Initial, vec![]);
		assert_noop!(
			Registry::set_canonical(RuntimeOrigin::root(), m, candidate),
			Error::<Test>::NotPromotable
		);
		let weak = publish(ALICE, m, VersionKind::Initial, vec![]);
		validate(weak, 899_999_999);
		assert_noop!(
			Registry::set_canonical(RuntimeOrigin::root(), m, weak),
			Error::<Test>::BelowThreshold
		);
		let rejected = publish(ALICE, m, VersionKind::Initial, vec![]);
		assert_ok!(Registry::report_evaluation(
			RuntimeOrigin::root(),
			rejected,
			EvaluationOutcome::Rejected(RejectionReason::InvalidModel)
		));
		assert_noop!(
			Registry::set_canonical(RuntimeOrigin::root(), m, rejected),
			Error::<Test>::NotPromotable
		);
		let (other_model, other_version) = validated_model(BOB);
		assert_noop!(
			Registry::set_canonical(RuntimeOrigin::root(), m, other_version),
			Error::<Test>::VersionOfAnotherModel
		);
		assert_noop!(
			Registry::set_canonical(RuntimeOrigin::root(), 77, other_version),
			Error::<Test>::UnknownModel
		);
		assert_noop!(
			Registry::set_canonical(RuntimeOrigin::root(), other_model, 77),
			Error::<Test>::UnknownVersion
		);
	});
}

#[test]
fn a_lower_is_better_threshold_is_respected() {
	ExtBuilder::build_and_execute(|| {
		let m = register_model(ALICE);
		assert_ok!(Registry::update_model(
			RuntimeOrigin::signed(ALICE),
			m,
			b"MIT".to_vec(),
			b"https://e.org/c".to_vec(),
			vec![],
			ScoreThreshold::AtMost(250_000_000), // mean squared error ≤ 0.25
		));
		let high_loss = publish(ALICE, m, VersionKind::Initial, vec![]);
		validate(high_loss, 250_000_001);
		assert_noop!(
			Registry::set_canonical(RuntimeOrigin::root(), m, high_loss),
			Error::<Test>::BelowThreshold
		);
		let low_loss = publish(ALICE, m, VersionKind::Initial, vec![]);
		validate(low_loss, 100_000_000);
		assert_ok!(Registry::set_canonical(RuntimeOrigin::root(), m, low_loss));
	});
}

#[test]
fn a_new_canonical_version_deprecates_the_previous_one() {
	ExtBuilder::build_and_execute(|| {
		let (m, v1) = validated_model(ALICE);
		assert_ok!(Registry::set_canonical(RuntimeOrigin::root(), m, v1));
		let v2 = publish(ALICE, m, VersionKind::FineTune, vec![v1]);
		validate(v2, 960_000_000);
		assert_ok!(Registry::set_canonical(RuntimeOrigin::root(), m, v2));
		assert_eq!(
			Versions::<Test>::get(v1).unwrap().status,
			VersionStatus::Deprecated { score: 950_000_000 }
		);
		assert!(System::events()
			.iter()
			.any(|r| r.event == RuntimeEvent::Registry(Event::VersionDeprecated { version: v1 })));
		assert_eq!(
			last_event(),
			RuntimeEvent::Registry(Event::CanonicalVersionSet {
				model: m,
				version: v2,
				previous: Some(v1)
			})
		);
	});
}

#[test]
fn rollback_returns_to_the_previous_canonical_version_step_by_step() {
	ExtBuilder::build_and_execute(|| {
		let (m, v1) = validated_model(ALICE);
		let v2 = publish(ALICE, m, VersionKind::FineTune, vec![v1]);
		let v3 = publish(ALICE, m, VersionKind::FineTune, vec![v2]);
		validate(v2, 960_000_000);
		validate(v3, 970_000_000);
		assert_noop!(
			Registry::rollback(RuntimeOrigin::root(), m),
			Error::<Test>::NothingToRollBack
		);
		for (block, v) in [(2, v1), (3, v2), (4, v3)] {
			System::set_block_number(block);
			assert_ok!(Registry::set_canonical(RuntimeOrigin::root(), m, v));
		}
		assert_noop!(Registry::rollback(RuntimeOrigin::signed(ALICE), m), DispatchError::BadOrigin);
		System::set_block_number(5);
		assert_ok!(Registry::rollback(RuntimeOrigin::root(), m));
		assert_eq!(
			last_event(),
			RuntimeEvent::Registry(Event::CanonicalVersionRolledBack {
				model: m,
				from: v3,
				to: v2
			})
		);
		assert_eq!(
			Versions::<Test>::get(v3).unwrap().status,
			VersionStatus::Deprecated { score: 970_000_000 }
		);
		assert_eq!(
			Versions::<Test>::get(v2).unwrap().status,
			VersionStatus::Canonical { score: 960_000_000 }
		);
		System::set_block_number(6);
		assert_ok!(Registry::rollback(RuntimeOrigin::root(), m));
		assert_eq!(Models::<Test>::get(m).unwrap().canonical, Some(v1));
		assert_noop!(
			Registry::rollback(RuntimeOrigin::root(), m),
			Error::<Test>::NothingToRollBack
		);
		// A rolled-back version can be promoted again.
		System::set_block_number(7);
		assert_ok!(Registry::set_canonical(RuntimeOrigin::root(), m, v3));
	});
}

#[test]
fn rollback_reaches_back_at_most_max_rollback_depth_versions() {
	ExtBuilder::build_and_execute(|| {
		let (m, v1) = validated_model(ALICE);
		let mut versions = vec![v1];
		for i in 0..3 {
			let v = publish(ALICE, m, VersionKind::FineTune, vec![*versions.last().unwrap()]);
			validate(v, 951_000_000 + i);
			versions.push(v);
		}
		for v in &versions {
			assert_ok!(Registry::set_canonical(RuntimeOrigin::root(), m, *v));
		}
		// MaxRollbackDepth = 3: the stack keeps the last three canonical versions.
		assert_eq!(RollbackStack::<Test>::get(m).to_vec(), versions[1..].to_vec());
		assert_ok!(Registry::rollback(RuntimeOrigin::root(), m));
		assert_ok!(Registry::rollback(RuntimeOrigin::root(), m));
		assert_eq!(Models::<Test>::get(m).unwrap().canonical, Some(versions[1]));
		assert_noop!(
			Registry::rollback(RuntimeOrigin::root(), m),
			Error::<Test>::NothingToRollBack
		);
	});
}

#[test]
fn a_retired_model_gets_no_new_canonical_version_but_can_roll_back() {
	ExtBuilder::build_and_execute(|| {
		let (m, v1) = validated_model(ALICE);
		let v2 = publish(ALICE, m, VersionKind::FineTune, vec![v1]);
		validate(v2, 960_000_000);
		assert_ok!(Registry::set_canonical(RuntimeOrigin::root(), m, v1));
		assert_ok!(Registry::set_canonical(RuntimeOrigin::root(), m, v2));
		assert_ok!(Registry::retire_model(RuntimeOrigin::signed(ALICE), m));
		assert_ok!(Registry::rollback(RuntimeOrigin::root(), m));
		assert_noop!(
			Registry::set_canonical(RuntimeOrigin::root(), m, v2),
			Error::<Test>::ModelRetired
		);
	});
}
