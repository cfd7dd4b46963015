//! The scoring service end to end on loopback: a small HTTP server (started by each test) serves the
//! fixtures; the service fetches, verifies, caches and evaluates them, and every fetch failure class
//! becomes the fault a validator reports.

use std::{
	net::TcpListener,
	path::PathBuf,
	sync::atomic::Ordering,
	time::{Duration, Instant},
};

use modelchain_evaluation::{
	sandbox::Sandbox,
	service::{EvaluationService, ServiceConfig},
	sha256,
	testing::FixtureServer as Server,
};
use modelchain_primitives::{
	host::Evaluator, AggregatePart, AggregationRule, Artifact, ArtifactCheck, ArtifactFault,
	ArtifactFormat, EvaluationPoll, EvaluationRequest, Metric, Verdict,
};

fn fixtures() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fixtures/out")
}

fn read(name: &str) -> Vec<u8> {
	std::fs::read(fixtures().join(name))
		.unwrap_or_else(|e| panic!("{name}: {e} (run scripts/setup.sh to generate the fixtures)"))
}

fn reference_ppb(model: &str, metric: &str) -> u64 {
	let json: serde_json::Value = serde_json::from_slice(&read("reference.json")).unwrap();
	json[model][metric]["ppb"].as_u64().unwrap()
}

fn artifact(uri: String, fixture: &str, format: ArtifactFormat) -> Artifact {
	let bytes = read(fixture);
	Artifact {
		uri: uri.into_bytes().try_into().unwrap(),
		digest: sha256(&bytes),
		size: bytes.len() as u64,
		format,
	}
}

fn config(gateway: Option<String>) -> (ServiceConfig, tempdir::Dir) {
	let dir = tempdir::Dir::new();
	let config = ServiceConfig {
		ipfs_gateway: gateway,
		cache_dir: dir.path.clone(),
		max_artifact_bytes: 64 << 20,
		fetch_timeout: Duration::from_millis(1500),
		sandbox: Some(Sandbox {
			program: env!("CARGO_BIN_EXE_evaluation-sandbox").into(),
			args: Vec::new(),
			time_limit: Duration::from_secs(60),
		}),
	};
	(config, dir)
}

/// A throwaway directory, removed when dropped.
mod tempdir {
	pub struct Dir {
		pub path: std::path::PathBuf,
	}
	impl Dir {
		pub fn new() -> Self {
			use std::sync::atomic::{AtomicUsize, Ordering};
			static NEXT: AtomicUsize = AtomicUsize::new(0);
			let path = std::env::temp_dir().join(format!(
				"modelchain-service-test-{}-{}",
				std::process::id(),
				NEXT.fetch_add(1, Ordering::SeqCst)
			));
			std::fs::create_dir_all(&path).unwrap();
			Self { path }
		}
	}
	impl Drop for Dir {
		fn drop(&mut self) {
			let _ = std::fs::remove_dir_all(&self.path);
		}
	}
}

fn digits_request(server: &Server, model_path: &str, model_fixture: &str) -> EvaluationRequest {
	EvaluationRequest {
		model: artifact(server.url(model_path), model_fixture, ArtifactFormat::Onnx),
		golden: artifact(
			server.url("/files/digits_golden.safetensors"),
			"digits_golden.safetensors",
			ArtifactFormat::Safetensors,
		),
		metric: Metric::Accuracy,
		check: ArtifactCheck::None,
	}
}

fn evaluate_now(config: &ServiceConfig, request: &EvaluationRequest) -> Verdict {
	EvaluationService::evaluate_now(config, request).unwrap()
}

/// Polls until the service is done, as an offchain worker does block after block.
fn poll_until_done(service: &EvaluationService, request: &EvaluationRequest) -> Verdict {
	let deadline = Instant::now() + Duration::from_secs(60);
	loop {
		match service.poll(request) {
			EvaluationPoll::Done(verdict) => return verdict,
			EvaluationPoll::Pending => {},
			EvaluationPoll::Unsupported => panic!("a started service supports evaluation"),
		}
		assert!(Instant::now() < deadline, "evaluation did not finish within 60 s");
		std::thread::sleep(Duration::from_millis(20));
	}
}

