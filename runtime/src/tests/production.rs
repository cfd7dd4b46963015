//! The production genesis: built from operators' declarations, with no sudo, production referendum
//! periods and hour-long sessions; bad declarations are refused with their reason.

use super::externalities;
use crate::{
	configs::MinValidatorBond,
	genesis_config_presets::{production_config_genesis, GenesisValidator},
	AccountId, Balance, Balances, Runtime, RuntimeCall, RuntimeOrigin, EXISTENTIAL_DEPOSIT, UNIT,
	WASM_BINARY,
};
use frame_support::traits::{fungible::Inspect, IntegrityTest};
use sc_chain_spec::GenesisConfigBuilderRuntimeCaller;
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

fn validator(sr: Sr25519Keyring, ed: Ed25519Keyring, bond: Balance) -> GenesisValidator {
	GenesisValidator {
		account: sr.to_account_id(),
		aura: sr.public().into(),
		grandpa: ed.public().into(),
		scoring: sr.public().into(),
		bond,
	}
}

fn two_validators() -> Vec<GenesisValidator> {
	vec![
		validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice, 2_000 * UNIT),
		validator(Sr25519Keyring::Bob, Ed25519Keyring::Bob, 5_000 * UNIT),
	]
}

fn endowments() -> Vec<(AccountId, Balance)> {
	vec![
		(Sr25519Keyring::Alice.to_account_id(), 10_000 * UNIT),
		(Sr25519Keyring::Bob.to_account_id(), 10_000 * UNIT),
		(Sr25519Keyring::Eve.to_account_id(), 123 * UNIT),
	]
}

#[test]
fn the_production_genesis_has_no_sudo_and_production_periods() {
	let patch = production_config_genesis(&two_validators(), &endowments()).expect("valid input");
	let wasm = WASM_BINARY.expect("wasm runtime");
	let storage = GenesisConfigBuilderRuntimeCaller::<()>::new(wasm)
		.get_storage_for_patch(patch)
		.expect("the production genesis builds in the wasm runtime");
	externalities(storage).execute_with(|| {
		<crate::AllPalletsWithSystem as IntegrityTest>::integrity_test();

		// Nobody is sudo, and a signed sudo call is refused.
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
		let remark = RuntimeCall::System(frame_system::Call::remark { remark: vec![] });
		assert_eq!(
			pallet_sudo::Pallet::<Runtime>::sudo(
				RuntimeOrigin::signed(Sr25519Keyring::Alice.to_account_id()),
				Box::new(remark),
			)
			.map_err(|e| e.error),
			Err(pallet_sudo::Error::<Runtime>::RequireSudo.into())
		);

		// Referenda take days; sessions last an hour.
		assert_eq!(
			pallet_governance::Timings::<Runtime>::get(),
			pallet_governance::TrackTimings::production()
		);
		assert_eq!(pallet_governance::Timings::<Runtime>::get().promotion.decision, 7 * 24 * 600);
		assert_eq!(pallet_validator_set::SessionLength::<Runtime>::get(), 600);

		// The declared validators validate (Bob bonds more: he ranks first), their bonds held.
		let (alice, bob) =
			(Sr25519Keyring::Alice.to_account_id(), Sr25519Keyring::Bob.to_account_id());
		assert_eq!(pallet_session::Validators::<Runtime>::get(), vec![bob.clone(), alice.clone()]);
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 2);
		assert_eq!(pallet_grandpa::Pallet::<Runtime>::grandpa_authorities().len(), 2);
		assert_eq!(Balances::balance(&alice), 8_000 * UNIT);
		assert_eq!(Balances::balance(&bob), 5_000 * UNIT);
		assert_eq!(
			pallet_scoring::Scorers::<Runtime>::get(&bob).expect("scorer").stake,
			5_000 * UNIT
		);

		// Only the declared endowments exist, and the rewards account's existential deposit.
		assert_eq!(Balances::balance(&Sr25519Keyring::Eve.to_account_id()), 123 * UNIT);
		assert_eq!(Balances::balance(&Sr25519Keyring::Ferdie.to_account_id()), 0);
		assert_eq!(
			pallet_balances::TotalIssuance::<Runtime>::get(),
			20_123 * UNIT + EXISTENTIAL_DEPOSIT
		);
	});
}

#[test]
fn the_production_genesis_refuses_bad_declarations_with_their_reason() {
	let refused = |validators: Vec<GenesisValidator>, endowments: Vec<(AccountId, Balance)>| {
		production_config_genesis(&validators, &endowments).expect_err("refused")
	};
	let contains = |error: String, reason: &str| {
		assert!(error.contains(reason), "`{error}` should say `{reason}`");
	};

	contains(refused(vec![], endowments()), "at least one validator");

	let mut low = two_validators();
	low[0].bond = MinValidatorBond::get() - 1;
	contains(refused(low, endowments()), "below the minimum bond");

	let mut twice = two_validators();
	twice.push(twice[0].clone());
	contains(refused(twice, endowments()), "declared twice");

	let mut shared_key = two_validators();
	shared_key[1].scoring = shared_key[0].scoring.clone();
	contains(refused(shared_key, endowments()), "reuses a session key");

	let mut unfunded = endowments();
	unfunded[0].1 = 2_000 * UNIT; // Alice bonds 2 000: nothing left for the existential deposit.
	contains(refused(two_validators(), unfunded), "less than its bond");
	contains(refused(two_validators(), endowments()[1..].to_vec()), "less than its bond");

	let mut dust = endowments();
	dust[2].1 = EXISTENTIAL_DEPOSIT - 1;
	contains(refused(two_validators(), dust), "below the existential deposit");

	let mut endowed_twice = endowments();
	endowed_twice.push(endowed_twice[2].clone());
	contains(refused(two_validators(), endowed_twice), "endowed twice");

	let mut overflow = endowments();
	overflow[2].1 = Balance::MAX;
	contains(refused(two_validators(), overflow), "overflow");

	let many: Vec<GenesisValidator> = (0..65u8)
		.map(|i| GenesisValidator {
			account: AccountId::new([i; 32]),
			aura: sp_core::sr25519::Public::from_raw([i; 32]).into(),
			grandpa: sp_core::ed25519::Public::from_raw([i; 32]).into(),
			scoring: sp_core::sr25519::Public::from_raw([i; 32]).into(),
			bond: MinValidatorBond::get(),
		})
		.collect();
	contains(refused(many, endowments()), "at most 64");
}
