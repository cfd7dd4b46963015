//! ONNX-ML support vector machines, which tract lacks: `SVMClassifier` (scikit-learn's `SVC` and `NuSVC`)
//! and `SVMRegressor` (`SVR`, `NuSVR`, `OneClassSVM`), computed as onnxruntime and the ONNX reference
//! implementation compute them, in f32.
//!
//! A classifier with support vectors (`vectors_per_class`) is libsvm's one-against-one machine: for each
//! pair of classes `i < j`, `rho + Σ coefficient · K(x, sv)` over both classes' support vectors is a vote
//! for `i` when positive, else for `j`. Its scores are these pairwise decisions, or, when the model has
//! Platt parameters (`prob_a`, `prob_b`), the class probabilities libsvm couples from them (Wu, Lin and
//! Weng's method, `multiclass_probability`). Without support vectors it is linear, a score per class. A
//! regressor is `rho + Σ coefficient · K(x, sv)` (or `rho + coefficients · x`), a one-class machine's
//! sign. Kernels: `LINEAR`, `POLY` (`(γ x·sv + c)^d`), `RBF` (`exp(-γ |x - sv|²)`), `SIGMOID`
//! (`tanh(γ x·sv + c)`).

use tract_onnx::{
	model::{OnnxOpRegister, ParsingContext},
	pb::{AttributeProto, NodeProto},
	tract_hir::internal::*,
};

use crate::EvalError;

fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
	node.attribute.iter().find(|a| a.name == name)
}

fn floats(node: &NodeProto, name: &str) -> Vec<f32> {
	attr(node, name).map(|a| a.floats.clone()).unwrap_or_default()
}

fn text<'a>(node: &'a NodeProto, name: &str, default: &'a str) -> String {
	attr(node, name)
		.map(|a| String::from_utf8_lossy(&a.s).into_owned())
		.unwrap_or_else(|| default.into())
}

fn malformed(node: &NodeProto, why: impl core::fmt::Display) -> EvalError {
	EvalError::MalformedModel(format!("{} `{}`: {why}", node.op_type, node.name))
}

fn unsupported(node: &NodeProto, what: impl core::fmt::Display) -> EvalError {
	EvalError::UnsupportedOperator(format!("{} `{}`: {what}", node.op_type, node.name))
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kernel {
	Linear,
	Poly { gamma: f32, coef0: f32, degree: f32 },
	Rbf { gamma: f32 },
	Sigmoid { gamma: f32, coef0: f32 },
}

impl Kernel {
	fn parse(node: &NodeProto) -> Result<Self, EvalError> {
		let params = floats(node, "kernel_params");
		let param = |i: usize| params.get(i).copied().unwrap_or(0.0);
		let (gamma, coef0) = (param(0), param(1));
		Ok(match text(node, "kernel_type", "LINEAR").as_str() {
			"LINEAR" => Self::Linear,
			// ONNX gives the degree as a float; it is used as the integer it holds.
			"POLY" => Self::Poly { gamma, coef0, degree: param(2).trunc() },
			"RBF" => Self::Rbf { gamma },
			"SIGMOID" => Self::Sigmoid { gamma, coef0 },
			other => return Err(unsupported(node, format!("kernel_type {other}"))),
		})
	}

	fn apply(&self, x: &[f32], sv: &[f32]) -> f32 {
		let dot = || x.iter().zip(sv).fold(0f32, |s, (a, b)| s + a * b);
		match *self {
			Self::Linear => dot(),
			Self::Poly { gamma, coef0, degree } => (dot() * gamma + coef0).powf(degree),
			Self::Rbf { gamma } => {
				let distance = x.iter().zip(sv).fold(0f32, |s, (a, b)| s + (a - b) * (a - b));
				(-gamma * distance).exp()
			},
			Self::Sigmoid { gamma, coef0 } => (dot() * gamma + coef0).tanh(),
		}
	}
}

/// A post transform of the scores.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Transform {
	None,
	Logistic,
	Softmax,
}

