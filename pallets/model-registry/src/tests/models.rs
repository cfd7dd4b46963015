use super::*;
use frame_support::{assert_noop, assert_ok};
use sp_runtime::TokenError;

#[test]
fn register_model_stores_it_and_holds_the_deposit() {
	ExtBuilder::build_and_execute(|| {
		let id = register_model(ALICE);
		let model = Models::<Test>::get(id).unwrap();
		assert_eq!(model.owner, ALICE);
		assert_eq!(model.name.to_vec(), b"digits-classifier".to_vec());
		assert_eq!(model.state, ModelState::Active);
		let expected = Registry::deposit_for(codec::Encode::encoded_size(&model));
		assert_eq!(model.deposit, expected);
		assert_eq!(held(ALICE), expected);
		assert_eq!(
			last_event(),
			RuntimeEvent::Registry(Event::ModelRegistered {
				model: id,
				owner: ALICE,
				deposit: expected
			})
		);
		assert_eq!(NextModelId::<Test>::get(), id + 1);
	});
}

#[test]
fn register_model_refuses_malformed_metadata_with_specific_errors() {
	ExtBuilder::build_and_execute(|| {
		let register = |name: Vec<u8>, license: &[u8], uri: &[u8], tags: Vec<Vec<u8>>| {
			Registry::register_model(
				RuntimeOrigin::signed(ALICE),
				name,
				TaskKind::Regression,
				license.to_vec(),
				uri.to_vec(),
				tags,
				ScoreThreshold::AtMost(1),
			)
		};
		let uri = b"https://example.org/card";
		assert_noop!(register(vec![], b"MIT", uri, vec![]), Error::<Test>::BadName);
		assert_noop!(register(b"   ".to_vec(), b"MIT", uri, vec![]), Error::<Test>::BadName);
		assert_noop!(register(vec![0xff, 0xfe], b"MIT", uri, vec![]), Error::<Test>::BadName);
		assert_noop!(register(b"a\nb".to_vec(), b"MIT", uri, vec![]), Error::<Test>::BadName);
		assert_noop!(register(vec![b'a'; 65], b"MIT", uri, vec![]), Error::<Test>::NameTooLong);
		assert_noop!(register(b"m".to_vec(), b"", uri, vec![]), Error::<Test>::BadLicense);
		assert_noop!(
			register(b"m".to_vec(), b"MIT License", uri, vec![]),
			Error::<Test>::BadLicense
		);
		assert_noop!(
			register(b"m".to_vec(), &[b'A'; 33], uri, vec![]),
			Error::<Test>::LicenseTooLong
		);
		assert_noop!(
			register(b"m".to_vec(), b"MIT", b"ftp://x/card", vec![]),
			Error::<Test>::BadUri
		);
		assert_noop!(register(b"m".to_vec(), b"MIT", &[b'a'; 300], vec![]), Error::<Test>::BadUri);
		assert_noop!(register(b"m".to_vec(), b"MIT", uri, vec![vec![]]), Error::<Test>::BadTag);
		assert_noop!(
			register(b"m".to_vec(), b"MIT", uri, vec![b"a b".to_vec()]),
			Error::<Test>::BadTag
		);
		assert_noop!(
			register(b"m".to_vec(), b"MIT", uri, vec![vec![b'a'; 17]]),
			Error::<Test>::TagTooLong
		);
		assert_noop!(
			register(b"m".to_vec(), b"MIT", uri, vec![b"x".to_vec(), b"x".to_vec()]),
			Error::<Test>::DuplicateTag
		);
		assert_noop!(
			register(b"m".to_vec(), b"MIT", uri, (0..5u8).map(|i| vec![b'a' + i]).collect()),
			Error::<Test>::TooManyTags
		);
	});
}

#[test]
fn register_model_needs_the_deposit() {
	ExtBuilder::build_and_execute(|| {
		assert_noop!(
			Registry::register_model(
				RuntimeOrigin::signed(PAUPER),
				b"m".to_vec(),
				TaskKind::Other,
				b"MIT".to_vec(),
				b"https://e.org/c".to_vec(),
				vec![],
				ScoreThreshold::AtLeast(0),
			),
			TokenError::FundsUnavailable
		);
	});
}

#[test]
fn update_model_adjusts_the_deposit_to_the_new_size() {
	ExtBuilder::build_and_execute(|| {
		let id = register_model(ALICE);
		let before = held(ALICE);
		assert_ok!(Registry::update_model(
			RuntimeOrigin::signed(ALICE),
			id,
			b"MIT".to_vec(),
			b"https://e.org/c".to_vec(),
			vec![],
			ScoreThreshold::AtMost(5),
		));
		let model = Models::<Test>::get(id).unwrap();
		assert_eq!(model.threshold, ScoreThreshold::AtMost(5));
		assert!(model.deposit < before, "less metadata, smaller deposit");
		assert_eq!(held(ALICE), model.deposit);
		assert_eq!(
			last_event(),
			RuntimeEvent::Registry(Event::ModelUpdated { model: id, deposit: model.deposit })
		);
	});
}