#[test]
fn scores_an_http_artifact_as_onnxruntime_does() {
	let server = Server::start(fixtures());
	let (config, _dir) = config(None);
	let request = digits_request(&server, "/files/digits_mlp.onnx", "digits_mlp.onnx");
	assert_eq!(
		evaluate_now(&config, &request),
		Verdict::Scored(reference_ppb("digits_mlp", "accuracy"))
	);
}

#[test]
fn polling_answers_pending_then_the_verdict_without_blocking() {
	let server = Server::start(fixtures());
	let (config, _dir) = config(None);
	let service = EvaluationService::start(config).unwrap();
	let request =
		digits_request(&server, "/files/digits_mlp_poisoned.onnx", "digits_mlp_poisoned.onnx");
	assert_eq!(service.poll(&request), EvaluationPoll::Pending);
	let expected = Verdict::Scored(reference_ppb("digits_mlp_poisoned", "accuracy"));
	assert_eq!(poll_until_done(&service, &request), expected);
	// Remembered: asking again fetches nothing.
	let hits = server.hits.load(Ordering::SeqCst);
	assert_eq!(service.poll(&request), EvaluationPoll::Done(expected));
	assert_eq!(server.hits.load(Ordering::SeqCst), hits);
}

#[test]
fn artifacts_are_downloaded_once_per_digest() {
	let server = Server::start(fixtures());
	let (config, _dir) = config(None);
	let request = digits_request(&server, "/files/digits_mlp.onnx", "digits_mlp.onnx");
	let first = evaluate_now(&config, &request);
	assert_eq!(server.hits.load(Ordering::SeqCst), 2, "model and golden set fetched");
	// Another URI for the same bytes (and a new service on the same cache): served from the cache.
	let mut other = request.clone();
	other.model.uri = server.url("/files/elsewhere.onnx").into_bytes().try_into().unwrap();
	assert_eq!(evaluate_now(&config, &other), first);
	assert_eq!(server.hits.load(Ordering::SeqCst), 2);
}

#[test]
fn a_tampered_cache_file_is_fetched_again() {
	let server = Server::start(fixtures());
	let (config, dir) = config(None);
	let request = digits_request(&server, "/files/digits_mlp.onnx", "digits_mlp.onnx");
	let first = evaluate_now(&config, &request);
	let cached: String = request.model.digest.iter().map(|b| format!("{b:02x}")).collect();
	std::fs::write(dir.path.join(cached), b"tampered").unwrap();
	assert_eq!(evaluate_now(&config, &request), first);
	assert_eq!(server.hits.load(Ordering::SeqCst), 3, "only the model fetched again");
}

#[test]
fn ipfs_uris_resolve_through_the_configured_gateway() {
	let server = Server::start(fixtures());
	let (config, _dir) = config(Some(format!("{}/", server.base)));
	let mut request = digits_request(&server, "/files/digits_mlp.onnx", "digits_mlp.onnx");
	request.model.uri =
		b"ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/digits_mlp.onnx"
			.to_vec()
			.try_into()
			.unwrap();
	assert_eq!(
		evaluate_now(&config, &request),
		Verdict::Scored(reference_ppb("digits_mlp", "accuracy"))
	);
}

#[test]
fn ipfs_without_a_gateway_is_unavailable() {
	let server = Server::start(fixtures());
	let (config, _dir) = config(None);
	let mut request = digits_request(&server, "/files/digits_mlp.onnx", "digits_mlp.onnx");
	request.model.uri = b"ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
		.to_vec()
		.try_into()
		.unwrap();
	assert_eq!(evaluate_now(&config, &request), Verdict::Invalid(ArtifactFault::Unavailable));
}

#[test]
fn redirects_are_followed() {
	let server = Server::start(fixtures());
	let (config, _dir) = config(None);
	let request = digits_request(&server, "/redirect/digits_mlp.onnx", "digits_mlp.onnx");
	assert_eq!(
		evaluate_now(&config, &request),
		Verdict::Scored(reference_ppb("digits_mlp", "accuracy"))
	);
}

