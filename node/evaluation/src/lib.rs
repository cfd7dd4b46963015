//! # modelchain evaluation engine
//!
//! Scores a model on a golden dataset, natively and deterministically, so that every validator that runs
//! the same job gets the same integer:
//!
//! - the **model** is an ONNX file (opset ≤ 21) with one input `[batch, …features]` (a symbolic or fixed
//!   batch dimension) whose prediction is its first floating-point output: class scores `[batch, classes]`
//!   (logits, or probabilities when a `Softmax` or `Sigmoid` computes the output), one score per sample
//!   for a binary classifier (`[batch]` / `[batch, 1]`: a logit, or a `Sigmoid`'s probability of class
//!   1), or regression values `[batch]` / `[batch, k]`; a model whose outputs are all integers predicts
//!   class labels with its first (`[batch]`, accuracy only);
//! - the **golden dataset** is a safetensors file with `inputs` (f32, `[samples, …features]`) and `labels`
//!   (i64 or i32 class indices `[samples]`, or f32 targets `[samples]` / `[samples, k]`), all finite;
//! - the **metric** is one of [`Metric`]; the result is a [`Score`] in parts per billion.
//!
//! Artifacts are pinned by SHA-256 ([`verify_artifact`]). Every failure is a typed [`EvalError`], never a
//! panic: a validator reports it as the reason the artifact is invalid.

use std::fmt;

use safetensors::{Dtype, SafeTensors};
use sha2::{Digest, Sha256};
use tract_onnx::{prelude::*, tract_hir::infer::Factoid};

/// A score in parts per billion of the metric's unit.
pub type Score = u64;
/// One whole unit of a [`Score`].
pub const PPB: Score = 1_000_000_000;

/// What to compute on the golden dataset: the same type the chain records in a scoring job.
pub use modelchain_primitives::Metric;

pub mod aggregate;
pub mod sandbox;
pub mod service;
pub mod testing;

/// Why an artifact could not be scored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalError {
	/// The bytes do not hash to the recorded SHA-256.
	DigestMismatch { expected: [u8; 32], actual: [u8; 32] },
	/// The file does not have the recorded size.
	SizeMismatch { expected: u64, actual: u64 },
	/// The file is larger than the evaluator accepts.
	TooLarge { limit: u64, actual: u64 },
	/// The model is not a loadable ONNX file.
	MalformedModel(String),
	/// The model uses an operator the engine does not implement.
	UnsupportedOperator(String),
	/// The model does not accept the dataset's inputs, or its output does not fit the labels.
	ShapeMismatch(String),
	/// The golden dataset is not a valid safetensors file with `inputs` and `labels`.
	BadDataset(String),
	/// The metric does not apply (e.g. top-k with k larger than the number of classes).
	BadMetric(String),
	/// The model produced NaN or infinity.
	NonFiniteOutput,
	/// The model is not the same ONNX graph as the base it must update.
	ArchitectureMismatch(String),
	/// The model's weights are not the aggregate it claims to be.
	AggregateMismatch(String),
	/// A model the candidate is checked against (a base, a part of an aggregate) is unusable.
	BadReference(String),
	/// Evaluating the model needs more memory or time than the sandbox grants (see [`sandbox`]).
	TooCostly(String),
}

