//! The evaluation sandbox with models built to exhaust a validator (made by
//! `scripts/fixtures/make_fixtures.py`): each is refused as too costly, in a child process, and the test
//! process (standing for the node) lives on. Ordinary models score in the sandbox exactly as in process.

use std::{
	path::PathBuf,
	time::{Duration, Instant},
};

use modelchain_evaluation::{
	evaluate,
	sandbox::{evaluate_sandboxed, Sandbox},
	service::{EvaluationService, ServiceConfig},
	sha256,
	testing::FixtureServer as Server,
	EvalError, GoldenSet,
};
use modelchain_primitives::{
	host::Evaluator, Artifact, ArtifactCheck, ArtifactFault, ArtifactFormat, EvaluationPoll,
	EvaluationRequest, Metric, Verdict,
};

fn fixtures() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fixtures/out")
}

fn read(name: &str) -> Vec<u8> {
	std::fs::read(fixtures().join(name))
		.unwrap_or_else(|e| panic!("{name}: {e} (run scripts/setup.sh to generate the fixtures)"))
}

fn sandbox(time_limit: Duration) -> Sandbox {
	Sandbox {
		program: env!("CARGO_BIN_EXE_evaluation-sandbox").into(),
		args: Vec::new(),
		time_limit,
	}
}

fn sandboxed(model: &str, time_limit: Duration) -> Result<u64, EvalError> {
	let golden = read("digits_golden.safetensors");
	evaluate_sandboxed(&sandbox(time_limit), &read(model), &golden, Metric::Accuracy)
		.expect("the sandbox runs")
		.map(|evaluation| evaluation.score)
}

fn assert_too_costly(result: Result<u64, EvalError>, why: &str) {
	match result {
		Err(EvalError::TooCostly(message)) => {
			assert!(message.contains(why), "{why:?} not in {message:?}")
		},
		other => panic!("expected too costly ({why}), got {other:?}"),
	}
}

#[test]
fn ordinary_models_score_in_the_sandbox_as_in_process() {
	let golden = GoldenSet::from_safetensors(&read("digits_golden.safetensors")).unwrap();
	for model in ["digits_mlp.onnx", "digits_mlp_poisoned.onnx", "bad_shape_mismatch.onnx"] {
		let in_process = evaluate(&read(model), &golden, Metric::Accuracy).map(|e| e.score);
		assert_eq!(sandboxed(model, Duration::from_secs(60)), in_process, "{model}");
	}
	// Failures keep their class through the child.
	assert!(matches!(
		sandboxed("bad_unsupported_op.onnx", Duration::from_secs(60)),
		Err(EvalError::UnsupportedOperator(_))
	));
	assert!(matches!(
		sandboxed("bad_truncated.onnx", Duration::from_secs(60)),
		Err(EvalError::MalformedModel(_))
	));
	// The child knows the operators the engine adds to tract (`TreeEnsembleRegressor`).
	let diabetes = read("diabetes_golden.safetensors");
	let golden = GoldenSet::from_safetensors(&diabetes).unwrap();
	let model = read("sk_boosting_regressor.onnx");
	let in_process = evaluate(&model, &golden, Metric::MeanSquaredError).map(|e| e.score);
	assert!(in_process.is_ok(), "{in_process:?}");
	let child = evaluate_sandboxed(
		&sandbox(Duration::from_secs(60)),
		&model,
		&diabetes,
		Metric::MeanSquaredError,
	)
	.expect("the sandbox runs")
	.map(|e| e.score);
	assert_eq!(child, in_process);
}

#[test]
fn a_text_model_scores_in_the_sandbox_as_onnxruntime() {
	// 512 sequences of 256 token ids: 1 MiB of inputs, one batch by input bytes. Its attention scores
	// are 2 MiB per sample, several copies of them per batch: gigabytes, beyond the sandbox's memory,
	// until batches are also bounded by their values (`MAX_BATCH_VALUE_BYTES`).
	assert_eq!(modelchain_evaluation::batch_size(512, 256 * 8), 512);
	let reference: serde_json::Value = serde_json::from_slice(&read("reference.json")).unwrap();
	let expected = |metric: &str| reference["text_attention"][metric]["ppb"].as_u64().unwrap();
	let model = read("text_attention.onnx");
	let golden = read("text_attention_golden.safetensors");
	let sandbox = sandbox(Duration::from_secs(120));
	let score = |metric| {
		evaluate_sandboxed(&sandbox, &model, &golden, metric)
			.expect("the sandbox runs")
			.map(|evaluation| evaluation.score)
	};
	assert_eq!(score(Metric::Accuracy), Ok(expected("accuracy")));
	assert_eq!(score(Metric::TopKAccuracy(3)), Ok(expected("top3_accuracy")));
	let cross_entropy = score(Metric::MeanCrossEntropy).unwrap() as f64;
	let onnxruntime = expected("mean_cross_entropy") as f64;
	assert!(
		(cross_entropy - onnxruntime).abs() <= 1e-6 * onnxruntime,
		"{cross_entropy} vs {onnxruntime}"
	);
}

