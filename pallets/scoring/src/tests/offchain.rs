//! The offchain worker with the node's real evaluator (`modelchain-evaluation`'s service) registered as
//! the externalities extension, a loopback HTTP server serving the fixtures, the test transaction pool
//! and a memory keystore.

use super::*;
use crate::offchain::{local_key, LocalScore};
use codec::Decode;
use modelchain_evaluation::{
	service::{EvaluationService, ServiceConfig},
	sha256,
	testing::FixtureServer,
};
use modelchain_primitives::{
	host::EvaluatorExt, Artifact, ArtifactCheck, ArtifactFault, ArtifactFormat, JobOutcome,
	JobSpec, JobSubject, Metric,
};
use std::{
	path::PathBuf,
	sync::Arc,
	time::{Duration, Instant},
};

fn fixtures() -> PathBuf {
	let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fixtures/out");
	assert!(dir.join("reference.json").is_file(), "fixtures missing: run scripts/setup.sh");
	dir
}

fn reference_ppb(model: &str, metric: &str) -> u64 {
	let json: serde_json::Value =
		serde_json::from_slice(&std::fs::read(fixtures().join("reference.json")).unwrap()).unwrap();
	json[model][metric]["ppb"].as_u64().unwrap()
}

/// The artifact of fixture `file` as served at `path`.
fn served(server: &FixtureServer, path: &str, file: &str, format: ArtifactFormat) -> Artifact {
	let bytes = std::fs::read(fixtures().join(file)).unwrap();
	Artifact {
		uri: server.url(path).into_bytes().try_into().unwrap(),
		digest: sha256(&bytes),
		size: bytes.len() as u64,
		format,
	}
}

fn digits_job(server: &FixtureServer, model_path: &str, model_file: &str) -> JobSpec {
	JobSpec {
		subject: JobSubject::Version(1),
		model: served(server, model_path, model_file, ArtifactFormat::Onnx),
		golden: served(
			server,
			"/files/digits_golden.safetensors",
			"digits_golden.safetensors",
			ArtifactFormat::Safetensors,
		),
		metric: Metric::Accuracy,
		check: ArtifactCheck::None,
	}
}

/// Externalities with the node's evaluator registered; the cache lives as long as the returned guard.
fn build_with_evaluator() -> (sp_io::TestExternalities, OffchainState, CacheDir) {
	let (mut ext, state) = ExtBuilder::build();
	let cache = CacheDir::new();
	let service = EvaluationService::start(ServiceConfig {
		ipfs_gateway: None,
		cache_dir: cache.0.clone(),
		max_artifact_bytes: 64 << 20,
		fetch_timeout: Duration::from_secs(10),
		// In process: the fixtures here are ordinary models, and the sandbox's child program is the node's
		// (the engine's own tests run models in the sandbox).
		sandbox: None,
	})
	.unwrap();
	ext.register_extension(EvaluatorExt(Arc::new(service)));
	(ext, state, cache)
}

struct CacheDir(PathBuf);
impl CacheDir {
	fn new() -> Self {
		use std::sync::atomic::{AtomicUsize, Ordering};
		static NEXT: AtomicUsize = AtomicUsize::new(0);
		let dir = std::env::temp_dir().join(format!(
			"modelchain-scoring-ocw-{}-{}",
			std::process::id(),
			NEXT.fetch_add(1, Ordering::SeqCst)
		));
		Self(dir)
	}
}
impl Drop for CacheDir {
	fn drop(&mut self) {
		let _ = std::fs::remove_dir_all(&self.0);
	}
}

/// Takes the transactions the worker submitted, as scoring calls.
fn take_pool(state: &OffchainState) -> Vec<Call<Test>> {
	std::mem::take(&mut state.pool.write().transactions)
		.into_iter()
		.map(|bytes| {
			let xt = Extrinsic::decode(&mut &bytes[..]).expect("a transaction of this runtime");
			assert!(
				matches!(xt.preamble, sp_runtime::generic::Preamble::General(..)),
				"scoring transactions are general transactions, not signed ones"
			);
			match xt.function {
				RuntimeCall::Scoring(call) => call,
				other => panic!("unexpected call {other:?}"),
			}
		})
		.collect()
}

/// Runs the worker at the current block until it submits something (the evaluation runs in the
/// background: early runs find it pending). Fails after 60 s.
fn run_worker_until_submitted(state: &OffchainState) -> Vec<Call<Test>> {
	let deadline = Instant::now() + Duration::from_secs(60);
	loop {
		Scoring::offchain_worker(System::block_number());
		let calls = take_pool(state);
		if !calls.is_empty() {
			return calls;
		}
		assert!(Instant::now() < deadline, "the worker submitted nothing within 60 s");
		std::thread::sleep(Duration::from_millis(20));
	}
}

/// Lets the worker commit, then reveal, submitting what it sends; returns the revealed calls after the job
/// concluded.
fn score_through_the_worker(state: &OffchainState, job: JobId) -> Vec<Call<Test>> {
	let commits = run_worker_until_submitted(state);
	assert!(matches!(commits.as_slice(), [Call::commit_score { job: j, .. }] if *j == job));
	for call in commits {
		assert_ok!(submit(call));
	}
	run_to(reveal_start(job));
	let reveals = run_worker_until_submitted(state);
	for call in reveals.iter().cloned() {
		assert_ok!(submit(call));
	}
	run_to(conclusion(job));
	reveals
}

/// Registers Alice as the only scorer and creates a digits job whose model is served at `model_path`
/// and pinned to fixture `model_file`.
fn digits_job_with_scorer(server: &FixtureServer, model_path: &str, model_file: &str) -> JobId {
	register(ALICE);
	<Scoring as ScoreJobs>::create_job(digits_job(server, model_path, model_file)).unwrap()
}

