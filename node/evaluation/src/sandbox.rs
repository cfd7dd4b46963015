//! Runs an evaluation in a child process, so that a model built to exhaust a validator cannot take the
//! node down with it.
//!
//! A model file is small, but what the engine makes of it need not be: constant folding of a
//! `ConstantOfShape` or `Expand` with a huge shape, or an intermediate tensor of billions of values,
//! allocates gigabytes while the model is analysed or run. In the node's own process, what happens then
//! depends on the machine: an allocation larger than the machine's memory fails (tract panics, a `Vec`
//! aborts the process), one that fits in virtual memory but not in RAM gets the node killed by the
//! kernel's out-of-memory killer, and validators with different machines disagree on the model, or all
//! stop at once. So the node evaluates each model in a child process (its own executable, with the
//! hidden `evaluate-sandboxed` subcommand) that:
//!
//! - receives the model, the golden dataset and the metric on its standard input (SCALE-encoded) and
//!   answers the evaluation on its standard output;
//! - limits its own address space, once the input is read, to what it then maps plus
//!   [`memory_budget`] (`RLIMIT_AS`): a model that needs more makes an allocation fail, whatever the
//!   machine's memory, and the child report it (tract's allocations panic, which the engine catches) or
//!   abort (other allocations), both [`EvalError::TooCostly`];
//! - limits its own CPU time (`RLIMIT_CPU`) to the time limit, and is killed by the parent when the
//!   time limit is over, also [`EvalError::TooCostly`];
//! - crashes of any other kind (a stack overflow in a deeply nested graph, a panic outside the engine's
//!   guard) are reported as a malformed model.
//!
//! The memory budget depends only on the input's size, so every validator draws the line at the same
//! model. The time limit is the validator's (`--evaluation-timeout`): a slower machine gives up sooner, and
//! a validator that cannot evaluate a model within the commit window could not have committed its score
//! anyway.

use std::{
	io::{Read, Write},
	path::PathBuf,
	process::{Command, ExitStatus, Stdio},
	time::{Duration, Instant},
};

use codec::{Decode, Encode};

use crate::{evaluate, EvalError, Evaluation, GoldenSet, Metric};

/// Memory the evaluation of one model may use beyond its inputs: a fixed allowance, plus four times the
/// model and golden dataset (tract keeps a parsed and an optimised copy of the weights, and the golden
/// inputs are converted once).
pub fn memory_budget(model_bytes: u64, golden_bytes: u64) -> u64 {
	const BASE: u64 = 2 << 30;
	BASE.saturating_add(model_bytes.saturating_add(golden_bytes).saturating_mul(4))
}

/// How the parent starts a sandboxed evaluation.
#[derive(Clone, Debug)]
pub struct Sandbox {
	/// The executable to run; it must call [`child_main`] when given `args`.
	pub program: PathBuf,
	/// Its arguments.
	pub args: Vec<String>,
	/// Longest one evaluation may take, wall clock.
	pub time_limit: Duration,
}

impl Sandbox {
	/// The running executable with `args`: on Linux `/proc/self/exe`, which still names this node's
	/// binary if the file was replaced by an upgrade while the node runs.
	pub fn this_executable(args: &[&str], time_limit: Duration) -> std::io::Result<Self> {
		let proc_self = PathBuf::from("/proc/self/exe");
		let program = if proc_self.exists() { proc_self } else { std::env::current_exe()? };
		Ok(Self { program, args: args.iter().map(|a| a.to_string()).collect(), time_limit })
	}
}

/// Why the sandbox could not give an answer on the model: the validator's problem, not the model's.
#[derive(Debug)]
pub struct SandboxUnavailable(pub String);

impl core::fmt::Display for SandboxUnavailable {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		write!(f, "the evaluation sandbox failed: {}", self.0)
	}
}

/// The child's input, encoded from borrowed bytes: SCALE encodes a slice as it does a `Vec`, so this
/// decodes as [`Input`] without the parent copying the model and golden set first.
fn encode_input(metric: Metric, cpu_seconds: u64, model: &[u8], golden: &[u8]) -> Vec<u8> {
	(metric, cpu_seconds, model, golden).encode()
}

