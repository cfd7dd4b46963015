//! The node's scoring service: fetches artifacts, verifies them, evaluates them in a background thread,
//! and answers offchain workers through [`Evaluator::poll`] without ever blocking them.
//!
//! - **Fetching**: `http(s)://` URIs directly, `ipfs://<CID>[/path]` through the configured gateway
//!   (`<gateway>/ipfs/<CID>[/path]`). Redirects are followed (at most [`MAX_REDIRECTS`]). A download is
//!   bounded in size (never more than the artifact's recorded size, nor [`ServiceConfig::max_artifact_bytes`])
//!   and in time ([`ServiceConfig::fetch_timeout`]).
//! - **Cache**: a verified artifact is written to `<cache_dir>/<hex digest>`, so it is downloaded once
//!   whatever URI names it; a cached file is verified again when read.
//! - **Work**: one background thread evaluates one request at a time (evaluation is CPU-bound; block
//!   production must keep its cores). Requests wait in a bounded queue; a full queue makes `poll` answer
//!   `Pending` without queueing, so the request is queued on a later poll. The model itself runs in a
//!   child process with bounded memory and time ([`ServiceConfig::sandbox`], [`crate::sandbox`]); if the
//!   child cannot be started, the request is tried again after [`RETRY_AFTER`] and no verdict is given.
//! - **Results** are kept for [`RESULT_TTL`] (transient failures, such as a download that failed, only for
//!   [`RETRY_AFTER`], so a later poll tries again).

use std::{
	collections::{HashMap, VecDeque},
	path::PathBuf,
	sync::{mpsc, Arc, Mutex},
	time::{Duration, Instant},
};

use codec::Encode;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use modelchain_primitives::{
	host::Evaluator, Artifact, ArtifactCheck, ArtifactFault, EvaluationPoll, EvaluationRequest,
	Verdict,
};

use crate::{
	aggregate, evaluate,
	sandbox::{evaluate_sandboxed, Sandbox},
	verify_artifact, EvalError, GoldenSet,
};

/// Most redirects followed for one download.
pub const MAX_REDIRECTS: usize = 5;
/// Most requests waiting for the background worker.
pub const MAX_QUEUED: usize = 64;
/// Most results remembered.
pub const MAX_RESULTS: usize = 4096;
/// How long a result is remembered.
pub const RESULT_TTL: Duration = Duration::from_secs(6 * 3600);
/// How long a transient failure (fetch failed) is remembered before a poll retries it.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);

/// How the service fetches and where it caches.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
	/// Base URL of an IPFS HTTP gateway (e.g. `http://127.0.0.1:8080`); `ipfs://` artifacts are
	/// unavailable without one.
	pub ipfs_gateway: Option<String>,
	/// Where verified artifacts are kept, one file per digest.
	pub cache_dir: PathBuf,
	/// Largest artifact fetched, in bytes.
	pub max_artifact_bytes: u64,
	/// Longest time one download may take.
	pub fetch_timeout: Duration,
	/// The child process models are evaluated in ([`crate::sandbox`]); `None` evaluates in this process,
	/// whose memory a model can then exhaust (for tools and tests only).
	pub sandbox: Option<Sandbox>,
}

/// Why fetching an artifact failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchError {
	/// The server answered with this HTTP status.
	Status(u16),
	/// The download did not finish within the timeout.
	Timeout,
	/// The artifact is larger than this node fetches.
	TooLarge { limit: u64, actual: u64 },
	/// The server sent more bytes than the artifact's recorded size.
	Oversized { expected: u64 },
	/// The URI cannot be fetched (no IPFS gateway, bad URL, too many redirects).
	Unresolvable(String),
	/// The connection failed.
	Network(String),
	/// The bytes fetched are not the artifact.
	Mismatch(EvalError),
}

impl core::fmt::Display for FetchError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::Status(code) => write!(f, "HTTP status {code}"),
			Self::Timeout => write!(f, "timed out"),
			Self::TooLarge { limit, actual } => {
				write!(f, "too large: {actual} bytes, limit {limit}")
			},
			Self::Oversized { expected } => {
				write!(f, "server sent more than the {expected} bytes recorded")
			},
			Self::Unresolvable(e) => write!(f, "cannot fetch: {e}"),
			Self::Network(e) => write!(f, "network error: {e}"),
			Self::Mismatch(e) => write!(f, "{e}"),
		}
	}
}