#[test]
fn the_worker_scores_commits_and_reveals_what_onnxruntime_computes() {
	let server = FixtureServer::start(fixtures());
	let (mut ext, state, _cache) = build_with_evaluator();
	ext.execute_with(|| {
		let job = digits_job_with_scorer(&server, "/files/digits_mlp.onnx", "digits_mlp.onnx");
		let reveals = score_through_the_worker(&state, job);
		let expected = reference_ppb("digits_mlp", "accuracy");
		assert!(matches!(
			reveals.as_slice(),
			[Call::reveal_score { verdict: Verdict::Scored(score), .. }] if *score == expected
		));
		assert_eq!(concluded(), vec![(job, JobSubject::Version(1), JobOutcome::Scored(expected))]);
		Scoring::do_try_state().unwrap();
	});
}

#[test]
fn a_file_that_does_not_match_its_digest_is_reported_invalid() {
	let server = FixtureServer::start(fixtures());
	let (mut ext, state, _cache) = build_with_evaluator();
	ext.execute_with(|| {
		// Served: the poisoned model. Recorded: the honest model's digest.
		let job =
			digits_job_with_scorer(&server, "/files/digits_mlp_poisoned.onnx", "digits_mlp.onnx");
		score_through_the_worker(&state, job);
		assert_eq!(concluded()[0].2, JobOutcome::Invalid(ArtifactFault::DigestMismatch));
	});
}

#[test]
fn the_verdict_and_salt_are_kept_so_a_job_is_evaluated_once() {
	let server = FixtureServer::start(fixtures());
	let (mut ext, state, _cache) = build_with_evaluator();
	ext.execute_with(|| {
		let job = digits_job_with_scorer(&server, "/files/digits_mlp.onnx", "digits_mlp.onnx");
		let key = Scorers::<Test>::get(ALICE).unwrap().key;
		let first = run_worker_until_submitted(&state);
		let stored =
			sp_runtime::offchain::storage::StorageValueRef::persistent(&local_key(&key, job))
				.get::<LocalScore<u64>>()
				.unwrap()
				.expect("the verdict and salt are kept");
		assert_eq!(stored.committed_at, Some(1));
		// Not included yet: the next runs do not submit again right away…
		let hits = server.hits.load(std::sync::atomic::Ordering::SeqCst);
		run_to(2);
		Scoring::offchain_worker(2);
		assert!(take_pool(&state).is_empty());
		// …then submit the same commitment again, without evaluating again.
		run_to(4);
		Scoring::offchain_worker(4);
		let again = take_pool(&state);
		let commitment_of = |calls: &[Call<Test>]| match calls {
			[Call::commit_score { commitment, .. }] => *commitment,
			other => panic!("expected one commit, got {other:?}"),
		};
		assert_eq!(commitment_of(&again), commitment_of(&first));
		assert_eq!(server.hits.load(std::sync::atomic::Ordering::SeqCst), hits);
	});
}

#[test]
fn a_node_without_an_evaluator_or_a_registered_key_submits_nothing() {
	let (mut ext, state) = ExtBuilder::build();
	ext.execute_with(|| {
		let job = create_job(1);
		// A key in the keystore that is not registered on chain.
		let _unregistered = new_key();
		Scoring::offchain_worker(1);
		assert!(take_pool(&state).is_empty());
		// Registered, but the node runs no evaluator.
		register(ALICE);
		Scoring::offchain_worker(1);
		assert!(take_pool(&state).is_empty());
		assert!(Participations::<Test>::iter_prefix(job).next().is_none());
	});
}

#[test]
fn an_unavailable_artifact_is_only_reported_late_in_the_commit_window() {
	use modelchain_primitives::{host::model_evaluation, EvaluationPoll, EvaluationRequest};
	let server = FixtureServer::start(fixtures());
	let (mut ext, state, _cache) = build_with_evaluator();
	ext.execute_with(|| {
		register(ALICE);
		let mut spec = digits_job(&server, "/files/digits_mlp.onnx", "digits_mlp.onnx");
		spec.model.uri = server.url("/status/503").into_bytes().try_into().unwrap();
		let request = EvaluationRequest {
			model: spec.model.clone(),
			golden: spec.golden.clone(),
			metric: spec.metric,
			check: spec.check.clone(),
		};
		let job = <Scoring as ScoreJobs>::create_job(spec).unwrap();
		// The node's verdict is ready: the file is unavailable…
		let deadline = Instant::now() + Duration::from_secs(60);
		loop {
			match model_evaluation::poll(request.clone()) {
				EvaluationPoll::Done(verdict) => {
					assert_eq!(verdict, Verdict::Invalid(ArtifactFault::Unavailable));
					break;
				},
				EvaluationPoll::Pending => assert!(Instant::now() < deadline),
				EvaluationPoll::Unsupported => panic!("the evaluator is registered"),
			}
			std::thread::sleep(Duration::from_millis(20));
		}
		// …but early in the window the worker does not report it: it may become available.
		Scoring::offchain_worker(1);
		assert!(take_pool(&state).is_empty(), "committed Unavailable too early");
		// In the last third of the window it does.
		run_to(Jobs::<Test>::get(job).unwrap().commit_end);
		let reveals = score_through_the_worker(&state, job);
		assert!(matches!(
			reveals.as_slice(),
			[Call::reveal_score { verdict: Verdict::Invalid(ArtifactFault::Unavailable), .. }]
		));
		assert_eq!(concluded()[0].2, JobOutcome::Invalid(ArtifactFault::Unavailable));
	});
}