#[derive(Encode, Decode)]
struct Input {
	metric: Metric,
	cpu_seconds: u64,
	model: Vec<u8>,
	golden: Vec<u8>,
}

#[derive(Encode, Decode, Debug, PartialEq, Eq)]
enum ErrorKind {
	MalformedModel,
	UnsupportedOperator,
	ShapeMismatch,
	BadDataset,
	BadMetric,
	NonFiniteOutput,
	TooCostly,
}

#[derive(Encode, Decode, Debug, PartialEq, Eq)]
enum Outcome {
	Scored { score: u64, samples: u64 },
	Failed { kind: ErrorKind, message: String },
}

impl From<Result<Evaluation, EvalError>> for Outcome {
	fn from(result: Result<Evaluation, EvalError>) -> Self {
		let error = match result {
			Ok(Evaluation { score, samples }) => return Self::Scored { score, samples },
			Err(e) => e,
		};
		let (kind, message) = match error {
			EvalError::MalformedModel(m) => (ErrorKind::MalformedModel, m),
			EvalError::UnsupportedOperator(m) => (ErrorKind::UnsupportedOperator, m),
			EvalError::ShapeMismatch(m) => (ErrorKind::ShapeMismatch, m),
			EvalError::BadDataset(m) => (ErrorKind::BadDataset, m),
			EvalError::BadMetric(m) => (ErrorKind::BadMetric, m),
			EvalError::NonFiniteOutput => (ErrorKind::NonFiniteOutput, String::new()),
			EvalError::TooCostly(m) => (ErrorKind::TooCostly, m),
			// Not produced by an evaluation of bytes already verified; kept as the model's fault.
			other => (ErrorKind::MalformedModel, other.to_string()),
		};
		Self::Failed { kind, message }
	}
}

impl From<Outcome> for Result<Evaluation, EvalError> {
	fn from(outcome: Outcome) -> Self {
		let (kind, m) = match outcome {
			Outcome::Scored { score, samples } => return Ok(Evaluation { score, samples }),
			Outcome::Failed { kind, message } => (kind, message),
		};
		Err(match kind {
			ErrorKind::MalformedModel => EvalError::MalformedModel(m),
			ErrorKind::UnsupportedOperator => EvalError::UnsupportedOperator(m),
			ErrorKind::ShapeMismatch => EvalError::ShapeMismatch(m),
			ErrorKind::BadDataset => EvalError::BadDataset(m),
			ErrorKind::BadMetric => EvalError::BadMetric(m),
			ErrorKind::NonFiniteOutput => EvalError::NonFiniteOutput,
			ErrorKind::TooCostly => EvalError::TooCostly(m),
		})
	}
}

/// Evaluates `model` on the golden dataset `golden` (the safetensors bytes) in a child process (see the
/// module docs). `Err(SandboxUnavailable)` when the child could not be run or answered nonsense; otherwise
/// the evaluation's outcome, with exhausted limits and crashes as errors of the model.
pub fn evaluate_sandboxed(
	sandbox: &Sandbox,
	model: &[u8],
	golden: &[u8],
	metric: Metric,
) -> Result<Result<Evaluation, EvalError>, SandboxUnavailable> {
	let unavailable = |what: &str, e: std::io::Error| SandboxUnavailable(format!("{what}: {e}"));
	let started = Instant::now();
	let mut child = Command::new(&sandbox.program)
		.args(&sandbox.args)
		.stdin(Stdio::piped())
		.stdout(Stdio::piped())
		.stderr(Stdio::piped())
		.spawn()
		.map_err(|e| unavailable(&format!("cannot start {}", sandbox.program.display()), e))?;
	let input = encode_input(metric, sandbox.time_limit.as_secs().saturating_add(1), model, golden);
	// Written, and the outputs read, on threads of their own: a child that stops reading or writes a lot
	// must not block the parent past the time limit.
	let stdin = child.stdin.take();
	let writer = std::thread::spawn(move || {
		if let Some(mut stdin) = stdin {
			// A child that exits early closes the pipe: its exit status says why.
			let _ = stdin.write_all(&input);
		}
	});
	let stdout = read_all_on_thread(child.stdout.take(), usize::MAX);
	let stderr = read_all_on_thread(child.stderr.take(), 4096);

	let deadline = started + sandbox.time_limit;
	let status = loop {
		match child.try_wait().map_err(|e| unavailable("cannot wait for the child", e))? {
			Some(status) => break Some(status),
			None if Instant::now() >= deadline => {
				let _ = child.kill();
				let _ = child.wait();
				break None;
			},
			None => std::thread::sleep(Duration::from_millis(5)),
		}
	};
	let _ = writer.join();
	let stdout = stdout.join().unwrap_or_default();
	let stderr = String::from_utf8_lossy(&stderr.join().unwrap_or_default()).into_owned();
	let Some(status) = status else {
		return Ok(Err(EvalError::TooCostly(format!(
			"took longer than the {} s time limit",
			sandbox.time_limit.as_secs_f64()
		))));
	};
	if status.success() {
		return Outcome::decode(&mut &stdout[..]).map(Into::into).map_err(|e| {
			SandboxUnavailable(format!("unreadable answer ({e}); stderr: {}", stderr.trim()))
		});
	}
	Ok(Err(crash(status, &stderr, sandbox.time_limit)))
}