#[test]
fn a_fixed_size_intermediate_costs_one_smaller_batch_not_one_sample_at_a_time() {
	// 600 MB of values whatever the batch (1.2 GB with their sines): past the bound, the batch is made
	// smaller once (from 100 samples to about 44: 3 runs, under a second). Made smaller again and
	// again, it ended at one sample per batch: 100 runs, 53 s, past this limit.
	let model = read("fixed_intermediate.onnx");
	let golden = read("fixed_intermediate_golden.safetensors");
	let result = evaluate_sandboxed(
		&sandbox(Duration::from_secs(20)),
		&model,
		&golden,
		Metric::MeanSquaredError,
	)
	.expect("the sandbox runs");
	assert_eq!(result.map(|evaluation| evaluation.score), Ok(0));
}

#[test]
fn a_constant_of_10_gb_is_too_costly_whatever_the_machine() {
	// Without the sandbox, folding this constant takes 10 GB of this process's memory where it can.
	assert_too_costly(sandboxed("bomb_constant.onnx", Duration::from_secs(60)), "memory");
}

#[test]
fn a_tensor_of_16_gb_per_sample_is_too_costly_not_fatal() {
	assert_too_costly(sandboxed("bomb_expand.onnx", Duration::from_secs(60)), "memory");
}

#[test]
fn a_model_slower_than_the_time_limit_is_stopped_at_the_limit() {
	let started = Instant::now();
	assert_too_costly(sandboxed("bomb_compute.onnx", Duration::from_secs(2)), "2 s");
	let took = started.elapsed();
	assert!(took < Duration::from_secs(10), "stopped after {took:?}");
}

#[test]
fn an_endless_loop_is_stopped_at_the_time_limit_or_the_memory_cap() {
	// It stacks a scan output each iteration: whichever of the time and the memory it takes runs out
	// first stops it.
	let started = Instant::now();
	let result = sandboxed("bomb_loop.onnx", Duration::from_secs(2));
	assert!(
		matches!(&result, Err(EvalError::TooCostly(m)) if m.contains("2 s") || m.contains("memory")),
		"{result:?}"
	);
	let took = started.elapsed();
	assert!(took < Duration::from_secs(10), "stopped after {took:?}");
}

#[test]
fn a_missing_sandbox_is_the_validators_problem_not_a_verdict() {
	let mut broken = sandbox(Duration::from_secs(60));
	broken.program = "/nonexistent/evaluation-sandbox".into();
	let golden = read("digits_golden.safetensors");
	assert!(
		evaluate_sandboxed(&broken, &read("digits_mlp.onnx"), &golden, Metric::Accuracy).is_err()
	);

	// Through the service: no verdict, the poll stays pending (tried again later).
	let server = Server::start(fixtures());
	let dir = std::env::temp_dir().join(format!("modelchain-sandbox-test-{}", std::process::id()));
	let config = ServiceConfig {
		ipfs_gateway: None,
		cache_dir: dir.clone(),
		max_artifact_bytes: 64 << 20,
		fetch_timeout: Duration::from_secs(5),
		sandbox: Some(broken),
	};
	let request = request(&server, "digits_mlp.onnx");
	assert!(EvaluationService::evaluate_now(&config, &request).is_err());
	let service = EvaluationService::start(config).unwrap();
	let deadline = Instant::now() + Duration::from_secs(3);
	while Instant::now() < deadline {
		assert_eq!(service.poll(&request), EvaluationPoll::Pending);
		std::thread::sleep(Duration::from_millis(100));
	}
	let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_service_reports_an_exhausting_model_as_too_costly_and_goes_on() {
	let server = Server::start(fixtures());
	let dir =
		std::env::temp_dir().join(format!("modelchain-sandbox-service-{}", std::process::id()));
	let config = ServiceConfig {
		ipfs_gateway: None,
		cache_dir: dir.clone(),
		max_artifact_bytes: 64 << 20,
		fetch_timeout: Duration::from_secs(5),
		sandbox: Some(sandbox(Duration::from_secs(60))),
	};
	let bomb = request(&server, "bomb_constant.onnx");
	assert_eq!(
		EvaluationService::evaluate_now(&config, &bomb).unwrap(),
		Verdict::Invalid(ArtifactFault::TooCostly)
	);
	// The next model is scored as usual.
	let good = request(&server, "digits_mlp.onnx");
	assert!(matches!(
		EvaluationService::evaluate_now(&config, &good).unwrap(),
		Verdict::Scored(score) if score > 950_000_000
	));
	let _ = std::fs::remove_dir_all(dir);
}

fn request(server: &Server, model: &str) -> EvaluationRequest {
	let artifact = |name: &str, format| {
		let bytes = read(name);
		Artifact {
			uri: server.url(&format!("/files/{name}")).into_bytes().try_into().unwrap(),
			digest: sha256(&bytes),
			size: bytes.len() as u64,
			format,
		}
	};
	EvaluationRequest {
		model: artifact(model, ArtifactFormat::Onnx),
		golden: artifact("digits_golden.safetensors", ArtifactFormat::Safetensors),
		metric: Metric::Accuracy,
		check: ArtifactCheck::None,
	}
}