impl Transform {
	fn parse(node: &NodeProto) -> Result<Self, EvalError> {
		Ok(match text(node, "post_transform", "NONE").as_str() {
			"NONE" => Self::None,
			"LOGISTIC" => Self::Logistic,
			"SOFTMAX" => Self::Softmax,
			other => return Err(unsupported(node, format!("post_transform {other}"))),
		})
	}

	fn apply(self, scores: &mut [f32]) {
		match self {
			Self::None => {},
			Self::Logistic => scores.iter_mut().for_each(|s| *s = logistic(*s)),
			Self::Softmax => {
				let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
				let mut sum = 0f32;
				for s in scores.iter_mut() {
					*s = (*s - max).exp();
					sum += *s;
				}
				scores.iter_mut().for_each(|s| *s /= sum);
			},
		}
	}
}

/// The logistic function, computed on `|x|` for accuracy.
fn logistic(x: f32) -> f32 {
	let v = 1.0 / (1.0 + (-x.abs()).exp());
	if x < 0.0 {
		1.0 - v
	} else {
		v
	}
}

/// Support vectors (or, for a linear machine, no vectors), `features` values each.
#[derive(Clone, Debug, PartialEq)]
struct Vectors {
	kernel: Kernel,
	values: Vec<f32>,
	features: usize,
}

impl Vectors {
	fn count(&self) -> usize {
		self.values.len() / self.features.max(1)
	}

	/// `K(x, sv)` for every support vector.
	fn kernels(&self, x: &[f32]) -> Vec<f32> {
		self.values.chunks_exact(self.features).map(|sv| self.kernel.apply(x, sv)).collect()
	}
}

/// A checked `SVMRegressor`.
#[derive(Clone, Debug, PartialEq)]
struct Regressor {
	/// `None` for a linear machine (its `coefficients` are weights of the features).
	vectors: Option<Vectors>,
	coefficients: Vec<f32>,
	rho: f32,
	one_class: bool,
}

impl Regressor {
	fn parse(node: &NodeProto) -> Result<Self, EvalError> {
		if Transform::parse(node)? != Transform::None {
			return Err(unsupported(node, "a post transform"));
		}
		if attr(node, "n_targets").is_some_and(|a| a.i != 1) {
			return Err(unsupported(node, "n_targets other than 1"));
		}
		let kernel = Kernel::parse(node)?;
		let supports = attr(node, "n_supports").map_or(0, |a| a.i);
		let coefficients = floats(node, "coefficients");
		let values = floats(node, "support_vectors");
		let rho = *floats(node, "rho").first().ok_or_else(|| malformed(node, "no rho"))?;
		let one_class = attr(node, "one_class").is_some_and(|a| a.i != 0);
		let vectors = match usize::try_from(supports) {
			Ok(0) => None,
			Ok(count) if !values.is_empty() && values.len().is_multiple_of(count) => {
				if coefficients.len() != count {
					return Err(malformed(
						node,
						format!("{} coefficients for {count} support vectors", coefficients.len()),
					));
				}
				Some(Vectors { kernel, features: values.len() / count, values })
			},
			_ => {
				return Err(malformed(
					node,
					format!("{} support vector values for {supports} vectors", values.len()),
				))
			},
		};
		if vectors.is_none() && coefficients.is_empty() {
			return Err(malformed(node, "no coefficients"));
		}
		Ok(Self { vectors, coefficients, rho, one_class })
	}

	fn features(&self) -> usize {
		self.vectors.as_ref().map_or(self.coefficients.len(), |v| v.features)
	}

	fn predict(&self, x: &[f32]) -> f32 {
		let sum = match &self.vectors {
			Some(vectors) => {
				let kernels = vectors.kernels(x);
				self.coefficients.iter().zip(&kernels).fold(0f32, |s, (c, k)| s + c * k) + self.rho
			},
			None => Kernel::Linear.apply(x, &self.coefficients) + self.rho,
		};
		match self.one_class {
			true if sum > 0.0 => 1.0,
			true => -1.0,
			false => sum,
		}
	}
}

