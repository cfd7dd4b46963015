use super::*;
use frame_support::{assert_noop, assert_ok};

#[test]
fn register_dataset_holds_a_deposit_that_removal_returns_exactly() {
	ExtBuilder::build_and_execute(|| {
		let d = register_dataset(BOB);
		let dataset = Datasets::<Test>::get(d).unwrap();
		assert_eq!(dataset.owner, BOB);
		assert_eq!(dataset.samples, 1_797);
		assert_eq!(held(BOB), dataset.deposit);
		assert_eq!(
			last_event(),
			RuntimeEvent::Registry(Event::DatasetRegistered {
				dataset: d,
				owner: BOB,
				deposit: dataset.deposit
			})
		);
		assert_noop!(
			Registry::remove_dataset(RuntimeOrigin::signed(ALICE), d),
			Error::<Test>::NotOwner
		);
		assert_ok!(Registry::remove_dataset(RuntimeOrigin::signed(BOB), d));
		assert_eq!(
			last_event(),
			RuntimeEvent::Registry(Event::DatasetRemoved {
				dataset: d,
				deposit_released: dataset.deposit
			})
		);
		assert_eq!(held(BOB), 0);
		assert_eq!(Balances::free_balance(BOB), ENDOWMENT);
		assert_noop!(
			Registry::remove_dataset(RuntimeOrigin::signed(BOB), d),
			Error::<Test>::UnknownDataset
		);
	});
}

#[test]
fn a_dataset_in_use_cannot_be_removed() {
	ExtBuilder::build_and_execute(|| {
		let d = register_dataset(BOB);
		let m = register_model(ALICE);
		publish_with_datasets(ALICE, m, VersionKind::Initial, vec![], vec![d]);
		assert_noop!(
			Registry::remove_dataset(RuntimeOrigin::signed(BOB), d),
			Error::<Test>::DatasetInUse
		);
	});
}

#[test]
fn malformed_datasets_are_refused() {
	ExtBuilder::build_and_execute(|| {
		let register = |artifact: Artifact, samples: u64, license: &[u8], schema: Option<&[u8]>| {
			Registry::register_dataset(
				RuntimeOrigin::signed(BOB),
				artifact,
				samples,
				license.to_vec(),
				schema.map(|s| s.to_vec()),
			)
		};
		assert_noop!(register(artifact(1), 0, b"MIT", None), Error::<Test>::ZeroSamples);
		assert_noop!(
			register(Artifact { digest: [0; 32], ..artifact(1) }, 5, b"MIT", None),
			Error::<Test>::ZeroDigest
		);
		assert_noop!(register(artifact(1), 5, b"not spdx!", None), Error::<Test>::BadLicense);
		assert_noop!(register(artifact(1), 5, b"MIT", Some(b"gopher://x")), Error::<Test>::BadUri);
	});
}
