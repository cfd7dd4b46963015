//! Times the engine for `scripts/bench/engine_vs_onnxruntime.py`, which runs onnxruntime on the same
//! files in the same run and prints the ratio.
//!
//!   throughput evaluate MODEL.onnx GOLDEN.safetensors accuracy|mse|xent REPEATS
//!   throughput sandboxed SANDBOX_BIN MODEL.onnx GOLDEN.safetensors accuracy|mse|xent REPEATS
//!   throughput digest FILE REPEATS
//!
//! `sandboxed` times the same evaluation as the node runs it, in a child process (`SANDBOX_BIN` is the
//! crate's `evaluation-sandbox` binary): start, input through a pipe, evaluation, outcome.
//!
//! Prints one line of JSON: the median wall time in seconds of REPEATS runs (after one warm-up) and the
//! result, so the caller can check both sides computed the same thing.

use modelchain_evaluation::{
	evaluate,
	sandbox::{evaluate_sandboxed, Sandbox},
	sha256, GoldenSet, Metric,
};
use std::time::{Duration, Instant};

fn median(mut samples: Vec<f64>) -> f64 {
	samples.sort_by(f64::total_cmp);
	samples[samples.len() / 2]
}

fn time<R>(repeats: usize, mut f: impl FnMut() -> R) -> (f64, R) {
	let mut last = f(); // warm-up: page cache, allocator
	let mut samples = Vec::with_capacity(repeats);
	for _ in 0..repeats {
		let start = Instant::now();
		last = f();
		samples.push(start.elapsed().as_secs_f64());
	}
	(median(samples), last)
}

fn main() {
	let args: Vec<String> = std::env::args().skip(1).collect();
	let usage = "usage: throughput evaluate MODEL GOLDEN accuracy|mse|xent REPEATS | sandboxed \
	             SANDBOX_BIN MODEL GOLDEN accuracy|mse|xent REPEATS | digest FILE REPEATS";
	let metric_of = |name: &str| match name {
		"accuracy" => Metric::Accuracy,
		"mse" => Metric::MeanSquaredError,
		"xent" => Metric::MeanCrossEntropy,
		other => panic!("unknown metric {other}; {usage}"),
	};
	match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
		["sandboxed", sandbox, model, golden, metric, repeats] => {
			let sandbox = Sandbox {
				program: sandbox.into(),
				args: Vec::new(),
				time_limit: Duration::from_secs(600),
			};
			let model = std::fs::read(model).expect("model file");
			let golden = std::fs::read(golden).expect("golden file");
			let metric = metric_of(metric);
			let (seconds, result) = time(repeats.parse().expect(usage), || {
				evaluate_sandboxed(&sandbox, &model, &golden, metric)
					.expect("the sandbox runs")
					.expect("evaluation")
			});
			println!(
				r#"{{"seconds": {seconds}, "score": {}, "samples": {}}}"#,
				result.score, result.samples
			);
		},
		["evaluate", model, golden, metric, repeats] => {
			let model = std::fs::read(model).expect("model file");
			let golden = std::fs::read(golden).expect("golden file");
			let metric = metric_of(metric);
			let repeats = repeats.parse().expect(usage);
			// Parsing the golden set is part of an evaluation, as loading it is for onnxruntime.
			let (seconds, result) = time(repeats, || {
				let golden = GoldenSet::from_safetensors(&golden).expect("golden set");
				evaluate(&model, &golden, metric).expect("evaluation")
			});
			println!(
				r#"{{"seconds": {seconds}, "score": {}, "samples": {}}}"#,
				result.score, result.samples
			);
		},
		["digest", file, repeats] => {
			// Reading the file is timed too, as it is for `sha256sum FILE`.
			let (seconds, (digest, len)) = time(repeats.parse().expect(usage), || {
				let bytes = std::fs::read(file).expect("file");
				(sha256(&bytes), bytes.len())
			});
			let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
			println!(r#"{{"seconds": {seconds}, "digest": "{hex}", "bytes": {len}}}"#);
		},
		_ => {
			eprintln!("{usage}");
			std::process::exit(2);
		},
	}
}