/// A checked `SVMClassifier`.
#[derive(Clone, Debug, PartialEq)]
struct Classifier {
	classes: usize,
	/// The label of each class: `classlabels_ints`, or the class index.
	labels: Vec<i64>,
	/// `classlabels_strings`, when the labels are strings (`labels` then index them).
	names: Option<Vec<String>>,
	/// `None` for a linear machine, whose `coefficients` are `classes` rows of feature weights.
	vectors: Option<Vectors>,
	/// The first support vector of each class, and one past the last.
	starts: Vec<usize>,
	coefficients: Vec<f32>,
	rho: Vec<f32>,
	/// Platt parameters of each pair, when the model computes probabilities.
	platt: Option<(Vec<f32>, Vec<f32>)>,
	transform: Transform,
	weights_are_all_positive: bool,
	features: usize,
}

impl Classifier {
	fn parse(node: &NodeProto) -> Result<Self, EvalError> {
		let names: Vec<String> = attr(node, "classlabels_strings")
			.map(|a| a.strings.iter().map(|s| String::from_utf8_lossy(s).into_owned()).collect())
			.unwrap_or_default();
		let labels = attr(node, "classlabels_ints").map(|a| a.ints.clone()).unwrap_or_default();
		let labels = match (labels.is_empty(), names.is_empty()) {
			(false, true) => labels,
			(true, false) => (0..names.len() as i64).collect(),
			(true, true) => vec![0],
			(false, false) => return Err(malformed(node, "both integer and string class labels")),
		};
		let names = (!names.is_empty()).then_some(names);
		let classes = labels.len();
		let kernel = Kernel::parse(node)?;
		let transform = Transform::parse(node)?;
		let coefficients = floats(node, "coefficients");
		let values = floats(node, "support_vectors");
		let rho = floats(node, "rho");
		let per_class = attr(node, "vectors_per_class").map(|a| a.ints.clone()).unwrap_or_default();
		let mut starts = vec![0usize];
		for &count in &per_class {
			let count = usize::try_from(count)
				.map_err(|_| malformed(node, format!("{count} vectors of a class")))?;
			starts.push(starts.last().copied().unwrap_or(0).saturating_add(count));
		}
		let count = starts.last().copied().unwrap_or(0);
		let pairs = classes * (classes - 1) / 2;
		let (vectors, features) = if count > 0 {
			if per_class.len() != classes {
				return Err(malformed(
					node,
					format!("vectors of {} classes for {classes} labels", per_class.len()),
				));
			}
			if values.is_empty() || !values.len().is_multiple_of(count) {
				return Err(malformed(
					node,
					format!("{} support vector values for {count} vectors", values.len()),
				));
			}
			if (classes - 1).checked_mul(count) != Some(coefficients.len()) {
				return Err(malformed(
					node,
					format!(
						"{} coefficients for {count} vectors of {classes} classes",
						coefficients.len()
					),
				));
			}
			if rho.len() != pairs {
				return Err(malformed(node, format!("{} rho for {pairs} class pairs", rho.len())));
			}
			let features = values.len() / count;
			(Some(Vectors { kernel, values, features }), features)
		} else {
			if coefficients.is_empty()
				|| !coefficients.len().is_multiple_of(classes)
				|| rho.is_empty()
			{
				return Err(malformed(
					node,
					"a linear machine without a weight per class and feature",
				));
			}
			(None, coefficients.len() / classes)
		};
		let (prob_a, prob_b) = (floats(node, "prob_a"), floats(node, "prob_b"));
		let platt = if !prob_a.is_empty() && vectors.is_some() {
			if prob_a.len() != pairs || prob_b.len() != pairs {
				return Err(malformed(node, format!("Platt parameters for {pairs} class pairs")));
			}
			Some((prob_a, prob_b))
		} else {
			None
		};
		let weights_are_all_positive = coefficients.iter().all(|&c| c >= 0.0);
		Ok(Self {
			classes,
			labels,
			names,
			vectors,
			starts,
			coefficients,
			rho,
			platt,
			transform,
			weights_are_all_positive,
			features,
		})
	}