impl FetchError {
	/// Whether trying again later may succeed.
	pub fn is_transient(&self) -> bool {
		matches!(self, Self::Status(_) | Self::Timeout | Self::Network(_) | Self::Unresolvable(_))
	}
}

type RequestKey = [u8; 32];

enum Entry {
	/// Queued or being evaluated.
	Pending,
	/// Finished; forgotten after `expires`.
	Done { verdict: Verdict, expires: Instant },
	/// This node could not evaluate it (its sandbox failed); tried again after `expires`.
	Retry { expires: Instant },
}

struct Shared {
	entries: Mutex<(HashMap<RequestKey, Entry>, VecDeque<RequestKey>)>,
	queue: mpsc::SyncSender<(RequestKey, EvaluationRequest)>,
}

/// The scoring service; cheap to clone, all clones share one worker.
#[derive(Clone)]
pub struct EvaluationService {
	shared: Arc<Shared>,
}

impl EvaluationService {
	/// Starts the background worker thread.
	pub fn start(config: ServiceConfig) -> std::io::Result<Self> {
		let fetcher = Fetcher::new(config)?;
		let (queue, jobs) = mpsc::sync_channel(MAX_QUEUED);
		let shared =
			Arc::new(Shared { entries: Mutex::new((HashMap::new(), VecDeque::new())), queue });
		let weak = Arc::downgrade(&shared);
		std::thread::Builder::new().name("mdl-evaluation".into()).spawn(move || {
			// Ends when every `EvaluationService` is dropped (the channel closes).
			for (key, request) in jobs {
				let result = fetcher.run(&request);
				let Some(shared) = weak.upgrade() else { return };
				let entry = match result {
					Some((verdict, transient)) => {
						let ttl = if transient { RETRY_AFTER } else { RESULT_TTL };
						Entry::Done { verdict, expires: Instant::now() + ttl }
					},
					None => Entry::Retry { expires: Instant::now() + RETRY_AFTER },
				};
				let mut entries = shared.entries.lock().unwrap_or_else(|e| e.into_inner());
				entries.0.insert(key, entry);
			}
		})?;
		Ok(Self { shared })
	}

	/// Fetches and evaluates `request` now, on the calling thread (for tools and tests).
	pub fn evaluate_now(
		config: &ServiceConfig,
		request: &EvaluationRequest,
	) -> std::io::Result<Verdict> {
		Fetcher::new(config.clone())?
			.run(request)
			.map(|(verdict, _)| verdict)
			.ok_or_else(|| std::io::Error::other("the evaluation sandbox failed (see the log)"))
	}
}

impl Evaluator for EvaluationService {
	fn poll(&self, request: &EvaluationRequest) -> EvaluationPoll {
		let key = crate::sha256(&request.encode());
		let mut guard = self.shared.entries.lock().unwrap_or_else(|e| e.into_inner());
		let (entries, order) = &mut *guard;
		let now = Instant::now();
		match entries.get(&key) {
			Some(Entry::Pending) => return EvaluationPoll::Pending,
			Some(Entry::Retry { expires }) if *expires > now => return EvaluationPoll::Pending,
			Some(Entry::Done { verdict, expires }) if *expires > now => {
				return EvaluationPoll::Done(*verdict)
			},
			_ => {},
		}
		// Not known, or expired: queue it, forgetting the oldest results beyond the bound.
		if self.shared.queue.try_send((key, request.clone())).is_err() {
			return EvaluationPoll::Pending;
		}
		if entries.insert(key, Entry::Pending).is_none() {
			order.push_back(key);
		}
		while order.len() > MAX_RESULTS {
			let Some(oldest) = order.pop_front() else { break };
			if matches!(entries.get(&oldest), Some(Entry::Pending)) {
				order.push_back(oldest);
				break;
			}
			entries.remove(&oldest);
		}
		EvaluationPoll::Pending
	}
}

type HttpClient = Client<
	hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
	Empty<Bytes>,
>;

/// Downloads, verifies, caches and evaluates; lives on the worker thread.
struct Fetcher {
	config: ServiceConfig,
	runtime: tokio::runtime::Runtime,
	client: HttpClient,
}