impl fmt::Display for EvalError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Self::DigestMismatch { expected, actual } => {
				write!(f, "digest mismatch: expected {}, got {}", hex(expected), hex(actual))
			},
			Self::SizeMismatch { expected, actual } => {
				write!(f, "size mismatch: expected {expected} bytes, got {actual}")
			},
			Self::TooLarge { limit, actual } => {
				write!(f, "too large: {actual} bytes, limit {limit}")
			},
			Self::MalformedModel(e) => write!(f, "malformed model: {e}"),
			Self::UnsupportedOperator(op) => write!(f, "unsupported operator: {op}"),
			Self::ShapeMismatch(e) => write!(f, "shape mismatch: {e}"),
			Self::BadDataset(e) => write!(f, "bad dataset: {e}"),
			Self::BadMetric(e) => write!(f, "bad metric: {e}"),
			Self::NonFiniteOutput => write!(f, "the model produced NaN or infinity"),
			Self::ArchitectureMismatch(e) => write!(f, "not the base's graph: {e}"),
			Self::AggregateMismatch(e) => write!(f, "not the aggregate: {e}"),
			Self::BadReference(e) => write!(f, "unusable reference model: {e}"),
			Self::TooCostly(e) => write!(f, "too costly to evaluate: {e}"),
		}
	}
}

impl std::error::Error for EvalError {}

pub(crate) fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a whole file: the digest modelchain records for every artifact.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
	Sha256::digest(bytes).into()
}

/// Checks fetched bytes are the recorded artifact: exactly `size` bytes hashing to `digest`.
pub fn verify_artifact(bytes: &[u8], digest: &[u8; 32], size: u64) -> Result<(), EvalError> {
	let actual_size = bytes.len() as u64;
	if actual_size != size {
		return Err(EvalError::SizeMismatch { expected: size, actual: actual_size });
	}
	let actual = sha256(bytes);
	if actual != *digest {
		return Err(EvalError::DigestMismatch { expected: *digest, actual });
	}
	Ok(())
}

/// The labels of a golden dataset.
#[derive(Clone, Debug, PartialEq)]
pub enum Labels {
	/// Class indices, one per sample.
	Classes(Vec<i64>),
	/// Regression targets, `width` per sample, row-major.
	Targets { values: Vec<f32>, width: usize },
}

/// A parsed golden dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct GoldenSet {
	/// Shape of one sample (the `inputs` shape without its first dimension).
	pub sample_shape: Vec<usize>,
	/// All samples' inputs, row-major.
	pub inputs: Vec<f32>,
	pub labels: Labels,
}

impl GoldenSet {
	/// Number of samples.
	pub fn samples(&self) -> usize {
		match &self.labels {
			Labels::Classes(c) => c.len(),
			Labels::Targets { values, width } => values.len() / (*width).max(1),
		}
	}

	fn sample_len(&self) -> usize {
		self.sample_shape.iter().product()
	}

	/// Parses a safetensors golden dataset (see the crate docs for the layout).
	pub fn from_safetensors(bytes: &[u8]) -> Result<Self, EvalError> {
		let bad = |e: String| EvalError::BadDataset(e);
		let file =
			SafeTensors::deserialize(bytes).map_err(|e| bad(format!("not safetensors: {e}")))?;
		let inputs = file.tensor("inputs").map_err(|_| bad("no `inputs` tensor".into()))?;
		let labels = file.tensor("labels").map_err(|_| bad("no `labels` tensor".into()))?;
		if inputs.dtype() != Dtype::F32 {
			return Err(bad(format!("`inputs` must be f32, not {:?}", inputs.dtype())));
		}
		let (&samples, sample_shape) = inputs
			.shape()
			.split_first()
			.ok_or_else(|| bad("`inputs` must have a sample dimension".into()))?;
		if samples == 0 || sample_shape.is_empty() || sample_shape.contains(&0) {
			return Err(bad(format!("`inputs` has an empty shape {:?}", inputs.shape())));
		}
		let label_shape = labels.shape();
		if label_shape.first() != Some(&samples) || label_shape.len() > 2 {
			return Err(bad(format!(
				"`labels` shape {label_shape:?} does not match {samples} samples"
			)));
		}
		let labels = match labels.dtype() {
			Dtype::I64 => Labels::Classes(
				labels
					.data()
					.chunks_exact(8)
					.map(|c| i64::from_le_bytes(c.try_into().unwrap()))
					.collect(),
			),
			Dtype::I32 => Labels::Classes(
				labels
					.data()
					.chunks_exact(4)
					.map(|c| i32::from_le_bytes(c.try_into().unwrap()) as i64)
					.collect(),
			),
			Dtype::F32 => Labels::Targets {
				values: f32s(labels.data()),
				width: label_shape.get(1).copied().unwrap_or(1),
			},
			other => return Err(bad(format!("`labels` must be i64, i32 or f32, not {other:?}"))),
		};
		if matches!(&labels, Labels::Classes(_)) && label_shape.len() != 1 {
			return Err(bad("class labels must be one index per sample".into()));
		}
		// NaN or infinity in the golden set would be scored as the model's fault (a non-finite output)
		// or as a perfect score (a NaN loss): the dataset is refused instead.
		let inputs = f32s(inputs.data());
		if let Some(at) = inputs.iter().position(|v| !v.is_finite()) {
			return Err(bad(format!("`inputs` holds NaN or infinity (value {at})")));
		}
		if let Labels::Targets { values, .. } = &labels {
			if let Some(at) = values.iter().position(|v| !v.is_finite()) {
				return Err(bad(format!("`labels` holds NaN or infinity (value {at})")));
			}
		}
		Ok(Self { sample_shape: sample_shape.to_vec(), inputs, labels })
	}
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
	bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

/// The outcome of an evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Evaluation {
	/// The metric's value in parts per billion (rounded down).
	pub score: Score,
	/// Samples evaluated.
	pub samples: u64,
}