	/// How many scores a sample gets.
	fn width(&self) -> usize {
		let raw = match (&self.vectors, &self.platt) {
			(Some(_), None) => self.classes * (self.classes - 1) / 2,
			_ => self.classes,
		};
		if raw == 1 && self.classes == 2 {
			2
		} else {
			raw
		}
	}

	/// The label and the scores of one sample.
	fn predict(&self, x: &[f32], scores: &mut Vec<f32>) -> i64 {
		scores.clear();
		let (best, best_weight) = match &self.vectors {
			None => {
				for row in self.coefficients.chunks_exact(self.features) {
					scores.push(self.rho[0] + Kernel::Linear.apply(x, row));
				}
				argmax(scores)
			},
			Some(vectors) => {
				let kernels = vectors.kernels(x);
				let count = vectors.count();
				let mut votes = vec![0f32; self.classes];
				let mut pair = 0;
				for i in 0..self.classes {
					let own_i = self.starts[i]..self.starts[i + 1];
					for j in i + 1..self.classes {
						let own_j = self.starts[j]..self.starts[j + 1];
						let dot = |row: usize, range: core::ops::Range<usize>| {
							let coefficients = &self.coefficients[row * count..][range.clone()];
							coefficients
								.iter()
								.zip(&kernels[range])
								.fold(0f32, |s, (c, k)| s + c * k)
						};
						let decision = self.rho[pair] + dot(j - 1, own_i.clone()) + dot(i, own_j);
						votes[if decision > 0.0 { i } else { j }] += 1.0;
						scores.push(decision);
						pair += 1;
					}
				}
				if let Some((a, b)) = &self.platt {
					let pairwise = core::mem::take(scores);
					*scores = self.probabilities(&pairwise, a, b);
				}
				argmax(&votes)
			},
		};
		let mut second_class = false;
		let label = if self.rho.len() == 1 {
			// libsvm's binary machine: one decision, and class 1 when it wins.
			second_class = self.labels.len() == 2;
			if self.labels.len() == 2
				&& self.platt.is_none()
				&& self.weights_are_all_positive
				&& best_weight >= 0.5
			{
				self.labels[1]
			} else if self.labels.len() == 2 {
				self.labels[best]
			} else if best_weight > 0.0 {
				1
			} else {
				0
			}
		} else {
			self.labels.get(best).copied().unwrap_or(best as i64)
		};
		if scores.len() == 1 && second_class {
			let s = scores[0];
			*scores = match self.transform {
				Transform::None => vec![-s, s],
				Transform::Logistic => vec![logistic(-s), logistic(s)],
				Transform::Softmax => {
					let mut two = vec![-s, s];
					Transform::Softmax.apply(&mut two);
					two
				},
			};
		} else if scores.len() >= 2 {
			self.transform.apply(scores);
		}
		label
	}

	/// The class probabilities coupled from the pairwise decisions by their Platt parameters.
	fn probabilities(&self, decisions: &[f32], a: &[f32], b: &[f32]) -> Vec<f32> {
		let k = self.classes;
		let mut r = vec![0f32; k * k];
		let mut pair = 0;
		for i in 0..k {
			for j in i + 1..k {
				let p =
					(1.0 - logistic(decisions[pair] * a[pair] + b[pair])).clamp(1e-7, 1.0 - 1e-7);
				r[i * k + j] = p;
				r[j * k + i] = 1.0 - p;
				pair += 1;
			}
		}
		multiclass_probability(k, &r)
	}
}

/// The first index of the largest value, and the value.
fn argmax(values: &[f32]) -> (usize, f32) {
	values.iter().enumerate().fold(
		(0, f32::NEG_INFINITY),
		|(bi, bv), (i, &v)| {
			if v > bv {
				(i, v)
			} else {
				(bi, bv)
			}
		},
	)
}