#[test]
fn only_the_owner_updates_retires_or_offers_a_model() {
	ExtBuilder::build_and_execute(|| {
		let id = register_model(ALICE);
		assert_noop!(
			Registry::update_model(
				RuntimeOrigin::signed(BOB),
				id,
				b"MIT".to_vec(),
				b"https://e.org/c".to_vec(),
				vec![],
				ScoreThreshold::AtMost(5),
			),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Registry::retire_model(RuntimeOrigin::signed(BOB), id),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Registry::transfer_ownership(RuntimeOrigin::signed(BOB), id, Some(BOB)),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Registry::retire_model(RuntimeOrigin::signed(ALICE), 99),
			Error::<Test>::UnknownModel
		);
	});
}

#[test]
fn ownership_moves_with_its_deposit_only_when_accepted() {
	ExtBuilder::build_and_execute(|| {
		let id = register_model(ALICE);
		let deposit = held(ALICE);
		assert_ok!(Registry::transfer_ownership(RuntimeOrigin::signed(ALICE), id, Some(BOB)));
		assert_eq!(
			last_event(),
			RuntimeEvent::Registry(Event::OwnershipOffered { model: id, to: BOB })
		);
		assert_noop!(
			Registry::accept_ownership(RuntimeOrigin::signed(CHARLIE), id),
			Error::<Test>::NotPendingOwner
		);
		assert_ok!(Registry::accept_ownership(RuntimeOrigin::signed(BOB), id));
		assert_eq!(Models::<Test>::get(id).unwrap().owner, BOB);
		assert_eq!(held(ALICE), 0);
		assert_eq!(held(BOB), deposit);
		assert_eq!(
			last_event(),
			RuntimeEvent::Registry(Event::OwnershipTransferred { model: id, from: ALICE, to: BOB })
		);
	});
}

#[test]
fn an_ownership_offer_can_be_withdrawn_and_a_poor_recipient_cannot_accept() {
	ExtBuilder::build_and_execute(|| {
		let id = register_model(ALICE);
		assert_ok!(Registry::transfer_ownership(RuntimeOrigin::signed(ALICE), id, Some(PAUPER)));
		assert_noop!(
			Registry::accept_ownership(RuntimeOrigin::signed(PAUPER), id),
			TokenError::FundsUnavailable
		);
		assert_ok!(Registry::transfer_ownership(RuntimeOrigin::signed(ALICE), id, None));
		assert_eq!(
			last_event(),
			RuntimeEvent::Registry(Event::OwnershipOfferWithdrawn { model: id })
		);
		assert_noop!(
			Registry::accept_ownership(RuntimeOrigin::signed(PAUPER), id),
			Error::<Test>::NotPendingOwner
		);
	});
}

#[test]
fn a_retired_model_takes_no_versions_and_is_removable_once_empty() {
	ExtBuilder::build_and_execute(|| {
		let id = register_model(ALICE);
		let v = publish(ALICE, id, VersionKind::Initial, vec![]);
		assert_noop!(
			Registry::remove_model(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::ModelNotRetired
		);
		assert_ok!(Registry::retire_model(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(last_event(), RuntimeEvent::Registry(Event::ModelRetired { model: id }));
		assert_noop!(
			Registry::retire_model(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::ModelRetired
		);
		assert_noop!(
			try_publish(ALICE, id, artifact(50), VersionKind::Initial, vec![], vec![], vec![]),
			Error::<Test>::ModelRetired
		);
		assert_noop!(
			Registry::remove_model(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::ModelHasVersions
		);
		assert_ok!(Registry::remove_version(RuntimeOrigin::signed(ALICE), v));
		let deposit = Models::<Test>::get(id).unwrap().deposit;
		assert_ok!(Registry::remove_model(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(
			last_event(),
			RuntimeEvent::Registry(Event::ModelRemoved { model: id, deposit_released: deposit })
		);
		assert!(Models::<Test>::get(id).is_none());
		// Every deposit came back, to the unit.
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::free_balance(ALICE), ENDOWMENT);
	});
}

#[test]
fn an_exhausted_id_counter_is_an_error_not_a_wrap() {
	ExtBuilder::build_and_execute(|| {
		NextModelId::<Test>::put(ModelId::MAX);
		assert_noop!(
			Registry::register_model(
				RuntimeOrigin::signed(ALICE),
				b"m".to_vec(),
				TaskKind::Other,
				b"MIT".to_vec(),
				b"https://e.org/c".to_vec(),
				vec![],
				ScoreThreshold::AtLeast(0),
			),
			Error::<Test>::Overflow
		);
		NextModelId::<Test>::put(0);
		let model = register_model(ALICE);
		NextVersionId::<Test>::put(VersionId::MAX);
		assert_noop!(
			try_publish(ALICE, model, artifact(1), VersionKind::Initial, vec![], vec![], vec![]),
			Error::<Test>::Overflow
		);
		NextVersionId::<Test>::put(0);
		NextDatasetId::<Test>::put(DatasetId::MAX);
		assert_noop!(
			Registry::register_dataset(
				RuntimeOrigin::signed(BOB),
				artifact(2),
				1,
				b"MIT".to_vec(),
				None
			),
			Error::<Test>::Overflow
		);
		NextDatasetId::<Test>::put(0);
	});
}