/// Scores an ONNX model on a golden dataset.
pub fn evaluate(model: &[u8], golden: &GoldenSet, metric: Metric) -> Result<Evaluation, EvalError> {
	let mut outputs = predict(model, golden)?;
	let samples = golden.samples();
	if matches!(golden.labels, Labels::Classes(_))
		&& outputs.width == 1
		&& outputs.kind != OutputKind::Labels
	{
		outputs = outputs.binary();
	}
	let score = match (&golden.labels, metric) {
		(Labels::Classes(labels), Metric::Accuracy) if outputs.kind == OutputKind::Labels => {
			ratio(label_accuracy(&outputs, labels)?, samples)
		},
		(Labels::Classes(_), metric) if outputs.kind == OutputKind::Labels => {
			return Err(EvalError::ShapeMismatch(format!(
				"the model outputs class labels only; {metric:?} needs class scores"
			)))
		},
		(Labels::Classes(labels), Metric::Accuracy) => {
			top_k_accuracy(&outputs, labels, 1).map(|hits| ratio(hits, samples))?
		},
		(Labels::Classes(labels), Metric::TopKAccuracy(k)) => {
			top_k_accuracy(&outputs, labels, k as usize).map(|hits| ratio(hits, samples))?
		},
		(Labels::Classes(labels), Metric::MeanCrossEntropy) => {
			to_ppb(cross_entropy(&outputs, labels)?)
		},
		(Labels::Targets { values, .. }, Metric::MeanSquaredError) => {
			if outputs.values.len() != values.len() {
				return Err(EvalError::ShapeMismatch(format!(
					"the model gives {} values per sample, the labels {}",
					outputs.width,
					values.len() / samples.max(1)
				)));
			}
			let sum: f64 = outputs
				.values
				.iter()
				.zip(values)
				.map(|(p, t)| {
					let d = *p as f64 - *t as f64;
					d * d
				})
				.sum();
			to_ppb(sum / values.len() as f64)
		},
		(Labels::Classes(_), Metric::MeanSquaredError) => {
			return Err(EvalError::BadMetric("mean squared error needs f32 targets".into()))
		},
		(Labels::Targets { .. }, _) => {
			return Err(EvalError::BadMetric(format!("{metric:?} needs class labels")))
		},
	};
	Ok(Evaluation { score, samples: samples as u64 })
}

fn ratio(hits: usize, samples: usize) -> Score {
	(hits as u128 * PPB as u128 / samples.max(1) as u128) as Score
}