/// libsvm's `multiclass_probability`: the `k` class probabilities most consistent with the pairwise
/// probabilities `r` (`r[i][j]`: of `i` against `j`), by Wu, Lin and Weng's fixed-point iteration.
fn multiclass_probability(k: usize, r: &[f32]) -> Vec<f32> {
	let at = |i: usize, j: usize| r[i * k + j];
	let mut q = vec![0f32; k * k];
	let mut p = vec![1.0 / k as f32; k];
	let mut qp = vec![0f32; k];
	for t in 0..k {
		for j in 0..t {
			q[t * k + t] += at(j, t) * at(j, t);
			q[t * k + j] = q[j * k + t];
		}
		for j in t + 1..k {
			q[t * k + t] += at(j, t) * at(j, t);
			q[t * k + j] = -at(j, t) * at(t, j);
		}
	}
	let eps = 0.005 / k as f32;
	for _ in 0..k.max(100) {
		let mut pqp = 0f32;
		for t in 0..k {
			qp[t] = (0..k).fold(0f32, |s, j| s + q[t * k + j] * p[j]);
			pqp += p[t] * qp[t];
		}
		if qp.iter().all(|&v| (v - pqp).abs() < eps) {
			break;
		}
		for t in 0..k {
			let diff = (-qp[t] + pqp) / q[t * k + t];
			p[t] += diff;
			pqp = (pqp + diff * (diff * q[t * k + t] + 2.0 * qp[t])) / (1.0 + diff) / (1.0 + diff);
			for j in 0..k {
				qp[j] = (qp[j] + diff * q[t * k + j]) / (1.0 + diff);
				p[j] /= 1.0 + diff;
			}
		}
	}
	p
}

/// Checks every support vector machine of the graph, so that a malformed or unsupported one is named as
/// such before tract loads it.
pub(crate) fn check(graph: &tract_onnx::pb::GraphProto) -> Result<(), EvalError> {
	for node in graph.node.iter().filter(|n| n.domain == "ai.onnx.ml") {
		match node.op_type.as_str() {
			"SVMClassifier" => drop(Classifier::parse(node)?),
			"SVMRegressor" => drop(Regressor::parse(node)?),
			_ => {},
		}
	}
	Ok(())
}

/// Whether `node` is an `SVMClassifier` whose scores are probabilities.
pub(crate) fn gives_probabilities(node: &NodeProto) -> bool {
	Classifier::parse(node).is_ok_and(|c| c.platt.is_some() && c.transform == Transform::None)
}

/// Whether `node` is an `SVMClassifier` of two classes whose scores are its one decision, `[-d, d]`.
pub(crate) fn is_binary_decision(node: &NodeProto) -> bool {
	Classifier::parse(node).is_ok_and(|c| {
		c.vectors.is_some() && c.platt.is_none() && c.rho.len() == 1 && c.labels.len() == 2
	})
}

/// Registers `SVMClassifier` and `SVMRegressor` with tract's ONNX operators.
pub(crate) fn register(ops: &mut OnnxOpRegister) {
	ops.insert("SVMClassifier", classifier);
	ops.insert("SVMRegressor", regressor);
}

fn classifier(
	_ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let machine = Classifier::parse(node).map_err(|e| format_err!("{e}"))?;
	Ok((expand(Machine::Classifier(machine)), vec![]))
}

fn regressor(
	_ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let machine = Regressor::parse(node).map_err(|e| format_err!("{e}"))?;
	Ok((expand(Machine::Regressor(machine)), vec![]))
}

/// Either machine, as a tract operator: `[batch, features]` to a classifier's labels `[batch]` (i64)
/// and scores `[batch, width]` (f32), or a regressor's values `[batch, 1]` (f32).
#[derive(Clone, Debug, PartialEq)]
enum Machine {
	Classifier(Classifier),
	Regressor(Regressor),
}