impl Fetcher {
	fn new(config: ServiceConfig) -> std::io::Result<Self> {
		std::fs::create_dir_all(&config.cache_dir)?;
		let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
		let provider = rustls::crypto::ring::default_provider();
		let builder = match hyper_rustls::HttpsConnectorBuilder::new()
			.with_provider_and_native_roots(provider.clone())
		{
			Ok(builder) => builder,
			Err(e) => {
				// No system certificates: plain `http://` still works, `https://` fails per request.
				log::warn!(target: "scoring", "no native TLS roots ({e}); https artifacts will fail");
				let tls = rustls::ClientConfig::builder_with_provider(provider.into())
					.with_safe_default_protocol_versions()
					.map_err(std::io::Error::other)?
					.with_root_certificates(rustls::RootCertStore::empty())
					.with_no_client_auth();
				hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls)
			},
		};
		let connector = builder.https_or_http().enable_http1().build();
		let client = {
			let _guard = runtime.enter();
			// No idle connections: the runtime only runs while a fetch is awaited, so a pooled
			// connection the server closed meanwhile (keep-alive timeouts are a few seconds) would only
			// show as a failed next fetch. Artifacts are large; a fresh connection costs nothing.
			Client::builder(TokioExecutor::new()).pool_max_idle_per_host(0).build(connector)
		};
		Ok(Self { config, runtime, client })
	}

	/// The verdict on `request`, and whether it is a transient failure worth retrying later; `None` when
	/// this node could not evaluate it (its sandbox failed), which says nothing about the model.
	fn run(&self, request: &EvaluationRequest) -> Option<(Verdict, bool)> {
		let started = Instant::now();
		let golden_bytes = match self.artifact(&request.golden) {
			Ok(bytes) => bytes,
			Err(e) => {
				log::warn!(target: "scoring", "golden dataset {}: {e}", uri(&request.golden));
				return Some((
					Verdict::Invalid(ArtifactFault::GoldenSetUnusable),
					e.is_transient(),
				));
			},
		};
		// Parsed here too (the sandbox parses it again): an unusable golden set is nobody's fault, and
		// must be found before the model is fetched, whose failure would be blamed on its submitter.
		let golden = match guarded(|| GoldenSet::from_safetensors(&golden_bytes)) {
			Ok(golden) => golden,
			Err(e) => {
				log::warn!(target: "scoring", "golden dataset {}: {e}", uri(&request.golden));
				return Some((Verdict::Invalid(ArtifactFault::GoldenSetUnusable), false));
			},
		};
		let model = match self.artifact(&request.model) {
			Ok(bytes) => bytes,
			Err(e) => {
				log::info!(target: "scoring", "model {}: {e}", uri(&request.model));
				let fault = match e {
					FetchError::Mismatch(_) | FetchError::Oversized { .. } => {
						ArtifactFault::DigestMismatch
					},
					_ => ArtifactFault::Unavailable,
				};
				return Some((Verdict::Invalid(fault), e.is_transient()));
			},
		};
		if let Err((fault, transient)) = self.check(&request.check, &model) {
			return Some((Verdict::Invalid(fault), transient));
		}
		let outcome = match &self.config.sandbox {
			Some(sandbox) => {
				match evaluate_sandboxed(sandbox, &model, &golden_bytes, request.metric) {
					Ok(outcome) => outcome,
					Err(e) => {
						log::error!(target: "scoring", "model {}: {e}", uri(&request.model));
						return None;
					},
				}
			},
			None => guarded(|| evaluate(&model, &golden, request.metric)),
		};
		let verdict = match outcome {
			Ok(evaluation) => Verdict::Scored(evaluation.score),
			Err(e) => {
				log::info!(target: "scoring", "model {}: {e}", uri(&request.model));
				Verdict::Invalid(fault_of(&e))
			},
		};
		log::info!(
			target: "scoring",
			"evaluated {} on {} samples in {:?}: {verdict:?}",
			uri(&request.model),
			golden.samples(),
			started.elapsed(),
		);
		Some((verdict, false))
	}

	/// Runs the request's check of the model (same graph as a base, or the aggregate of parts). On
	/// failure: the fault, and whether it may be transient (a reference could not be fetched).
	fn check(&self, check: &ArtifactCheck, model: &[u8]) -> Result<(), (ArtifactFault, bool)> {
		let reference = |artifact: &Artifact| {
			self.artifact(artifact).map_err(|e| {
				log::warn!(target: "scoring", "reference {}: {e}", uri(artifact));
				(ArtifactFault::ReferenceUnusable, e.is_transient())
			})
		};
		let outcome = match check {
			ArtifactCheck::None => return Ok(()),
			ArtifactCheck::SameGraphAs(base) => {
				let base = reference(base)?;
				guarded(|| aggregate::check_same_graph(&base, model))
			},
			ArtifactCheck::AggregateOf { base, rule, parts } => {
				let base = reference(base)?;
				let bytes = parts
					.iter()
					.map(|part| reference(&part.artifact))
					.collect::<Result<Vec<_>, _>>()?;
				let weighted: Vec<(&[u8], u64)> =
					bytes.iter().zip(parts.iter()).map(|(b, p)| (b.as_slice(), p.weight)).collect();
				guarded(|| aggregate::check_aggregate(&base, &weighted, *rule, model))
			},
		};
		outcome.map_err(|e| {
			log::info!(target: "scoring", "check failed: {e}");
			(fault_of(&e), false)
		})
	}

	/// The artifact's bytes, verified, from the cache or downloaded.
	fn artifact(&self, artifact: &Artifact) -> Result<Vec<u8>, FetchError> {
		let limit = self.config.max_artifact_bytes;
		if artifact.size > limit {
			return Err(FetchError::TooLarge { limit, actual: artifact.size });
		}
		let cached = self.config.cache_dir.join(crate::hex(&artifact.digest));
		if let Ok(bytes) = std::fs::read(&cached) {
			if verify_artifact(&bytes, &artifact.digest, artifact.size).is_ok() {
				return Ok(bytes);
			}
			let _ = std::fs::remove_file(&cached);
		}
		let url = self.resolve(&artifact.uri)?;
		let bytes = self.runtime.block_on(async {
			tokio::time::timeout(self.config.fetch_timeout, self.download(url, artifact.size))
				.await
				.map_err(|_| FetchError::Timeout)?
		})?;
		verify_artifact(&bytes, &artifact.digest, artifact.size).map_err(FetchError::Mismatch)?;
		// Write then rename, so a crash never leaves a partial file under the digest's name.
		let partial = cached.with_extension("partial");
		if std::fs::write(&partial, &bytes)
			.and_then(|_| std::fs::rename(&partial, &cached))
			.is_err()
		{
			log::warn!(target: "scoring", "cannot cache {}", cached.display());
		}
		Ok(bytes)
	}

	/// The HTTP URL to fetch an artifact URI from.
	fn resolve(&self, uri: &[u8]) -> Result<String, FetchError> {
		let uri =
			core::str::from_utf8(uri).map_err(|_| FetchError::Unresolvable("not UTF-8".into()))?;
		if let Some(path) = uri.strip_prefix("ipfs://") {
			let gateway = self.config.ipfs_gateway.as_deref().ok_or_else(|| {
				FetchError::Unresolvable("no IPFS gateway configured (--ipfs-gateway)".into())
			})?;
			return Ok(format!("{}/ipfs/{path}", gateway.trim_end_matches('/')));
		}
		if uri.starts_with("http://") || uri.starts_with("https://") {
			return Ok(uri.to_string());
		}
		Err(FetchError::Unresolvable(format!("unsupported scheme in {uri}")))
	}

	/// Downloads `url`, refusing more than `expected` bytes.
	async fn download(&self, mut url: String, expected: u64) -> Result<Vec<u8>, FetchError> {
		for _ in 0..=MAX_REDIRECTS {
			let request = hyper::Request::get(url.as_str())
				.header(hyper::header::USER_AGENT, "modelchain-node")
				.body(Empty::<Bytes>::new())
				.map_err(|e| FetchError::Unresolvable(e.to_string()))?;
			let response = self
				.client
				.request(request)
				.await
				.map_err(|e| FetchError::Network(e.to_string()))?;
			let status = response.status();
			if status.is_redirection() {
				let location = response
					.headers()
					.get(hyper::header::LOCATION)
					.and_then(|l| l.to_str().ok())
					.ok_or(FetchError::Status(status.as_u16()))?;
				url = redirect_target(&url, location)?;
				continue;
			}
			if status != hyper::StatusCode::OK {
				return Err(FetchError::Status(status.as_u16()));
			}
			let mut body = response.into_body();
			let mut bytes = Vec::with_capacity(expected.min(64 << 20) as usize);
			while let Some(frame) = body.frame().await {
				let frame = frame.map_err(|e| FetchError::Network(e.to_string()))?;
				if let Some(chunk) = frame.data_ref() {
					if (bytes.len() + chunk.len()) as u64 > expected {
						return Err(FetchError::Oversized { expected });
					}
					bytes.extend_from_slice(chunk);
				}
			}
			return Ok(bytes);
		}
		Err(FetchError::Unresolvable(format!("more than {MAX_REDIRECTS} redirects")))
	}
}