fn to_ppb(value: f64) -> Score {
	// Saturating: an absurdly bad model scores the maximum loss rather than wrapping.
	(value * PPB as f64).floor().clamp(0.0, Score::MAX as f64) as Score
}

/// What a model's prediction output holds, read off its element type and the operator that computes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OutputKind {
	/// Unnormalised scores: logits, log-probabilities (`LogSoftmax`), or regression values.
	Scores,
	/// Probabilities: the output of a `Softmax` or a `Sigmoid`.
	Probabilities,
	/// Predicted class indices, one per sample (an integer output, e.g. an `ArgMax`).
	Labels,
}

/// Which of the graph's outputs is the prediction, and what it holds: the first output whose element
/// type is not an integer (floating point, or undeclared); when every output is an integer, the first,
/// as predicted class labels. So a model that outputs its predicted label before its scores (as many
/// exporters do) is scored on the scores.
fn prediction_output(model: &tract_onnx::pb::ModelProto) -> (usize, OutputKind) {
	use tract_onnx::pb::{tensor_proto::DataType, type_proto};
	let Some(graph) = &model.graph else { return (0, OutputKind::Scores) };
	let integer = [
		DataType::Uint8,
		DataType::Int8,
		DataType::Uint16,
		DataType::Int16,
		DataType::Int32,
		DataType::Int64,
		DataType::Uint32,
		DataType::Uint64,
	]
	.map(|t| t as i32);
	let is_integer = |output: &tract_onnx::pb::ValueInfoProto| {
		matches!(
			output.r#type.as_ref().and_then(|t| t.value.as_ref()),
			Some(type_proto::Value::TensorType(tensor)) if integer.contains(&tensor.elem_type)
		)
	};
	match graph.output.iter().position(|output| !is_integer(output)) {
		Some(index) => (index, output_kind(graph, &graph.output[index].name)),
		None if !graph.output.is_empty() => (0, OutputKind::Labels),
		None => (0, OutputKind::Scores),
	}
}

/// The kind of the floating-point output `name`: the operator computing it, looked up through the
/// operators that only reshape values (`Identity`, `Reshape`, `Flatten`, `Squeeze`, `Unsqueeze`).
fn output_kind<'a>(graph: &'a tract_onnx::pb::GraphProto, mut name: &'a str) -> OutputKind {
	// Each step moves to an earlier node, so the walk ends within as many steps as there are nodes.
	for _ in 0..graph.node.len() {
		let Some(node) = graph.node.iter().find(|n| n.output.iter().any(|o| o == name)) else {
			break;
		};
		if !(node.domain.is_empty() || node.domain == "ai.onnx") {
			break;
		}
		match node.op_type.as_str() {
			"Softmax" | "Sigmoid" => return OutputKind::Probabilities,
			"Identity" | "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze" => {
				match node.input.first() {
					Some(input) => name = input,
					None => break,
				}
			},
			_ => break,
		}
	}
	OutputKind::Scores
}

/// The smallest probability a cross-entropy takes the logarithm of (a probability of 0 would be an
/// infinite loss).
pub const MIN_PROBABILITY: f64 = 1e-15;

/// The model's prediction output for every sample, `width` values each.
struct Outputs {
	values: Vec<f32>,
	width: usize,
	kind: OutputKind,
}

impl Outputs {
	fn rows(&self) -> impl Iterator<Item = &[f32]> {
		self.values.chunks_exact(self.width)
	}

	/// A binary classifier's one score per sample as the scores of classes 0 and 1: a logit `z` as
	/// `[0, z]` (whose softmax is `[1 - σ(z), σ(z)]`), a probability `p` as `[1 - p, p]`. Class 1 is
	/// predicted when `z > 0` or `p > 0.5`.
	fn binary(self) -> Self {
		let values = self
			.values
			.iter()
			.flat_map(|&v| match self.kind {
				OutputKind::Scores | OutputKind::Labels => [0.0, v],
				OutputKind::Probabilities => [1.0 - v, v],
			})
			.collect();
		Self { values, width: 2, kind: self.kind }
	}
}