#[test]
fn a_file_that_does_not_match_its_digest_is_a_digest_mismatch() {
	let server = Server::start(fixtures());
	let (config, _dir) = config(None);
	// The URI serves the poisoned model, the digest is the honest one's.
	let mut request = digits_request(&server, "/files/digits_mlp.onnx", "digits_mlp.onnx");
	request.model.uri =
		server.url("/files/digits_mlp_poisoned.onnx").into_bytes().try_into().unwrap();
	assert_eq!(evaluate_now(&config, &request), Verdict::Invalid(ArtifactFault::DigestMismatch));
	// More bytes than recorded: the download stops at the recorded size.
	let request = digits_request(&server, "/padded/digits_mlp.onnx", "digits_mlp.onnx");
	assert_eq!(evaluate_now(&config, &request), Verdict::Invalid(ArtifactFault::DigestMismatch));
}

#[test]
fn http_errors_timeouts_and_oversized_artifacts_are_unavailable() {
	let server = Server::start(fixtures());
	let (config, _dir) = config(None);
	for path in ["/status/404", "/status/500", "/slow/digits_mlp.onnx"] {
		let request = digits_request(&server, path, "digits_mlp.onnx");
		assert_eq!(
			evaluate_now(&config, &request),
			Verdict::Invalid(ArtifactFault::Unavailable),
			"{path}"
		);
	}
	// A limit between the golden set's size (5,996 bytes) and the model's (9,892 bytes).
	let mut small = config.clone();
	small.max_artifact_bytes = 8_000;
	let mut request = digits_request(&server, "/files/digits_mlp.onnx", "digits_mlp.onnx");
	request.golden = artifact(
		server.url("/files/diabetes_golden.safetensors"),
		"diabetes_golden.safetensors",
		ArtifactFormat::Safetensors,
	);
	let before = server.hits.load(Ordering::SeqCst);
	assert_eq!(evaluate_now(&small, &request), Verdict::Invalid(ArtifactFault::Unavailable));
	// Only the golden set was fetched: the model is not even requested.
	assert_eq!(server.hits.load(Ordering::SeqCst), before + 1);
	// A golden set over the limit is not the model's fault.
	small.max_artifact_bytes = 1_024;
	assert_eq!(evaluate_now(&small, &request), Verdict::Invalid(ArtifactFault::GoldenSetUnusable));
	// Nothing unreachable: a closed port.
	let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
	let mut request = digits_request(&server, "/files/digits_mlp.onnx", "digits_mlp.onnx");
	request.model.uri = format!("http://{closed}/m.onnx").into_bytes().try_into().unwrap();
	assert_eq!(evaluate_now(&config, &request), Verdict::Invalid(ArtifactFault::Unavailable));
}

#[test]
fn broken_models_get_the_fault_that_describes_them() {
	let server = Server::start(fixtures());
	let (config, _dir) = config(None);
	for (fixture, fault) in [
		("bad_not_onnx.onnx", ArtifactFault::InvalidModel),
		("bad_truncated.onnx", ArtifactFault::InvalidModel),
		("bad_unsupported_op.onnx", ArtifactFault::InvalidModel),
		("bad_shape_mismatch.onnx", ArtifactFault::ShapeMismatch),
	] {
		let request = digits_request(&server, &format!("/files/{fixture}"), fixture);
		assert_eq!(evaluate_now(&config, &request), Verdict::Invalid(fault), "{fixture}");
	}
}

#[test]
fn an_unusable_golden_set_is_not_the_models_fault() {
	let server = Server::start(fixtures());
	let (config, _dir) = config(None);
	for fixture in ["bad_dataset_garbage.safetensors", "bad_dataset_no_labels.safetensors"] {
		let mut request = digits_request(&server, "/files/digits_mlp.onnx", "digits_mlp.onnx");
		request.golden = artifact(
			server.url(&format!("/files/{fixture}")),
			fixture,
			ArtifactFormat::Safetensors,
		);
		assert_eq!(
			evaluate_now(&config, &request),
			Verdict::Invalid(ArtifactFault::GoldenSetUnusable),
			"{fixture}"
		);
	}
	let mut request = digits_request(&server, "/files/digits_mlp.onnx", "digits_mlp.onnx");
	request.golden.uri = server.url("/status/503").into_bytes().try_into().unwrap();
	assert_eq!(evaluate_now(&config, &request), Verdict::Invalid(ArtifactFault::GoldenSetUnusable));
}

