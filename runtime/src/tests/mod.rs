//! Runtime tests: the genesis presets, as the node builds them from the wasm, and a real block with a
//! signed transfer, fees included. Governance: `governance.rs`.

mod governance;
mod production;

use crate::{
	genesis_config_presets::{ENDOWMENT, GENESIS_SCORER_STAKE},
	AccountId, Balance, Balances, Block, Executive, Header, Runtime, RuntimeCall, RuntimeEvent,
	SignedPayload, System, TransactionPayment, TxExtension, UncheckedExtrinsic, UNIT, WASM_BINARY,
};
use codec::Encode;
use frame_support::traits::{
	fungible::Inspect, GetStorageVersion, IntegrityTest, OnGenesis, OnRuntimeUpgrade,
};
use sc_chain_spec::GenesisConfigBuilderRuntimeCaller;
use sp_consensus_aura::{Slot, AURA_ENGINE_ID};
use sp_core::{storage::Storage, H256};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{
	generic::{Digest, DigestItem, Era},
	traits::{Block as BlockT, Header as HeaderT},
	BuildStorage,
};

/// The genesis state of `preset`, built exactly as the node builds it: by the wasm runtime's
/// `GenesisBuilder` API, from the preset's JSON patch over the default config.
pub(crate) fn genesis_storage(preset: &str) -> Storage {
	let wasm =
		WASM_BINARY.expect("runtime tests need the wasm runtime: run them without SKIP_WASM_BUILD");
	GenesisConfigBuilderRuntimeCaller::<()>::new(wasm)
		.get_storage_for_named_preset(Some(&preset.to_string()))
		.unwrap_or_else(|e| panic!("preset `{preset}` does not build: {e}"))
}

pub(crate) fn externalities(storage: Storage) -> sp_io::TestExternalities {
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(0));
	ext
}

fn free(who: &AccountId) -> Balance {
	Balances::balance(who)
}

#[test]
fn wasm_runtime_offers_the_dev_and_local_presets() {
	let wasm = WASM_BINARY.expect("wasm runtime");
	let mut names = GenesisConfigBuilderRuntimeCaller::<()>::new(wasm)
		.preset_names()
		.expect("preset_names is callable");
	names.sort();
	assert_eq!(names, vec!["development".to_string(), "local_testnet".to_string()]);
}

#[test]
fn every_preset_builds_and_passes_integrity_tests() {
	for (preset, authorities) in [("development", 1usize), ("local_testnet", 4)] {
		externalities(genesis_storage(preset)).execute_with(|| {
			<crate::AllPalletsWithSystem as IntegrityTest>::integrity_test();

			assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), authorities, "{preset}");
			assert_eq!(pallet_grandpa::Pallet::<Runtime>::grandpa_authorities().len(), authorities);
			assert_eq!(
				pallet_sudo::Key::<Runtime>::get(),
				Some(Sr25519Keyring::Alice.to_account_id())
			);
			let endowed = Sr25519Keyring::iter()
				.filter(|k| *k != Sr25519Keyring::One && *k != Sr25519Keyring::Two)
				.count() as Balance;
			// Every authority is a scorer, its stake held.
			assert_eq!(pallet_scoring::Scorers::<Runtime>::count() as usize, authorities);
			assert_eq!(
				free(&Sr25519Keyring::Alice.to_account_id()),
				ENDOWMENT - GENESIS_SCORER_STAKE
			);
			// The endowments, and the rewards account's existential deposit (it exists from genesis).
			assert_eq!(
				pallet_balances::TotalIssuance::<Runtime>::get(),
				endowed * ENDOWMENT + crate::EXISTENTIAL_DEPOSIT
			);
			assert_eq!(free(&crate::Rewards::account_id()), crate::EXISTENTIAL_DEPOSIT);

			// A new chain starts at the current storage versions, so the listed migrations skip.
			type Scoring = pallet_scoring::Pallet<Runtime>;
			assert_eq!(Scoring::on_chain_storage_version(), Scoring::in_code_storage_version());
			type Rounds = pallet_training_rounds::Pallet<Runtime>;
			assert_eq!(Rounds::on_chain_storage_version(), Rounds::in_code_storage_version());
			let scorers: Vec<_> = pallet_scoring::Scorers::<Runtime>::iter().collect();
			<crate::Migrations as OnRuntimeUpgrade>::on_runtime_upgrade();
			assert_eq!(pallet_scoring::Scorers::<Runtime>::iter().collect::<Vec<_>>(), scorers);
		});
	}
}

