//! Chain specifications, all built from the runtime's genesis presets.

use modelchain_runtime::{
	genesis_config_presets::{production_config_genesis, GenesisValidator},
	AccountId, Balance, SS58_PREFIX, TOKEN_DECIMALS, TOKEN_SYMBOL, WASM_BINARY,
};
use sc_service::{config::MultiaddrWithPeerId, ChainType, Properties};
use sp_core::{
	crypto::{ByteArray, Ss58Codec},
	ed25519, sr25519,
};

/// The chain specification of modelchain networks.
pub type ChainSpec = sc_service::GenericChainSpec;

/// What wallets show: `MDL` with 12 decimals, generic Substrate addresses.
fn properties() -> Properties {
	let mut properties = Properties::new();
	properties.insert("tokenSymbol".into(), TOKEN_SYMBOL.into());
	properties.insert("tokenDecimals".into(), TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), SS58_PREFIX.into());
	properties
}

fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"the runtime's wasm binary is not available: this node was built with SKIP_WASM_BUILD; \
		 build it again without that variable"
			.to_string()
	})
}

/// `dev`: Alice alone, for development and tests.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("modelchain Development")
		.with_id("modelchain_dev")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// `local`: Alice, Bob, Charlie and Dave as authorities.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("modelchain Local Testnet")
		.with_id("modelchain_local")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// `production:<operators.json>`: a live network from what its operators declare (see
/// [`Operators`]). No sudo, production referendum periods, hour-long sessions.
pub fn production_chain_spec(operators: &Operators) -> Result<ChainSpec, String> {
	let validators = operators
		.validators
		.iter()
		.enumerate()
		.map(|(i, v)| v.parse().map_err(|e| format!("validators[{i}]: {e}")))
		.collect::<Result<Vec<_>, _>>()?;
	let endowments = operators
		.endowments
		.iter()
		.enumerate()
		.map(|(i, e)| {
			Ok((
				account(&e.account).map_err(|m| format!("endowments[{i}].account: {m}"))?,
				amount(&e.amount).map_err(|m| format!("endowments[{i}].amount: {m}"))?,
			))
		})
		.collect::<Result<Vec<_>, String>>()?;
	let boot_nodes = operators
		.boot_nodes
		.iter()
		.map(|a| a.parse().map_err(|e| format!("bootNodes: `{a}`: {e}")))
		.collect::<Result<Vec<MultiaddrWithPeerId>, _>>()?;
	let patch = production_config_genesis(&validators, &endowments)?;
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name(&operators.name)
		.with_id(&operators.id)
		.with_chain_type(ChainType::Live)
		.with_boot_nodes(boot_nodes)
		.with_genesis_config_patch(patch)
		.with_properties(properties())
		.build())
}

/// What the operators of a production network declare, as JSON (camelCase keys):
///
/// ```json
/// { "name": "modelchain", "id": "modelchain", "bootNodes": ["/dns/a.example/tcp/30333/p2p/12D3…"],
///   "endowments": [{ "account": "5Grw…", "amount": "10000 MDL" }],
///   "validators": [{ "account": "5Grw…", "aura": "5Grw…", "grandpa": "5FA9…", "scoring": "5Grw…",
///                    "bond": "2000 MDL" }] }
/// ```
///
/// Accounts and keys are SS58 addresses or 0x-prefixed hex public keys (what `modelchain-node key
/// inspect` prints); `grandpa` is an ed25519 key, the others sr25519. Amounts are strings: `"<n> MDL"`
/// (up to 12 decimals) or a whole number of plancks (10⁻¹² MDL).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Operators {
	pub name: String,
	pub id: String,
	#[serde(default)]
	pub boot_nodes: Vec<String>,
	pub endowments: Vec<Endowment>,
	pub validators: Vec<Validator>,
}

/// An account's balance at genesis.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endowment {
	pub account: String,
	pub amount: String,
}

/// A validator at genesis: its account, session keys, and bond (held from its endowment).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validator {
	pub account: String,
	pub aura: String,
	pub grandpa: String,
	pub scoring: String,
	pub bond: String,
}

