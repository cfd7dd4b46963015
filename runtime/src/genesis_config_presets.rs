//! Genesis presets: the initial state of the `dev` and `local` networks. The node's chain specs are built
//! from these, so a preset is the single source of truth for each network's authorities and endowments.

use crate::{
	AccountId, BalancesConfig, GovernanceConfig, RuntimeGenesisConfig, ScoringConfig,
	SessionConfig, SessionKeys, SudoConfig, ValidatorSetConfig, UNIT,
};
use alloc::{vec, vec::Vec};
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

/// The keys of a development authority: Aura, GRANDPA, and its scoring key (the same seed, so that
/// `--alice` & co. insert all three into the node's keystore).
struct Authority {
	account: AccountId,
	aura: AuraId,
	grandpa: GrandpaId,
	scoring: pallet_scoring::ScorerId,
}

fn testnet_genesis(
	initial_authorities: Vec<Authority>,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts.iter().cloned().map(|k| (k, ENDOWMENT)).collect::<Vec<_>>(),
		},
		// Aura and GRANDPA get their authorities from the session: the validator set's candidates,
		// each with its session keys.
		session: SessionConfig {
			keys: initial_authorities
				.iter()
				.map(|a| {
					let keys = SessionKeys {
						aura: a.aura.clone(),
						grandpa: a.grandpa.clone(),
						scoring: a.scoring.clone(),
					};
					(a.account.clone(), a.account.clone(), keys)
				})
				.collect::<Vec<_>>(),
		},
		validator_set: ValidatorSetConfig {
			candidates: initial_authorities.iter().map(|a| a.account.clone()).collect::<Vec<_>>(),
			session_length: Some(DEV_SESSION_LENGTH),
		},
		scoring: ScoringConfig {
			scorers: initial_authorities
				.iter()
				.map(|a| (a.account.clone(), a.scoring.clone(), GENESIS_SCORER_STAKE))
				.collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: Some(root) },
		// Referenda decide in a few dozen blocks on development networks.
		governance: GovernanceConfig {
			timings: Some(pallet_governance::TrackTimings::development()),
		},
	})
}

/// The authority keys of a well-known development account: sr25519 for Aura and scoring, ed25519 for
/// GRANDPA.
fn authority_keys((sr, ed): (Sr25519Keyring, Ed25519Keyring)) -> Authority {
	Authority {
		account: sr.to_account_id(),
		aura: sr.public().into(),
		grandpa: ed.public().into(),
		scoring: sr.public().into(),
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

/// The names of all presets.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