impl Machine {
	fn features(&self) -> usize {
		match self {
			Self::Classifier(c) => c.features,
			Self::Regressor(r) => r.features(),
		}
	}
}

impl Expansion for Machine {
	fn name(&self) -> StaticName {
		match self {
			Self::Classifier(_) => "SVMClassifier".into(),
			Self::Regressor(_) => "SVMRegressor".into(),
		}
	}

	fn nboutputs(&self) -> TractResult<usize> {
		Ok(match self {
			Self::Classifier(_) => 2,
			Self::Regressor(_) => 1,
		})
	}

	fn rules<'r, 'p: 'r, 's: 'r>(
		&'s self,
		s: &mut Solver<'r>,
		inputs: &'p [TensorProxy],
		outputs: &'p [TensorProxy],
	) -> InferenceResult {
		check_input_arity(inputs, 1)?;
		s.equals(&inputs[0].rank, 2)?;
		s.equals(&inputs[0].shape[1], self.features().to_dim())?;
		match self {
			Self::Classifier(c) => {
				check_output_arity(outputs, 2)?;
				let label_type = if c.names.is_some() { DatumType::String } else { DatumType::I64 };
				s.equals(&outputs[0].datum_type, label_type)?;
				s.equals(&outputs[0].rank, 1)?;
				s.equals(&outputs[0].shape[0], &inputs[0].shape[0])?;
				s.equals(&outputs[1].datum_type, DatumType::F32)?;
				s.equals(&outputs[1].rank, 2)?;
				s.equals(&outputs[1].shape[0], &inputs[0].shape[0])?;
				s.equals(&outputs[1].shape[1], c.width().to_dim())?;
			},
			Self::Regressor(_) => {
				check_output_arity(outputs, 1)?;
				s.equals(&outputs[0].datum_type, DatumType::F32)?;
				s.equals(&outputs[0].rank, 2)?;
				s.equals(&outputs[0].shape[0], &inputs[0].shape[0])?;
				s.equals(&outputs[0].shape[1], 1.to_dim())?;
			},
		}
		Ok(())
	}

	fn wire(
		&self,
		prefix: &str,
		model: &mut TypedModel,
		inputs: &[OutletId],
	) -> TractResult<TVec<OutletId>> {
		model.wire_node(prefix, MachineOp(self.clone()), inputs)
	}
}

/// The typed operator a [`Machine`] is wired as.
#[derive(Clone, Debug, PartialEq)]
struct MachineOp(Machine);

// tract compares operators to merge identical nodes; two machines read from the same attributes are
// equal (no parameter is NaN in a model that loads, and a NaN one only makes two nodes look different).
impl Eq for MachineOp {}

impl Op for MachineOp {
	fn name(&self) -> StaticName {
		Expansion::name(&self.0)
	}

	op_as_typed_op!();
}

impl EvalOp for MachineOp {
	op_out_of_plan!();

	fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
		if inputs.len() != 1 {
			bail!("{} inputs", inputs.len());
		}
		let input = inputs[0].cast_to::<f32>()?;
		let view = input.to_plain_array_view::<f32>()?;
		let features = self.0.features();
		if view.ndim() != 2 || view.shape()[1] != features {
			bail!("input shape {:?} for {features} features", view.shape());
		}
		let rows: Vec<Vec<f32>> =
			view.outer_iter().map(|row| row.iter().copied().collect()).collect();
		match &self.0 {
			Machine::Regressor(r) => {
				let values: Vec<f32> = rows.iter().map(|x| r.predict(x)).collect();
				Ok(tvec!(tensor1(&values).into_shape(&[rows.len(), 1])?.into_tvalue()))
			},
			Machine::Classifier(c) => {
				let (mut labels, mut all) = (Vec::with_capacity(rows.len()), Vec::new());
				let mut scores = Vec::new();
				for x in &rows {
					labels.push(c.predict(x, &mut scores));
					all.extend_from_slice(&scores);
				}
				let scores = tensor1(&all).into_shape(&[rows.len(), c.width()])?;
				let labels = match &c.names {
					Some(names) => {
						let named: Vec<String> = labels
							.iter()
							.map(|&l| names.get(l as usize).cloned().unwrap_or_default())
							.collect();
						tensor1(&named)
					},
					None => tensor1(&labels),
				};
				Ok(tvec!(labels.into_tvalue(), scores.into_tvalue()))
			},
		}
	}
}

