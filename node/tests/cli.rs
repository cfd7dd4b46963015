//! The node binary's command line. (Also makes `cargo test` build the binary the end-to-end tests run,
//! with the same dependency features as the rest of the test build, so it is compiled once.)

use std::process::Command;

fn node() -> Command {
	Command::new(env!("CARGO_BIN_EXE_modelchain-node"))
}

#[test]
fn the_scoring_options_are_documented() {
	let output = node().arg("--help").output().expect("the node runs");
	assert!(output.status.success());
	let help = String::from_utf8_lossy(&output.stdout);
	for option in [
		"--ipfs-gateway",
		"--scoring-cache",
		"--max-artifact-mib",
		"--fetch-timeout",
		"--evaluation-timeout",
	] {
		assert!(help.contains(option), "--help does not mention {option}");
	}
}

#[test]
fn the_dev_chain_spec_registers_alice_as_scorer() {
	let output = node().args(["build-spec", "--chain", "dev"]).output().expect("the node runs");
	assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
	let spec: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON chain spec");
	let patch = &spec["genesis"]["runtimeGenesis"]["patch"];
	let scorers = patch["scoring"]["scorers"].as_array().expect("scoring genesis");
	assert_eq!(scorers.len(), 1);
	// Alice's account, and her sr25519 public key as scoring key.
	assert_eq!(scorers[0][0], "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
	assert_eq!(scorers[0][1], "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
}

#[test]
fn an_unknown_chain_is_refused() {
	let output = node().args(["build-spec", "--chain", "mainnet"]).output().expect("the node runs");
	assert!(!output.status.success());
}

#[test]
fn the_evaluation_sandbox_refuses_input_that_is_not_a_request() {
	use std::{io::Write, process::Stdio};
	let mut child = node()
		.arg("evaluate-sandboxed")
		.stdin(Stdio::piped())
		.stdout(Stdio::piped())
		.stderr(Stdio::piped())
		.spawn()
		.expect("the node runs");
	child.stdin.take().unwrap().write_all(b"not a request").unwrap();
	let output = child.wait_with_output().unwrap();
	assert_eq!(output.status.code(), Some(2));
	assert!(output.stdout.is_empty());
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(stderr.contains("not an evaluation request"), "{stderr}");
	// Internal: not listed in the help.
	let help = node().arg("--help").output().unwrap();
	assert!(!String::from_utf8_lossy(&help.stdout).contains("evaluate-sandboxed"));
}