#[test]
fn an_unknown_preset_is_refused() {
	let wasm = WASM_BINARY.expect("wasm runtime");
	let result = GenesisConfigBuilderRuntimeCaller::<()>::new(wasm)
		.get_storage_for_named_preset(Some(&"mainnet".to_string()));
	assert!(result.is_err());
}

#[test]
fn metadata_v15_and_later_are_offered() {
	// In state, as the node asks for it: the referenda tracks constant reads their periods from storage.
	sp_io::TestExternalities::default().execute_with(|| {
		let versions = Runtime::metadata_versions();
		assert!(versions.contains(&15), "polkadot.js reads metadata V15: {versions:?}");
		assert!(Runtime::metadata_at_version(15).is_some());
	});
}

/// A signed, immortal transaction from `signer` with `nonce`.
fn signed(call: RuntimeCall, signer: Sr25519Keyring, nonce: u32) -> UncheckedExtrinsic {
	let extension: TxExtension = (
		frame_system::AuthorizeCall::new(),
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckEra::from(Era::Immortal),
		frame_system::CheckNonce::from(nonce),
		frame_system::CheckWeight::new(),
		pallet_transaction_payment::ChargeTransactionPayment::from(0),
		frame_metadata_hash_extension::CheckMetadataHash::new(false),
		frame_system::WeightReclaim::new(),
	);
	let payload = SignedPayload::new(call.clone(), extension.clone()).expect("implicit data");
	let signature = payload.using_encoded(|bytes| signer.sign(bytes));
	UncheckedExtrinsic::new_signed(call, signer.to_account_id().into(), signature.into(), extension)
}

/// The header of block 1 in Aura's slot `slot`, with the pre-runtime digest Aura reads the slot from.
fn header_for_slot(slot: u64, parent: H256) -> Header {
	let digest =
		Digest { logs: vec![DigestItem::PreRuntime(AURA_ENGINE_ID, Slot::from(slot).encode())] };
	Header::new(1, Default::default(), Default::default(), parent, digest)
}