impl Validator {
	fn parse(&self) -> Result<GenesisValidator, String> {
		let field = |name: &str, e: String| format!("{name}: {e}");
		Ok(GenesisValidator {
			account: account(&self.account).map_err(|e| field("account", e))?,
			aura: public::<sr25519::Public>(&self.aura).map_err(|e| field("aura", e))?.into(),
			grandpa: public::<ed25519::Public>(&self.grandpa)
				.map_err(|e| field("grandpa", e))?
				.into(),
			scoring: public::<sr25519::Public>(&self.scoring)
				.map_err(|e| field("scoring", e))?
				.into(),
			bond: amount(&self.bond).map_err(|e| field("bond", e))?,
		})
	}
}

/// A 32-byte public key from an SS58 address or 0x-prefixed hex.
fn public<P: Ss58Codec + ByteArray>(text: &str) -> Result<P, String> {
	if let Some(hex) = text.strip_prefix("0x") {
		let bytes =
			sp_core::bytes::from_hex(hex).map_err(|e| format!("`{text}` is not hex: {e}"))?;
		return P::from_slice(&bytes)
			.map_err(|()| format!("`{text}` is {} bytes, a public key is 32", bytes.len()));
	}
	P::from_ss58check(text).map_err(|e| format!("`{text}` is not an SS58 address: {e}"))
}

fn account(text: &str) -> Result<AccountId, String> {
	public::<sr25519::Public>(text).map(|p| AccountId::from(p.0))
}

/// `"<decimal> MDL"` or a whole number of plancks.
fn amount(text: &str) -> Result<Balance, String> {
	let invalid =
		|| format!("`{text}` is not an amount: write `<n> {TOKEN_SYMBOL}` or whole plancks");
	let Some(tokens) = text.strip_suffix(TOKEN_SYMBOL).map(str::trim_end) else {
		return text.parse::<Balance>().map_err(|_| invalid());
	};
	let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
	let (whole, fraction) = match tokens.split_once('.') {
		Some((whole, fraction)) if digits(fraction) => (whole, fraction),
		Some(_) => return Err(invalid()),
		None => (tokens, ""),
	};
	let decimals = TOKEN_DECIMALS as usize;
	if !digits(whole) || fraction.len() > decimals {
		return Err(invalid());
	}
	let padded = format!("{whole}{fraction:0<decimals$}");
	padded.parse::<Balance>().map_err(|_| format!("`{text}` is too large"))
}