impl TypedOp for MachineOp {
	fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
		let batch = inputs[0].shape[0].clone();
		Ok(match &self.0 {
			Machine::Classifier(c) => {
				let label_type = if c.names.is_some() { DatumType::String } else { DatumType::I64 };
				tvec!(
					TypedFact::dt_shape(label_type, core::slice::from_ref(&batch)),
					f32::fact(&[batch, c.width().to_dim()])
				)
			},
			Machine::Regressor(_) => tvec!(f32::fact(&[batch, 1.to_dim()])),
		})
	}

	as_op!();
}

#[cfg(test)]
mod tests {
	use super::*;
	use tract_onnx::pb::attribute_proto::AttributeType;

	fn node(op: &str, attributes: Vec<(&str, AttributeProto)>) -> NodeProto {
		NodeProto {
			op_type: op.into(),
			domain: "ai.onnx.ml".into(),
			name: "svm".into(),
			attribute: attributes
				.into_iter()
				.map(|(name, a)| AttributeProto { name: name.into(), ..a })
				.collect(),
			..Default::default()
		}
	}

	fn f(values: &[f32]) -> AttributeProto {
		AttributeProto {
			r#type: AttributeType::Floats as i32,
			floats: values.to_vec(),
			..Default::default()
		}
	}

	fn i(values: &[i64]) -> AttributeProto {
		AttributeProto {
			r#type: AttributeType::Ints as i32,
			ints: values.to_vec(),
			..Default::default()
		}
	}

	fn int(value: i64) -> AttributeProto {
		AttributeProto { r#type: AttributeType::Int as i32, i: value, ..Default::default() }
	}

	fn s(value: &str) -> AttributeProto {
		AttributeProto {
			r#type: AttributeType::String as i32,
			s: value.into(),
			..Default::default()
		}
	}

	/// Two support vectors of one feature, 0 and 1, with coefficients 2 and 3, and rho 0.5.
	fn regressor(kernel: &str, params: &[f32]) -> NodeProto {
		node(
			"SVMRegressor",
			vec![
				("kernel_type", s(kernel)),
				("kernel_params", f(params)),
				("n_supports", int(2)),
				("support_vectors", f(&[0.0, 1.0])),
				("coefficients", f(&[2.0, 3.0])),
				("rho", f(&[0.5])),
			],
		)
	}

	#[test]
	fn regressors_compute_each_kernel() {
		let predict = |kernel, params: &[f32], x: f32| {
			Regressor::parse(&regressor(kernel, params)).unwrap().predict(&[x])
		};
		// 2·(0·x) + 3·(1·x) + 0.5
		assert_eq!(predict("LINEAR", &[], 2.0), 6.5);
		// 2·(0.5·0·x + 1)² + 3·(0.5·x + 1)² + 0.5, at x = 2: 2 + 12 + 0.5
		assert_eq!(predict("POLY", &[0.5, 1.0, 2.0], 2.0), 14.5);
		// 2·exp(-(x - 0)²) + 3·exp(-(x - 1)²) + 0.5, at x = 1
		assert!((predict("RBF", &[1.0], 1.0) - (2.0 * (-1f32).exp() + 3.5)).abs() < 1e-6);
		assert!((predict("SIGMOID", &[1.0, 0.0], 1.0) - (3.0 * 1f32.tanh() + 0.5)).abs() < 1e-6);
		let mut one_class = regressor("LINEAR", &[]);
		one_class.attribute.push(AttributeProto { name: "one_class".into(), ..int(1) });
		assert_eq!(Regressor::parse(&one_class).unwrap().predict(&[-1.0]), -1.0);
	}

	#[test]
	fn two_class_probabilities_are_the_pairwise_one() {
		let p = multiclass_probability(2, &[0.0, 0.8, 0.2, 0.0]);
		assert!((p[0] - 0.8).abs() < 1e-3 && (p[1] - 0.2).abs() < 1e-3, "{p:?}");
		let p = multiclass_probability(3, &[0.0, 0.7, 0.9, 0.3, 0.0, 0.6, 0.1, 0.4, 0.0]);
		assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5 && p[0] > p[1] && p[1] > p[2], "{p:?}");
	}