#[test]
fn a_block_with_a_transfer_executes_and_charges_the_fee() {
	let storage = genesis_storage("development");
	let alice = Sr25519Keyring::Alice.to_account_id();
	let bob = Sr25519Keyring::Bob.to_account_id();
	let amount = 10 * UNIT;
	let slot = 1_000_000u64;
	let now = slot * crate::SLOT_DURATION;

	let mut ext = externalities(storage.clone());
	let (block, fee) = ext.execute_with(|| {
		frame_system::Pallet::<Runtime>::on_genesis();
		let genesis_hash = System::block_hash(0);
		Executive::initialize_block(&header_for_slot(slot, genesis_hash));

		let timestamp =
			UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(pallet_timestamp::Call::set {
				now,
			}));
		let transfer = signed(
			RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
				dest: bob.clone().into(),
				value: amount,
			}),
			Sr25519Keyring::Alice,
			0,
		);
		let len = transfer.encoded_size() as u32;
		let quoted_fee = TransactionPayment::query_info(transfer.clone(), len).partial_fee;
		assert!(quoted_fee > 0, "a transfer must cost a fee");
		let issuance_before = pallet_balances::TotalIssuance::<Runtime>::get();

		Executive::apply_extrinsic(timestamp.clone()).unwrap().unwrap();
		Executive::apply_extrinsic(transfer.clone()).unwrap().unwrap();
		let header = Executive::finalize_block();

		let events: Vec<RuntimeEvent> = System::events().into_iter().map(|r| r.event).collect();
		assert!(events.contains(&RuntimeEvent::Balances(pallet_balances::Event::Transfer {
			from: alice.clone(),
			to: bob.clone(),
			amount,
		})));
		assert!(events.contains(&RuntimeEvent::TransactionPayment(
			pallet_transaction_payment::Event::TransactionFeePaid {
				who: alice.clone(),
				actual_fee: quoted_fee,
				tip: 0,
			}
		)));
		let alice_start = ENDOWMENT - GENESIS_SCORER_STAKE;
		assert_eq!(free(&alice), alice_start - amount - quoted_fee);
		assert_eq!(free(&bob), ENDOWMENT + amount);
		// Fees are burnt: issuance falls by exactly the fee.
		assert_eq!(pallet_balances::TotalIssuance::<Runtime>::get(), issuance_before - quoted_fee);
		(Block::new(header, vec![timestamp, transfer]), quoted_fee)
	});

	// Another node imports the block: it executes against the same genesis to the same state root.
	let mut importer = externalities(storage);
	importer.execute_with(|| {
		frame_system::Pallet::<Runtime>::on_genesis();
		Executive::execute_block(block.into());
		assert_eq!(free(&alice), ENDOWMENT - GENESIS_SCORER_STAKE - amount - fee);
		assert_eq!(System::account_nonce(&alice), 1);
	});
}

#[test]
fn a_transfer_with_a_bad_signature_is_refused() {
	externalities(genesis_storage("development")).execute_with(|| {
		frame_system::Pallet::<Runtime>::on_genesis();
		Executive::initialize_block(&header_for_slot(7, System::block_hash(0)));
		let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: Sr25519Keyring::Bob.to_account_id().into(),
			value: UNIT,
		});
		// Signed by Bob but claiming to be from Alice.
		let good = signed(call.clone(), Sr25519Keyring::Bob, 0);
		let forged = match good.preamble {
			sp_runtime::generic::Preamble::Signed(_, signature, ext) => {
				UncheckedExtrinsic::new_signed(
					call,
					Sr25519Keyring::Alice.to_account_id().into(),
					signature,
					ext,
				)
			},
			_ => unreachable!("signed() builds signed extrinsics"),
		};
		assert!(Executive::apply_extrinsic(forged).is_err());
		assert_eq!(free(&Sr25519Keyring::Alice.to_account_id()), ENDOWMENT - GENESIS_SCORER_STAKE);
	});
}

#[test]
fn genesis_config_default_builds() {
	// The default config (no preset) must also build, since chain-spec tooling starts from it.
	crate::RuntimeGenesisConfig::default().build_storage().expect("default genesis builds");
}

/// A scoring commit as the offchain worker builds it: a general transaction authorized by the scoring
/// key's signature, through the runtime's real extension pipeline.
fn scoring_commit(job: u64, signer: Sr25519Keyring) -> UncheckedExtrinsic {
	use frame_system::offchain::CreateAuthorizedTransaction;
	use modelchain_primitives::Verdict;
	let key: pallet_scoring::ScorerId = Sr25519Keyring::Alice.public().into();
	let commitment = pallet_scoring::commitment(job, &key, &Verdict::Scored(1), &[3; 32]);
	let payload = pallet_scoring::commit_payload(job, &commitment);
	let call = RuntimeCall::Scoring(pallet_scoring::Call::commit_score {
		job,
		commitment,
		scorer: key,
		signature: signer.sign(&payload).into(),
	});
	<Runtime as CreateAuthorizedTransaction<RuntimeCall>>::create_authorized_transaction(call)
}

