//! Genesis presets: the initial state of the `dev` and `local` networks. The node's chain specs are built
//! from these, so a preset is the single source of truth for each network's authorities and endowments.
//!
//! A production network's genesis, [`production_config_genesis`], is built from what its operators
//! declare (their validators' keys and bonds, the endowments): it has no sudo, referenda take days,
//! and sessions last an hour. The node builds it with `--chain production:<operators.json>`.

use crate::{
	AccountId, BalancesConfig, GovernanceConfig, RuntimeGenesisConfig, ScoringConfig,
	SessionConfig, SessionKeys, SudoConfig, ValidatorSetConfig, UNIT,
};
use alloc::{collections::BTreeSet, format, string::String, vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// What each well-known development account starts with: one million MDL.
pub const ENDOWMENT: crate::Balance = 1_000_000 * UNIT;
/// Blocks per session on development networks: a new validator authors about two minutes after it
/// joins.
pub const DEV_SESSION_LENGTH: crate::BlockNumber = 10;
/// What each development authority holds as scorer stake at genesis (its validator bond).
pub const GENESIS_SCORER_STAKE: crate::Balance = 1_000 * UNIT;

/// What makes `validators` the first validators, in every network: their session keys (Aura and
/// GRANDPA get their authorities from the session), the validator set's candidates, and the scorers
/// whose stake is their bond.
struct FirstValidators {
	session_keys: Vec<(AccountId, AccountId, SessionKeys)>,
	candidates: Vec<AccountId>,
	scorers: Vec<(AccountId, pallet_scoring::ScorerId, crate::Balance)>,
}

impl FirstValidators {
	fn of(validators: &[GenesisValidator]) -> Self {
		let session_keys = validators
			.iter()
			.map(|v| {
				let keys = SessionKeys {
					aura: v.aura.clone(),
					grandpa: v.grandpa.clone(),
					scoring: v.scoring.clone(),
				};
				(v.account.clone(), v.account.clone(), keys)
			})
			.collect();
		let candidates = validators.iter().map(|v| v.account.clone()).collect();
		let scorers =
			validators.iter().map(|v| (v.account.clone(), v.scoring.clone(), v.bond)).collect();
		Self { session_keys, candidates, scorers }
	}
}

fn testnet_genesis(
	initial_authorities: Vec<GenesisValidator>,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
) -> Value {
	let first = FirstValidators::of(&initial_authorities);
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts.iter().cloned().map(|k| (k, ENDOWMENT)).collect::<Vec<_>>(),
		},
		session: SessionConfig { keys: first.session_keys },
		validator_set: ValidatorSetConfig {
			candidates: first.candidates,
			session_length: Some(DEV_SESSION_LENGTH),
		},
		scoring: ScoringConfig { scorers: first.scorers },
		sudo: SudoConfig { key: Some(root) },
		// Referenda decide in a few dozen blocks on development networks.
		governance: GovernanceConfig {
			timings: Some(pallet_governance::TrackTimings::development()),
		},
	})
}

/// A well-known development account as an authority: sr25519 for Aura and scoring, ed25519 for
/// GRANDPA (the same seed, so that `--alice` & co. insert all three keys into the node's keystore),
/// bonding `GENESIS_SCORER_STAKE`.
fn authority_keys((sr, ed): (Sr25519Keyring, Ed25519Keyring)) -> GenesisValidator {
	GenesisValidator {
		account: sr.to_account_id(),
		aura: sr.public().into(),
		grandpa: ed.public().into(),
		scoring: sr.public().into(),
		bond: GENESIS_SCORER_STAKE,
	}
}

/// Every well-known development account (Alice … Ferdie and their stashes).
fn well_known_accounts() -> Vec<AccountId> {
	Sr25519Keyring::iter()
		.filter(|k| *k != Sr25519Keyring::One && *k != Sr25519Keyring::Two)
		.map(|k| k.to_account_id())
		.collect()
}