	/// Three classes of one support vector each, one feature.
	fn classifier(extra: Vec<(&str, AttributeProto)>) -> NodeProto {
		let mut attributes = vec![
			("kernel_type", s("RBF")),
			("kernel_params", f(&[1.0, 0.0, 3.0])),
			("classlabels_ints", i(&[0, 1, 2])),
			("vectors_per_class", i(&[1, 1, 1])),
			("support_vectors", f(&[0.0, 1.0, 2.0])),
			// Pair (i, j) weighs class i's vectors by row j - 1 and class j's by row i; positive votes i.
			("coefficients", f(&[1.0, -1.0, -1.0, 1.0, 1.0, -1.0])),
			("rho", f(&[0.0, 0.0, 0.0])),
		];
		attributes.extend(extra);
		node("SVMClassifier", attributes)
	}

	#[test]
	fn a_classifier_votes_one_against_one() {
		let machine = Classifier::parse(&classifier(vec![])).unwrap();
		assert_eq!(machine.width(), 3);
		let mut scores = Vec::new();
		// Nearest the first support vector: class 0 wins both its pairs.
		assert_eq!(machine.predict(&[0.0], &mut scores), 0);
		assert_eq!(scores.len(), 3);
		assert!(scores[0] > 0.0 && scores[1] > 0.0, "{scores:?}");
		let probabilities = Classifier::parse(&classifier(vec![
			("prob_a", f(&[-2.0; 3])),
			("prob_b", f(&[0.0; 3])),
		]))
		.unwrap();
		probabilities.predict(&[0.0], &mut scores);
		assert!((scores.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{scores:?}");
		assert!(scores[0] > scores[1] && scores[1] > scores[2], "{scores:?}");
	}

	#[test]
	fn malformed_machines_are_named() {
		let malformed = |node: NodeProto| match Classifier::parse(&node) {
			Err(EvalError::MalformedModel(m)) => m,
			other => panic!("{other:?}"),
		};
		let mut short = classifier(vec![]);
		short.attribute.retain(|a| a.name != "coefficients");
		short.attribute.push(AttributeProto { name: "coefficients".into(), ..f(&[1.0]) });
		assert!(malformed(short).contains("1 coefficients for 3 vectors of 3 classes"));
		let mut rho = classifier(vec![]);
		rho.attribute.retain(|a| a.name != "rho");
		assert!(malformed(rho).contains("0 rho for 3 class pairs"));
		let platt = classifier(vec![("prob_a", f(&[1.0]))]);
		assert!(malformed(platt).contains("Platt parameters"));
		let mut huge = classifier(vec![]);
		huge.attribute.retain(|a| a.name != "vectors_per_class");
		huge.attribute.push(AttributeProto {
			name: "vectors_per_class".into(),
			..i(&[i64::MAX, i64::MAX, 1])
		});
		malformed(huge);
		let mut vectors = regressor("RBF", &[1.0]);
		vectors.attribute.retain(|a| a.name != "support_vectors");
		vectors
			.attribute
			.push(AttributeProto { name: "support_vectors".into(), ..f(&[0.0, 1.0, 2.0]) });
		assert!(matches!(Regressor::parse(&vectors), Err(EvalError::MalformedModel(_))));
		let kernel = regressor("LAPLACIAN", &[]);
		assert!(matches!(Regressor::parse(&kernel), Err(EvalError::UnsupportedOperator(_))));
	}
}