/// Samples whose predicted label (one integer per sample) is the golden label.
fn label_accuracy(outputs: &Outputs, labels: &[i64]) -> Result<usize, EvalError> {
	if outputs.width != 1 {
		return Err(EvalError::ShapeMismatch(format!(
			"an integer output must be one class label per sample, not {} values",
			outputs.width
		)));
	}
	check_labels(labels, usize::MAX)?;
	Ok(outputs.values.iter().zip(labels).filter(|(&p, &label)| p as f64 == label as f64).count())
}

fn top_k_accuracy(outputs: &Outputs, labels: &[i64], k: usize) -> Result<usize, EvalError> {
	if k == 0 || k > outputs.width {
		return Err(EvalError::BadMetric(format!("k = {k} with {} classes", outputs.width)));
	}
	check_labels(labels, outputs.width)?;
	Ok(outputs
		.rows()
		.zip(labels)
		.filter(|(row, &label)| {
			let target = row[label as usize];
			// Classes ranked above the label: strictly higher scores, or equal scores at lower indices.
			let above = row
				.iter()
				.enumerate()
				.filter(|&(i, &v)| v > target || (v == target && i < label as usize))
				.count();
			above < k
		})
		.count())
}

/// The mean of `-ln p(label)`: `p` the softmax of scores, or the probabilities themselves (at least
/// [`MIN_PROBABILITY`]).
fn cross_entropy(outputs: &Outputs, labels: &[i64]) -> Result<f64, EvalError> {
	check_labels(labels, outputs.width)?;
	let total: f64 = outputs
		.rows()
		.zip(labels)
		.map(|(row, &label)| match outputs.kind {
			OutputKind::Scores | OutputKind::Labels => {
				let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
				let log_sum = row.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln();
				-(row[label as usize] as f64 - max - log_sum)
			},
			OutputKind::Probabilities => -(row[label as usize] as f64).max(MIN_PROBABILITY).ln(),
		})
		.sum();
	Ok(total / labels.len().max(1) as f64)
}

fn check_labels(labels: &[i64], classes: usize) -> Result<(), EvalError> {
	match labels.iter().find(|&&l| l < 0 || l as usize >= classes) {
		Some(l) => Err(EvalError::BadDataset(format!("label {l} is not a class of {classes}"))),
		None => Ok(()),
	}
}

/// The largest batch fed to a model whose batch dimension is free.
pub const MAX_BATCH: usize = 1024;
/// The most input bytes in one batch of a model whose batch dimension is free: large samples (images)
/// go in smaller batches, so that a network's intermediate tensors stay within the evaluation sandbox's
/// memory (e.g. 6 samples of 3×224×224, 1,024 of 784 features).
pub const MAX_BATCH_INPUT_BYTES: usize = 4 << 20;

/// The batch fed to a model whose batch dimension is free: at most [`MAX_BATCH`] samples and
/// [`MAX_BATCH_INPUT_BYTES`] of inputs, at least one sample.
pub fn batch_size(golden: &GoldenSet) -> usize {
	let per_batch = (MAX_BATCH_INPUT_BYTES / (golden.sample_len() * 4).max(1)).max(1);
	golden.samples().min(MAX_BATCH).min(per_batch).max(1)
}