#[test]
fn a_scoring_commit_is_a_fee_free_general_transaction_only_the_scoring_key_can_make() {
	use modelchain_primitives::{
		Artifact, ArtifactCheck, ArtifactFormat, JobSpec, JobSubject, Metric, ScoreJobs,
	};
	use sp_runtime::transaction_validity::{InvalidTransaction, TransactionValidityError};
	externalities(genesis_storage("development")).execute_with(|| {
		frame_system::Pallet::<Runtime>::on_genesis();
		Executive::initialize_block(&header_for_slot(9, System::block_hash(0)));
		let artifact = |format| Artifact {
			uri: b"https://models.example.org/a".to_vec().try_into().unwrap(),
			digest: [1; 32],
			size: 10,
			format,
		};
		let job = <crate::Scoring as ScoreJobs>::create_job(JobSpec {
			subject: JobSubject::Version(0),
			model: artifact(ArtifactFormat::Onnx),
			golden: artifact(ArtifactFormat::Safetensors),
			metric: Metric::Accuracy,
			check: ArtifactCheck::None,
		})
		.unwrap();
		let alice = Sr25519Keyring::Alice.to_account_id();
		let before = free(&alice);

		// Signed by another key: refused, as the pool would refuse it.
		assert_eq!(
			Executive::apply_extrinsic(scoring_commit(job, Sr25519Keyring::Bob)),
			Err(TransactionValidityError::Invalid(InvalidTransaction::BadProof))
		);
		Executive::apply_extrinsic(scoring_commit(job, Sr25519Keyring::Alice)).unwrap().unwrap();
		assert!(pallet_scoring::Participations::<Runtime>::contains_key(job, &alice));
		assert_eq!(free(&alice), before, "no fee, no nonce");
		assert_eq!(System::account_nonce(&alice), 0);
	});
}

/// A round's published version lists the datasets of all its accepted updates: the registry must take
/// as many as a round admits.
#[test]
fn a_round_result_can_list_every_dataset_its_updates_declare() {
	use frame_support::traits::Get;
	let round_max: u32 =
		<<Runtime as pallet_training_rounds::Config>::MaxRoundDatasets as Get<u32>>::get();
	let version_max: u32 =
		<<Runtime as pallet_model_registry::Config>::MaxVersionDatasets as Get<u32>>::get();
	assert!(round_max <= version_max, "{round_max} > {version_max}");
	let parts: u32 = <<Runtime as pallet_training_rounds::Config>::MaxUpdates as Get<u32>>::get();
	assert!(parts <= modelchain_primitives::MAX_AGGREGATE_PARTS);
}

/// The rewards' benchmarks cover the largest settlement a round hands them.
#[test]
fn the_rewards_bounds_cover_every_round() {
	use frame_support::traits::Get;
	let get = |value: u32| value;
	let updates = get(<Runtime as pallet_training_rounds::Config>::MaxUpdates::get());
	let datasets = get(<Runtime as pallet_training_rounds::Config>::MaxUpdateDatasets::get());
	let contributions = get(<Runtime as pallet_rewards::Config>::MaxContributions::get());
	let data = get(<Runtime as pallet_rewards::Config>::MaxContributionData::get());
	let paid = get(<Runtime as pallet_rewards::Config>::MaxRoundScorers::get());
	let scorers = get(<Runtime as pallet_scoring::Config>::MaxScorers::get());
	assert!(contributions >= updates, "{contributions} < {updates}");
	assert!(data >= updates * datasets, "{data} < {updates} × {datasets}");
	assert_eq!(paid, scorers, "every scorer can be paid");
}