/// Where a redirect from `from` to `location` (absolute, or a path on the same host) leads.
fn redirect_target(from: &str, location: &str) -> Result<String, FetchError> {
	if location.starts_with("http://") || location.starts_with("https://") {
		return Ok(location.to_string());
	}
	if location.starts_with('/') {
		let scheme_end = from.find("://").map(|i| i + 3).unwrap_or(0);
		let host_end = from[scheme_end..].find('/').map(|i| scheme_end + i).unwrap_or(from.len());
		return Ok(format!("{}{location}", &from[..host_end]));
	}
	Err(FetchError::Unresolvable(format!("unsupported redirect to {location}")))
}

/// Runs a parse or an evaluation of untrusted bytes so that a panic in a dependency (tract, safetensors)
/// on some malformed input becomes an error instead of ending the worker thread, which would leave every
/// later request pending forever.
pub(crate) fn guarded<T>(work: impl FnOnce() -> Result<T, EvalError>) -> Result<T, EvalError> {
	std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|panic| {
		let what = crate::panic_message(&*panic).unwrap_or_else(|| "unknown panic".into());
		if crate::is_allocation_failure(&what) {
			return Err(EvalError::TooCostly(format!(
				"needs more memory than it may allocate ({what})"
			)));
		}
		Err(EvalError::MalformedModel(format!("the engine panicked: {what}")))
	})
}