/// What a child that did not exit normally says about the model.
fn crash(status: ExitStatus, stderr: &str, time_limit: Duration) -> EvalError {
	use std::os::unix::process::ExitStatusExt;
	if stderr.contains("memory allocation of") || stderr.contains("out of memory") {
		return EvalError::TooCostly("needs more memory than the evaluation sandbox grants".into());
	}
	if status.signal() == Some(libc::SIGXCPU) {
		return EvalError::TooCostly(format!(
			"used more than the {} s of CPU time allowed",
			time_limit.as_secs_f64()
		));
	}
	if status.signal() == Some(libc::SIGKILL) {
		// The CPU limit's hard end, or the kernel's out-of-memory killer.
		return EvalError::TooCostly("killed: out of CPU time or memory".into());
	}
	let last_line = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
	EvalError::MalformedModel(format!("the evaluation crashed ({status}): {last_line}"))
}

fn read_all_on_thread(
	source: Option<impl Read + Send + 'static>,
	keep_last: usize,
) -> std::thread::JoinHandle<Vec<u8>> {
	std::thread::spawn(move || {
		let mut kept = Vec::new();
		let Some(mut source) = source else { return kept };
		let mut buffer = [0u8; 8192];
		while let Ok(n) = source.read(&mut buffer) {
			if n == 0 {
				break;
			}
			kept.extend_from_slice(&buffer[..n]);
			if kept.len() > keep_last.saturating_mul(2) {
				kept.drain(..kept.len() - keep_last);
			}
		}
		if kept.len() > keep_last {
			kept.drain(..kept.len() - keep_last);
		}
		kept
	})
}

/// The child's side: reads the input, limits itself, evaluates, writes the outcome. Returns the process
/// exit code: 0 with an outcome written, 2 when the input is not one.
pub fn child_main() -> i32 {
	let mut bytes = Vec::new();
	if let Err(e) = std::io::stdin().lock().read_to_end(&mut bytes) {
		eprintln!("cannot read the input: {e}");
		return 2;
	}
	let Ok(input) = Input::decode(&mut &bytes[..]) else {
		eprintln!(
			"the input is not an evaluation request (this command is run by the node itself)"
		);
		return 2;
	};
	drop(bytes);
	let budget = memory_budget(input.model.len() as u64, input.golden.len() as u64);
	if let Err(e) = limit_self(budget, input.cpu_seconds) {
		eprintln!("cannot limit the evaluation: {e}");
		return 2;
	}
	// Panics inside the engine are caught and reported; the default hook's message on stderr is noise.
	std::panic::set_hook(Box::new(|_| {}));
	let result = crate::service::guarded(|| {
		let golden = GoldenSet::from_safetensors(&input.golden)?;
		evaluate(&input.model, &golden, input.metric)
	});
	let outcome = Outcome::from(result).encode();
	let mut stdout = std::io::stdout().lock();
	if stdout.write_all(&outcome).and_then(|_| stdout.flush()).is_err() {
		return 2;
	}
	0
}