/// The genesis authorities are the validator set's candidates, their session keys set, and their
/// scorer stake is their bond: it cannot leave while they validate.
#[test]
fn genesis_validators_come_from_the_session_and_their_stake_is_bonded() {
	externalities(genesis_storage("local_testnet")).execute_with(|| {
		let authorities: Vec<AccountId> = [
			Sr25519Keyring::Alice,
			Sr25519Keyring::Bob,
			Sr25519Keyring::Charlie,
			Sr25519Keyring::Dave,
		]
		.iter()
		.map(|k| k.to_account_id())
		.collect();
		// Equal bonds: ranked by account id.
		let mut ranked = authorities.clone();
		ranked.sort();
		assert_eq!(pallet_session::Validators::<Runtime>::get(), ranked);
		assert_eq!(pallet_validator_set::Candidates::<Runtime>::get().into_inner(), authorities);
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 4);
		let alice = Sr25519Keyring::Alice.to_account_id();
		frame_support::assert_noop!(
			pallet_scoring::Pallet::<Runtime>::unregister_scorer(crate::RuntimeOrigin::signed(
				alice.clone()
			)),
			pallet_scoring::Error::<Runtime>::StakeBonded
		);
		// Eve is not a scorer: she cannot join.
		frame_support::assert_noop!(
			pallet_validator_set::Pallet::<Runtime>::join(crate::RuntimeOrigin::signed(
				Sr25519Keyring::Eve.to_account_id()
			)),
			pallet_validator_set::Error::<Runtime>::NotScorer
		);

		// Root (a root-track referendum on a production network) removes Dave and burns a tenth
		// of his bond: the issuance falls by as much, the rest stays held and bonded.
		use frame_support::traits::fungible::InspectHold;
		let dave = Sr25519Keyring::Dave.to_account_id();
		let stake_reason = pallet_scoring::HoldReason::ScorerStake.into();
		let issuance = Balances::total_issuance();
		assert_eq!(Balances::balance_on_hold(&stake_reason, &dave), GENESIS_SCORER_STAKE);
		frame_support::assert_ok!(pallet_validator_set::Pallet::<Runtime>::remove(
			crate::RuntimeOrigin::root(),
			dave.clone(),
			sp_runtime::Perbill::from_percent(10),
		));
		let slashed = GENESIS_SCORER_STAKE / 10;
		assert_eq!(Balances::total_issuance(), issuance - slashed);
		assert_eq!(Balances::balance_on_hold(&stake_reason, &dave), GENESIS_SCORER_STAKE - slashed);
		assert_eq!(
			pallet_scoring::Scorers::<Runtime>::get(&dave).map(|s| s.stake),
			Some(GENESIS_SCORER_STAKE - slashed)
		);
		assert!(!pallet_validator_set::Candidates::<Runtime>::get().contains(&dave));
		frame_support::assert_noop!(
			pallet_scoring::Pallet::<Runtime>::unregister_scorer(crate::RuntimeOrigin::signed(
				dave.clone()
			)),
			pallet_scoring::Error::<Runtime>::StakeBonded
		);
	});
}

/// The training rounds' hook at its worst (the most rounds ending in the block, and the most queued
/// rounds handed to the validators, each with the most updates, every one a new scoring job) takes at
/// most a tenth of a block's time, by the generated weights.
#[test]
fn the_rounds_scoring_hook_fits_in_a_tenth_of_a_block() {
	use frame_support::traits::Get;
	use pallet_training_rounds::WeightInfo;
	type Weights = pallet_training_rounds::weights::SubstrateWeight<Runtime>;
	let rounds = <Runtime as pallet_training_rounds::Config>::MaxRoundsEnding::get();
	let updates = <Runtime as pallet_training_rounds::Config>::MaxUpdates::get();
	let worst = Weights::queue_rounds(rounds)
		.saturating_add(Weights::start_round_scoring(updates).saturating_mul(rounds as u64));
	let max = <Runtime as frame_system::Config>::BlockWeights::get().max_block;
	assert!(worst.ref_time() > 0, "the weights are generated, not zero");
	assert!(worst.ref_time() <= max.ref_time() / 10, "{worst:?} > a tenth of {max:?}");
}