/// A served round fixture, as an artifact.
fn round_artifact(server: &Server, name: &str) -> Artifact {
	artifact(server.url(&format!("/files/{name}")), name, ArtifactFormat::Onnx)
}

fn aggregate_request(server: &Server, candidate: &str, weights: [u64; 2]) -> EvaluationRequest {
	let mut request = digits_request(server, &format!("/files/{candidate}"), candidate);
	let parts = ["round_update_a.onnx", "round_update_b.onnx"]
		.iter()
		.zip(weights)
		.map(|(name, weight)| AggregatePart { artifact: round_artifact(server, name), weight })
		.collect::<Vec<_>>();
	request.check = ArtifactCheck::AggregateOf {
		base: round_artifact(server, "round_base.onnx"),
		rule: AggregationRule::FedAvg,
		parts: parts.try_into().unwrap(),
	};
	request
}

fn round_samples() -> [u64; 2] {
	let json: serde_json::Value = serde_json::from_slice(&read("reference.json")).unwrap();
	let n = |u: &str| json["round"]["samples"][u].as_u64().unwrap();
	[n("round_update_a"), n("round_update_b")]
}

#[test]
fn a_recomputed_aggregate_is_scored_and_a_lying_one_is_invalid() {
	let server = Server::start(fixtures());
	let (config, _dir) = config(None);
	let json: serde_json::Value = serde_json::from_slice(&read("reference.json")).unwrap();
	let expected = json["round_aggregate_fedavg"]["accuracy"]["ppb"].as_u64().unwrap();
	let honest = aggregate_request(&server, "round_aggregate_fedavg.onnx", round_samples());
	assert_eq!(evaluate_now(&config, &honest), Verdict::Scored(expected));
	// The same file claimed as the aggregate of other sample counts.
	let lying = aggregate_request(&server, "round_aggregate_fedavg.onnx", [1, 1]);
	assert_eq!(evaluate_now(&config, &lying), Verdict::Invalid(ArtifactFault::AggregateMismatch));
	// A reference nobody can fetch is not the candidate's fault. (Its digest is one nobody holds: a
	// cached file of the right digest would be used whatever its URI serves.)
	let mut unreachable =
		aggregate_request(&server, "round_aggregate_fedavg.onnx", round_samples());
	if let ArtifactCheck::AggregateOf { base, .. } = &mut unreachable.check {
		base.uri = server.url("/status/404").into_bytes().try_into().unwrap();
		base.digest = [9; 32];
	}
	assert_eq!(
		evaluate_now(&config, &unreachable),
		Verdict::Invalid(ArtifactFault::ReferenceUnusable)
	);
}

#[test]
fn an_update_of_another_graph_is_invalid() {
	let server = Server::start(fixtures());
	let (config, _dir) = config(None);
	let mut request =
		digits_request(&server, "/files/round_update_wider.onnx", "round_update_wider.onnx");
	request.check = ArtifactCheck::SameGraphAs(round_artifact(&server, "round_base.onnx"));
	assert_eq!(
		evaluate_now(&config, &request),
		Verdict::Invalid(ArtifactFault::ArchitectureMismatch)
	);
}

#[test]
fn a_connection_the_server_closed_after_keep_alive_is_not_reused() {
	let server = Server::start(fixtures());
	let (config, _dir) = config(None);
	let service = EvaluationService::start(config).unwrap();
	// Two models from a server that closes kept-alive connections 100 ms after each response, fetched
	// by the same worker 300 ms apart: a pooled connection would be dead by the second fetch.
	let first = digits_request(&server, "/keepalive/round_update_a.onnx", "round_update_a.onnx");
	let expected = Verdict::Scored(reference_ppb("round_update_a", "accuracy"));
	assert_eq!(poll_until_done(&service, &first), expected);
	std::thread::sleep(Duration::from_millis(300));
	let second = digits_request(&server, "/keepalive/round_update_b.onnx", "round_update_b.onnx");
	let expected = Verdict::Scored(reference_ppb("round_update_b", "accuracy"));
	assert_eq!(poll_until_done(&service, &second), expected);
}
