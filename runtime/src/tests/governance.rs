//! Governance on the development genesis: the tracks' configuration, and whole referenda (submit,
//! decision deposit, conviction votes, confirmation, enactment by the scheduler) that promote a model
//! version, fail to promote an unvalidated one, and roll a model back.

use super::{externalities, genesis_storage};
use crate::{
	configs::governance::{Tracks, PROMOTION_TRACK, ROLLBACK_TRACK, ROOT_TRACK},
	AccountId, ConvictionVoting, ModelRegistry, OriginCaller, Preimage, Referenda, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeOrigin, Scheduler, System, UNIT,
};
use codec::Encode;
use frame_support::{
	assert_noop, assert_ok,
	traits::{schedule::DispatchTime, Hooks, StorePreimage},
};
use modelchain_primitives::{Artifact, ArtifactFormat, VersionId};
use pallet_conviction_voting::{AccountVote, Conviction, Vote};
use pallet_model_registry::{EvaluationOutcome, ScoreThreshold, TaskKind, VersionKind};
use pallet_referenda::{ReferendumInfo, TracksInfo};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{DispatchError, ModuleError};

fn alice() -> AccountId {
	Sr25519Keyring::Alice.to_account_id()
}

fn signed(who: Sr25519Keyring) -> RuntimeOrigin {
	RuntimeOrigin::signed(who.to_account_id())
}

fn artifact(seed: u8) -> Artifact {
	Artifact {
		uri: format!("https://models.example.org/{seed}.onnx").into_bytes().try_into().unwrap(),
		digest: [seed; 32],
		size: 1_000,
		format: ArtifactFormat::Onnx,
	}
}

/// Runs the scheduler (which nudges referenda and enacts them) up to block `n`.
fn run_to(n: u32) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Scheduler::on_initialize(next);
	}
}

/// Model 0 of Alice with versions `0` (validated at 0.8) and `1`, validated at 0.9 when `validate_second`.
fn model_with_two_versions(validate_second: bool) {
	assert_ok!(ModelRegistry::register_model(
		signed(Sr25519Keyring::Alice),
		b"digits".to_vec(),
		TaskKind::Classification,
		b"MIT".to_vec(),
		b"https://models.example.org/card".to_vec(),
		vec![],
		ScoreThreshold::AtLeast(0),
	));
	for seed in [1, 2] {
		let parents = if seed == 1 { vec![] } else { vec![0] };
		let kind = if seed == 1 { VersionKind::Initial } else { VersionKind::FineTune };
		assert_ok!(ModelRegistry::publish_version(
			signed(Sr25519Keyring::Alice),
			0,
			artifact(seed),
			kind,
			parents,
			None,
			vec![],
			vec![],
		));
	}
	assert_ok!(ModelRegistry::report_evaluation(
		RuntimeOrigin::root(),
		0,
		EvaluationOutcome::Validated(800_000_000)
	));
	if validate_second {
		assert_ok!(ModelRegistry::report_evaluation(
			RuntimeOrigin::root(),
			1,
			EvaluationOutcome::Validated(900_000_000)
		));
	}
}

fn canonical() -> Option<VersionId> {
	<ModelRegistry as modelchain_primitives::ModelRegistry<AccountId>>::model(0)
		.and_then(|m| m.canonical)
}

/// Submits `call` as a referendum dispatched with `origin`, places its decision deposit, and has
/// Alice, Bob and Charlie vote aye with 500 000 MDL each at 1x conviction (12.5 % support of the
/// development issuance, above every track's ceiling). Returns its index.
fn propose_and_vote(call: RuntimeCall, origin: OriginCaller) -> u32 {
	let index = pallet_referenda::ReferendumCount::<Runtime>::get();
	let proposal = Preimage::bound(call).expect("a small call is inlined");
	assert_ok!(Referenda::submit(
		signed(Sr25519Keyring::Alice),
		Box::new(origin),
		proposal,
		DispatchTime::After(1),
	));
	assert_ok!(Referenda::place_decision_deposit(signed(Sr25519Keyring::Bob), index));
	for voter in [Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie] {
		assert_ok!(ConvictionVoting::vote(
			signed(voter),
			index,
			AccountVote::Standard {
				vote: Vote { aye: true, conviction: Conviction::Locked1x },
				balance: 500_000 * UNIT,
			},
		));
	}
	index
}

/// The result of referendum `index`'s enactment: the scheduler's dispatch of the task referenda name
/// `blake2_256(("assembly", "enactment", index))` (their alarms are anonymous).
fn enactment_result(index: u32) -> Option<Result<(), DispatchError>> {
	let name = (*b"assembly", "enactment", index).using_encoded(sp_io::hashing::blake2_256);
	System::events().into_iter().find_map(|record| match record.event {
		RuntimeEvent::Scheduler(pallet_scheduler::Event::Dispatched {
			id: Some(id),
			result,
			..
		}) if id == name => Some(result.map(|_| ())),
		_ => None,
	})
}

fn approved(index: u32) -> bool {
	matches!(
		pallet_referenda::ReferendumInfoFor::<Runtime>::get(index),
		Some(ReferendumInfo::Approved(..))
	)
}

fn dev() -> sp_io::TestExternalities {
	let mut ext = externalities(genesis_storage("development"));
	ext.execute_with(|| System::set_block_number(1));
	ext
}