/// Resolves `--chain <id>`: a built-in name, `production:<operators.json>`, or the path of a
/// chain-spec JSON file.
pub fn load(id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
	Ok(match id {
		"dev" => Box::new(development_chain_spec()?),
		"" | "local" => Box::new(local_chain_spec()?),
		_ if id.starts_with("production:") => {
			let path = &id["production:".len()..];
			let text = std::fs::read_to_string(path)
				.map_err(|e| format!("cannot read the operators' file `{path}`: {e}"))?;
			let operators: Operators = serde_json::from_str(&text)
				.map_err(|e| format!("the operators' file `{path}`: {e}"))?;
			Box::new(
				production_chain_spec(&operators)
					.map_err(|e| format!("the operators' file `{path}`: {e}"))?,
			)
		},
		path => {
			let path = std::path::PathBuf::from(path);
			if !path.is_file() {
				return Err(format!(
					"unknown chain `{id}`: expected `dev`, `local`, `production:<operators.json>` or the \
					 path of a chain-spec JSON file"
				));
			}
			Box::new(ChainSpec::from_json_file(path)?)
		},
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use modelchain_runtime::UNIT;
	use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

	fn operators(bond: &str) -> serde_json::Value {
		let alice = Sr25519Keyring::Alice.to_account_id().to_ss58check();
		serde_json::json!({
			"name": "modelchain Test",
			"id": "modelchain_test",
			"bootNodes": ["/ip4/127.0.0.1/tcp/30333/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp"],
			"endowments": [{ "account": alice, "amount": "10000 MDL" }],
			"validators": [{
				"account": alice,
				"aura": format!("0x{}", hex(&Sr25519Keyring::Alice.public().0)),
				"grandpa": Ed25519Keyring::Alice.public().to_ss58check(),
				"scoring": alice,
				"bond": bond,
			}],
		})
	}

	/// The production spec the declaration builds, or why it is refused.
	fn parse(value: serde_json::Value) -> Result<ChainSpec, String> {
		let operators: Operators = serde_json::from_value(value).map_err(|e| e.to_string())?;
		production_chain_spec(&operators)
	}

	fn refusal(value: serde_json::Value) -> String {
		parse(value).err().expect("the declaration is refused")
	}

	#[test]
	fn amounts_are_tokens_or_plancks() {
		assert_eq!(amount("10000 MDL"), Ok(10_000 * UNIT));
		assert_eq!(amount("1.5MDL"), Ok(3 * UNIT / 2));
		assert_eq!(amount("0.000000000001 MDL"), Ok(1));
		assert_eq!(amount("123"), Ok(123));
		for bad in
			["", "MDL", "1.0000000000001 MDL", "-1 MDL", "1e3", "1,5 MDL", ".5 MDL", "5. MDL"]
		{
			assert!(amount(bad).is_err(), "`{bad}` accepted");
		}
		assert!(amount("340282366920938463463374607431768211456").is_err());
		assert!(amount("340282366920938463463374607431768211455 MDL")
			.unwrap_err()
			.contains("too large"));
	}

	#[test]
	fn keys_are_ss58_or_hex_of_the_right_length() {
		let alice = Sr25519Keyring::Alice.public();
		assert_eq!(public::<sr25519::Public>(&alice.to_ss58check()), Ok(alice));
		assert_eq!(public::<sr25519::Public>(&format!("0x{}", hex(&alice.0))), Ok(alice));
		assert!(public::<sr25519::Public>("0x1234").unwrap_err().contains("2 bytes"));
		assert!(public::<sr25519::Public>("0xzz").unwrap_err().contains("not hex"));
		assert!(public::<sr25519::Public>("5Nope").unwrap_err().contains("not an SS58 address"));
	}

	fn hex(bytes: &[u8]) -> String {
		sp_core::hexdisplay::HexDisplay::from(&bytes).to_string()
	}

	#[test]
	fn a_production_spec_is_live_with_the_declared_boot_nodes_and_no_sudo() {
		let spec = parse(operators("2000 MDL")).expect("valid declaration");
		assert_eq!(sc_service::ChainSpec::id(&spec), "modelchain_test");
		assert_eq!(sc_service::ChainSpec::chain_type(&spec), ChainType::Live);
		assert_eq!(sc_service::ChainSpec::boot_nodes(&spec).len(), 1);
		let genesis = sc_service::ChainSpec::as_json(&spec, false).expect("json");
		assert!(!genesis.contains("sudo"), "{genesis}");
		assert!(genesis.contains("validatorSet"), "{genesis}");
	}

	#[test]
	fn a_bad_declaration_is_refused_with_where_and_why() {
		let error = refusal(operators("999 MDL"));
		assert!(error.contains("below the minimum bond"), "{error}");

		let mut bad_key = operators("2000 MDL");
		bad_key["validators"][0]["grandpa"] = "5Nope".into();
		let error = refusal(bad_key);
		assert!(error.starts_with("validators[0]: grandpa:"), "{error}");

		let mut bad_amount = operators("2000 MDL");
		bad_amount["endowments"][0]["amount"] = "lots".into();
		assert!(refusal(bad_amount).starts_with("endowments[0].amount:"));

		let mut unknown = operators("2000 MDL");
		unknown["sudo"] = "5Grw".into();
		assert!(refusal(unknown).contains("unknown field `sudo`"));

		let mut bad_boot = operators("2000 MDL");
		bad_boot["bootNodes"][0] = "/ip4/127.0.0.1/tcp/30333".into();
		assert!(refusal(bad_boot).starts_with("bootNodes:"));

		let Err(error) = load("production:/nonexistent/operators.json") else { panic!("accepted") };
		assert!(error.contains("cannot read the operators' file"), "{error}");
	}
}