/// Caps this process's address space at what it maps now plus `budget` bytes, and its CPU time at
/// `cpu_seconds`.
fn limit_self(budget: u64, cpu_seconds: u64) -> std::io::Result<()> {
	let mapped = std::fs::read_to_string("/proc/self/statm")
		.ok()
		.and_then(|s| s.split_whitespace().next().and_then(|pages| pages.parse::<u64>().ok()))
		// SAFETY: `sysconf` only reads a configuration value.
		.map(|pages| pages.saturating_mul(unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64))
		.unwrap_or(0);
	let set = |resource, soft: u64, hard: u64| {
		let limit = libc::rlimit { rlim_cur: soft as libc::rlim_t, rlim_max: hard as libc::rlim_t };
		// SAFETY: `setrlimit` reads the struct passed by reference and changes only this process's limits.
		if unsafe { libc::setrlimit(resource, &limit) } == 0 {
			Ok(())
		} else {
			Err(std::io::Error::last_os_error())
		}
	};
	let memory = mapped.saturating_add(budget);
	set(libc::RLIMIT_AS, memory, memory)?;
	set(libc::RLIMIT_CPU, cpu_seconds, cpu_seconds.saturating_add(1))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn outcomes_round_trip_through_scale() {
		let cases: Vec<Result<Evaluation, EvalError>> = vec![
			Ok(Evaluation { score: 7, samples: 3 }),
			Err(EvalError::ShapeMismatch("a".into())),
			Err(EvalError::UnsupportedOperator("b".into())),
			Err(EvalError::BadDataset("c".into())),
			Err(EvalError::BadMetric("d".into())),
			Err(EvalError::NonFiniteOutput),
			Err(EvalError::TooCostly("e".into())),
			Err(EvalError::MalformedModel("f".into())),
		];
		for case in cases {
			let encoded = Outcome::from(case.clone()).encode();
			let decoded: Result<Evaluation, EvalError> =
				Outcome::decode(&mut &encoded[..]).unwrap().into();
			assert_eq!(decoded, case);
		}
	}

	#[test]
	fn the_borrowed_encoding_is_the_childs_input() {
		let encoded = encode_input(Metric::TopKAccuracy(3), 61, b"model", b"golden set");
		let input = Input::decode(&mut &encoded[..]).unwrap();
		assert_eq!(input.metric, Metric::TopKAccuracy(3));
		assert_eq!(input.cpu_seconds, 61);
		assert_eq!(input.model, b"model");
		assert_eq!(input.golden, b"golden set");
	}

	#[test]
	fn a_crashed_child_is_classified_by_how_it_ended() {
		use std::os::unix::process::ExitStatusExt;
		// Wait statuses of a process ended by a signal: the signal number.
		let signalled = |signal: i32| ExitStatus::from_raw(signal);
		let limit = Duration::from_secs(7);
		// A failed `Vec` allocation aborts after saying so.
		let oom =
			crash(signalled(libc::SIGABRT), "memory allocation of 1024 bytes failed\n", limit);
		assert!(matches!(oom, EvalError::TooCostly(m) if m.contains("memory")));
		let cpu = crash(signalled(libc::SIGXCPU), "", limit);
		assert!(matches!(cpu, EvalError::TooCostly(m) if m.contains("7 s of CPU")));
		let killed = crash(signalled(libc::SIGKILL), "", limit);
		assert!(matches!(killed, EvalError::TooCostly(_)));
		// Anything else is the model's malformation, with the child's last words.
		let overflow = crash(
			signalled(libc::SIGABRT),
			"\nthread 'main' has overflowed its stack\nfatal runtime error: stack overflow\n",
			limit,
		);
		assert!(matches!(overflow, EvalError::MalformedModel(m) if m.contains("stack overflow")));
		let exited = crash(ExitStatus::from_raw(3 << 8), "", limit);
		assert!(matches!(exited, EvalError::MalformedModel(_)));
	}

	#[test]
	fn the_memory_budget_grows_with_the_inputs_and_saturates() {
		assert_eq!(memory_budget(0, 0), 2 << 30);
		assert_eq!(memory_budget(1 << 20, 1 << 20), (2 << 30) + (8 << 20));
		assert_eq!(memory_budget(u64::MAX, 1), u64::MAX);
	}
}