#[test]
fn three_tracks_with_the_preset_s_periods() {
	dev().execute_with(|| {
		assert_ok!(Tracks::check_integrity());
		let tracks: Vec<_> = Tracks::tracks().map(|t| t.into_owned()).collect();
		assert_eq!(
			tracks.iter().map(|t| t.id).collect::<Vec<_>>(),
			vec![ROOT_TRACK, PROMOTION_TRACK, ROLLBACK_TRACK]
		);
		let name = |t: &pallet_referenda::Track<u16, _, _>| {
			String::from_utf8(t.info.name.to_vec()).unwrap().trim_end_matches('\0').to_string()
		};
		assert_eq!(name(&tracks[1]), "model_promotion");
		assert_eq!(name(&tracks[2]), "model_rollback");
		// The development preset decides in a few dozen blocks.
		let promotion = &tracks[1].info;
		assert_eq!(
			(promotion.prepare_period, promotion.confirm_period, promotion.min_enactment_period),
			(2, 3, 1)
		);
		assert_eq!(promotion.decision_deposit, 100 * UNIT);
		// Each origin has its track; a signed origin has none.
		let track_of = |origin: OriginCaller| Tracks::track_for(&origin);
		assert_eq!(track_of(frame_system::RawOrigin::Root.into()), Ok(ROOT_TRACK));
		assert_eq!(track_of(pallet_governance::Origin::ModelPromotion.into()), Ok(PROMOTION_TRACK));
		assert_eq!(track_of(pallet_governance::Origin::ModelRollback.into()), Ok(ROLLBACK_TRACK));
		assert_eq!(track_of(frame_system::RawOrigin::Signed(alice()).into()), Err(()));
	});
}

#[test]
fn a_promotion_referendum_makes_a_validated_version_canonical() {
	dev().execute_with(|| {
		model_with_two_versions(true);
		// Nobody promotes by themselves: only a referendum (or root) can.
		assert_noop!(
			ModelRegistry::set_canonical(signed(Sr25519Keyring::Alice), 0, 0),
			DispatchError::BadOrigin
		);
		let call = RuntimeCall::ModelRegistry(pallet_model_registry::Call::set_canonical {
			model: 0,
			version: 0,
		});
		let index = propose_and_vote(call, pallet_governance::Origin::ModelPromotion.into());
		assert_eq!(canonical(), None);
		run_to(15);
		assert!(approved(index), "the referendum passed");
		assert_eq!(enactment_result(index), Some(Ok(())));
		assert_eq!(canonical(), Some(0));
	});
}

#[test]
fn a_referendum_for_an_unvalidated_version_fails_at_enactment_with_the_registry_s_error() {
	dev().execute_with(|| {
		model_with_two_versions(false);
		let call = RuntimeCall::ModelRegistry(pallet_model_registry::Call::set_canonical {
			model: 0,
			version: 1,
		});
		let index = propose_and_vote(call, pallet_governance::Origin::ModelPromotion.into());
		run_to(15);
		assert!(approved(index), "the vote passed");
		let Some(Err(DispatchError::Module(ModuleError { index: pallet, error, .. }))) =
			enactment_result(index)
		else {
			panic!("the enactment failed with a module error: {:?}", enactment_result(index));
		};
		let expected = DispatchError::from(pallet_model_registry::Error::<Runtime>::NotPromotable);
		let DispatchError::Module(ModuleError { index: e_pallet, error: e_error, .. }) = expected
		else {
			unreachable!()
		};
		assert_eq!((pallet, error), (e_pallet, e_error), "modelRegistry.NotPromotable");
		assert_eq!(canonical(), None);
	});
}

#[test]
fn a_rollback_referendum_returns_to_the_previous_canonical_version() {
	dev().execute_with(|| {
		model_with_two_versions(true);
		assert_ok!(ModelRegistry::set_canonical(RuntimeOrigin::root(), 0, 0));
		assert_ok!(ModelRegistry::set_canonical(RuntimeOrigin::root(), 0, 1));
		assert_eq!(canonical(), Some(1));
		// The promotion origin cannot roll back, nor a signed account.
		assert_noop!(
			ModelRegistry::rollback(pallet_governance::Origin::ModelPromotion.into(), 0),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ModelRegistry::rollback(signed(Sr25519Keyring::Alice), 0),
			DispatchError::BadOrigin
		);
		let call = RuntimeCall::ModelRegistry(pallet_model_registry::Call::rollback { model: 0 });
		let index = propose_and_vote(call, pallet_governance::Origin::ModelRollback.into());
		run_to(15);
		assert!(approved(index));
		assert_eq!(enactment_result(index), Some(Ok(())));
		assert_eq!(canonical(), Some(0));
	});
}

#[test]
fn without_enough_support_a_referendum_does_not_pass_early() {
	dev().execute_with(|| {
		model_with_two_versions(true);
		let call = RuntimeCall::ModelRegistry(pallet_model_registry::Call::set_canonical {
			model: 0,
			version: 0,
		});
		let index = pallet_referenda::ReferendumCount::<Runtime>::get();
		assert_ok!(Referenda::submit(
			signed(Sr25519Keyring::Alice),
			Box::new(pallet_governance::Origin::ModelPromotion.into()),
			Preimage::bound(call).unwrap(),
			DispatchTime::After(1),
		));
		assert_ok!(Referenda::place_decision_deposit(signed(Sr25519Keyring::Alice), index));
		// 1 000 MDL is far below the 10 % support the track asks for at first.
		assert_ok!(ConvictionVoting::vote(
			signed(Sr25519Keyring::Dave),
			index,
			AccountVote::Standard {
				vote: Vote { aye: true, conviction: Conviction::Locked6x },
				balance: 1_000 * UNIT,
			},
		));
		run_to(15);
		assert!(!approved(index));
		assert_eq!(canonical(), None);
	});
}