/// Loads the model and runs it on every sample, in batches the model accepts.
fn predict(model_bytes: &[u8], golden: &GoldenSet) -> Result<Outputs, EvalError> {
	let proto = aggregate::parse_model(model_bytes)?;
	let (prediction, kind) = prediction_output(&proto);
	let mut model = tract_onnx::onnx()
		.model_for_proto_model(&proto)
		.map_err(|e| EvalError::MalformedModel(format!("{e:#}")))?;
	if let Some(op) =
		model.nodes().iter().map(|n| n.op.name()).find(|n| n.starts_with("Unimplemented"))
	{
		return Err(EvalError::UnsupportedOperator(op.to_string()));
	}
	if model.inputs.len() != 1 {
		return Err(EvalError::ShapeMismatch(format!(
			"the model takes {} inputs; golden datasets feed one",
			model.inputs.len()
		)));
	}

	let samples = golden.samples();
	// A fixed batch dimension is honoured (e.g. a model exported for batch 1); otherwise batches of up to
	// `MAX_BATCH` samples and `MAX_BATCH_INPUT_BYTES`, so memory stays bounded however large the golden set
	// and its samples are. The batch depends only on the golden set, so every validator uses the same.
	let fixed_batch = model
		.input_fact(0)
		.ok()
		.and_then(|fact| fact.shape.dims().next().and_then(|d| d.concretize()))
		.and_then(|d| d.to_i64().ok())
		.filter(|&b| b > 0)
		.map(|b| b as usize);
	let batch = fixed_batch.unwrap_or_else(|| batch_size(golden));
	let mut input_shape = vec![batch];
	input_shape.extend(&golden.sample_shape);
	model
		.set_input_fact(0, f32::fact(&input_shape).into())
		.map_err(|e| EvalError::ShapeMismatch(format!("{e:#}")))?;
	let model = model.into_optimized().map_err(|e| classify(format!("{e:#}")))?;
	let plan = model.into_runnable().map_err(|e| classify(format!("{e:#}")))?;

	let sample_len = golden.sample_len();
	let mut values = Vec::new();
	let mut width = None;
	for start in (0..samples).step_by(batch) {
		let rows = batch.min(samples - start);
		// The last batch of a fixed-batch model is padded with zeros; the padding's outputs are dropped.
		let mut data = golden.inputs[start * sample_len..(start + rows) * sample_len].to_vec();
		data.resize(batch * sample_len, 0.0);
		let input = Tensor::from_shape(&input_shape, &data)
			.map_err(|e| EvalError::ShapeMismatch(format!("{e:#}")))?;
		let mut result = plan
			.run(tvec![input.into()])
			.map_err(|e| EvalError::ShapeMismatch(format!("{e:#}")))?;
		if result.is_empty() {
			return Err(EvalError::MalformedModel("the model has no output".into()));
		}
		if prediction >= result.len() {
			return Err(EvalError::MalformedModel(
				"the model has fewer outputs than it declares".into(),
			));
		}
		let output = result.swap_remove(prediction).into_tensor();
		let output = output
			.cast_to::<f32>()
			.map_err(|e| EvalError::ShapeMismatch(format!("output is not numeric: {e:#}")))?;
		let shape = output.shape();
		if shape.first() != Some(&batch) {
			return Err(EvalError::ShapeMismatch(format!(
				"output shape {shape:?} does not start with the batch size {batch}"
			)));
		}
		let row_width = shape[1..].iter().product::<usize>().max(1);
		width = Some(row_width);
		let view =
			output.try_as_plain_ram().map_err(|e| EvalError::ShapeMismatch(format!("{e:#}")))?;
		let slice =
			view.as_slice::<f32>().map_err(|e| EvalError::ShapeMismatch(format!("{e:#}")))?;
		values.extend_from_slice(&slice[..rows * row_width]);
	}
	if values.iter().any(|v| !v.is_finite()) {
		return Err(EvalError::NonFiniteOutput);
	}
	Ok(Outputs { values, width: width.unwrap_or(1), kind })
}

/// Sorts an optimisation-time failure into an unsupported operator or a shape mismatch.
fn classify(message: String) -> EvalError {
	if message.contains("Unimplemented") || message.contains("not implemented") {
		EvalError::UnsupportedOperator(message)
	} else {
		EvalError::ShapeMismatch(message)
	}
}