/// The fault a validator reports for an evaluation error.
pub fn fault_of(error: &EvalError) -> ArtifactFault {
	match error {
		EvalError::DigestMismatch { .. } | EvalError::SizeMismatch { .. } => {
			ArtifactFault::DigestMismatch
		},
		EvalError::TooLarge { .. } => ArtifactFault::Unavailable,
		EvalError::MalformedModel(_) | EvalError::UnsupportedOperator(_) => {
			ArtifactFault::InvalidModel
		},
		EvalError::ShapeMismatch(_) => ArtifactFault::ShapeMismatch,
		EvalError::NonFiniteOutput => ArtifactFault::NonFiniteOutput,
		EvalError::BadDataset(_) | EvalError::BadMetric(_) => ArtifactFault::GoldenSetUnusable,
		EvalError::ArchitectureMismatch(_) => ArtifactFault::ArchitectureMismatch,
		EvalError::AggregateMismatch(_) => ArtifactFault::AggregateMismatch,
		EvalError::BadReference(_) => ArtifactFault::ReferenceUnusable,
		EvalError::TooCostly(_) => ArtifactFault::TooCostly,
	}
}

fn uri(artifact: &Artifact) -> String {
	String::from_utf8_lossy(&artifact.uri).into_owned()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_panic_while_evaluating_is_an_error_not_a_dead_worker() {
		let result: Result<(), EvalError> = guarded(|| panic!("index out of bounds"));
		match result {
			Err(EvalError::MalformedModel(why)) => {
				assert!(why.contains("index out of bounds"), "{why}")
			},
			other => panic!("expected a malformed-model error, got {other:?}"),
		}
		assert_eq!(guarded(|| Ok(7)), Ok(7));
	}

	#[test]
	fn redirects_resolve_against_the_original_host() {
		assert_eq!(
			redirect_target("http://127.0.0.1:8080/ipfs/bafy/model.onnx", "/ipfs/bafy2").unwrap(),
			"http://127.0.0.1:8080/ipfs/bafy2"
		);
		assert_eq!(
			redirect_target("https://a.example/x", "https://b.example/y").unwrap(),
			"https://b.example/y"
		);
		assert!(redirect_target("https://a.example/x", "relative/path").is_err());
	}
}