/// `dev`: Alice alone produces and finalises blocks, scores models, and is sudo.
pub fn development_config_genesis() -> Value {
	testnet_genesis(
		vec![authority_keys((Sr25519Keyring::Alice, Ed25519Keyring::Alice))],
		well_known_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// `local`: Alice, Bob, Charlie and Dave are authorities and scorers, for the multi-validator network.
pub fn local_config_genesis() -> Value {
	testnet_genesis(
		[
			(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
			(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
		]
		.into_iter()
		.map(authority_keys)
		.collect(),
		well_known_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The JSON patch of a preset, or `None` for an unknown name.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialization to json is expected to work. qed.")
			.into_bytes(),
	)
}

/// A validator of a production network, as its operator declares it for genesis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenesisValidator {
	/// The account that bonds and is paid.
	pub account: AccountId,
	/// Its session keys: block authoring, finality, and scoring (the offchain worker's signing key).
	pub aura: AuraId,
	pub grandpa: GrandpaId,
	pub scoring: pallet_scoring::ScorerId,
	/// The scorer stake held from `account` at genesis: its validator bond.
	pub bond: crate::Balance,
}

/// `production`: a live network's genesis from its operators' declarations.
///
/// - No sudo: the chain is governed by referenda only, with production periods
///   ([`pallet_governance::TrackTimings::production`]).
/// - Sessions last an hour (the validator set's default).
/// - Every validator is a scorer with its `bond` held, a candidate, and has its session keys set; the
///   first session's validators are the top `MaxValidators` by bond.
/// - `endowments` are the only balances (plus the rewards account's existential deposit). Each
///   validator must be endowed with at least its bond plus the existential deposit.
///
/// Refuses, with the reason, input that would not build or would leave a chain that cannot run: no
/// validators, too many, a bond below `MinValidatorBond`, a duplicate account or key, an endowment
/// below the existential deposit, or an unfunded bond.
pub fn production_config_genesis(
	validators: &[GenesisValidator],
	endowments: &[(AccountId, crate::Balance)],
) -> Result<Value, String> {
	use crate::configs::MinValidatorBond;
	use frame_support::traits::Get;

	if validators.is_empty() {
		return Err("a production network needs at least one validator".into());
	}
	let max_candidates =
		<<crate::Runtime as pallet_validator_set::Config>::MaxCandidates as Get<u32>>::get();
	if validators.len() > max_candidates as usize {
		return Err(format!(
			"{} validators declared, at most {max_candidates} can be candidates",
			validators.len()
		));
	}

	let mut endowed = alloc::collections::BTreeMap::new();
	let mut issuance: crate::Balance = 0;
	for (who, amount) in endowments {
		if *amount < crate::EXISTENTIAL_DEPOSIT {
			return Err(format!(
				"endowment of {who:?} is {amount}, below the existential deposit {}",
				crate::EXISTENTIAL_DEPOSIT
			));
		}
		if endowed.insert(who.clone(), *amount).is_some() {
			return Err(format!("account {who:?} is endowed twice"));
		}
		issuance = issuance
			.checked_add(*amount)
			.ok_or_else(|| String::from("the endowments overflow the total issuance"))?;
	}

	let (mut accounts, mut auras, mut grandpas, mut scorings) =
		(BTreeSet::new(), BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
	for v in validators {
		let who = &v.account;
		if !accounts.insert(who.clone()) {
			return Err(format!("validator {who:?} is declared twice"));
		}
		if !auras.insert(v.aura.clone())
			|| !grandpas.insert(v.grandpa.clone())
			|| !scorings.insert(v.scoring.clone())
		{
			return Err(format!("validator {who:?} reuses a session key of another validator"));
		}
		if v.bond < MinValidatorBond::get() {
			return Err(format!(
				"validator {who:?} bonds {}, below the minimum bond {}",
				v.bond,
				MinValidatorBond::get()
			));
		}
		let funded = endowed.get(who).copied().unwrap_or_default();
		if funded < v.bond.saturating_add(crate::EXISTENTIAL_DEPOSIT) {
			return Err(format!(
				"validator {who:?} is endowed with {funded}, less than its bond {} plus the existential \
				 deposit {}",
				v.bond,
				crate::EXISTENTIAL_DEPOSIT
			));
		}
	}

	let first = FirstValidators::of(validators);
	Ok(build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig { balances: endowments.to_vec() },
		session: SessionConfig { keys: first.session_keys },
		validator_set: ValidatorSetConfig { candidates: first.candidates },
		scoring: ScoringConfig { scorers: first.scorers },
		governance: GovernanceConfig {
			timings: Some(pallet_governance::TrackTimings::production()),
		},
	}))
}

/// The names of all presets.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
