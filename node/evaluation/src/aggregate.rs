//! # Checking training updates and aggregates
//!
//! A training round takes updates of one base model: the **same ONNX graph** (nodes, inputs, outputs,
//! opsets, the names, shapes and types of its initializers, and the values of its non-float
//! initializers) with other float weights: `float`, `double` or `float16` initializers, and the float
//! attributes that hold the parameters of the ONNX-ML operators scikit-learn's linear models export to
//! (`LinearClassifier` and `LinearRegressor` `coefficients` and `intercepts`, `Scaler` `offset` and
//! `scale`; their number of values is kept). [`check_same_graph`] is how a validator checks that of an
//! update before it scores it.
//!
//! An aggregate combines the float initializers of several updates, coordinate by coordinate, with an
//! [`AggregationRule`]. The arithmetic is fixed so that anyone can reproduce it bit for bit, with numpy
//! or anything else that does IEEE-754 `f64` arithmetic one operation at a time:
//!
//! - every value is widened to `f64` first and the result is rounded to the initializer's type (`f32`,
//!   `f64`: unchanged, `f16`) once, at the end, to nearest with ties to even;
//! - **FedAvg**: `acc = 0; for each part in order: acc = acc + (weight as f64) * (value as f64)`, then
//!   `acc / (sum of weights as f64)`. The order is the order of the parts (a training round gives them in
//!   ascending update id);
//! - **Median**: the values sorted ascending; the middle one for an odd count, `(lo + hi) / 2` in `f64`
//!   for an even count. Weights are not used;
//! - **TrimmedMean(β)**: `k = floor(β_ppb × n / 10⁹)` values dropped at each end of the sorted values,
//!   the rest summed in ascending order in `f64` and divided by `n − 2k`. Weights are not used.
//!
//! `scripts/aggregate.py` is the same computation in numpy, for whoever submits an aggregate; the tests
//! check that the two agree. [`check_aggregate`] is what a validator runs: it recomputes the aggregate
//! from the parts and compares every value of the candidate (numerically: `-0.0 == 0.0`).

use prost::Message;
use tract_onnx::{
	pb::{tensor_proto::DataType, GraphProto, ModelProto, NodeProto, TensorProto},
	prelude::f16,
};

use crate::EvalError;
pub use modelchain_primitives::AggregationRule;

/// The element type of a float initializer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Precision {
	F16,
	F32,
	F64,
}

impl Precision {
	fn of(tensor: &TensorProto) -> Option<Self> {
		match tensor.data_type {
			t if t == DataType::Float16 as i32 => Some(Self::F16),
			t if t == DataType::Float as i32 => Some(Self::F32),
			t if t == DataType::Double as i32 => Some(Self::F64),
			_ => None,
		}
	}

	fn size(self) -> usize {
		match self {
			Self::F16 => 2,
			Self::F32 => 4,
			Self::F64 => 8,
		}
	}

	/// `value` rounded to this type (to nearest, ties to even), as f64.
	fn round(self, value: f64) -> f64 {
		match self {
			Self::F16 => f16::from_f64(value).to_f64(),
			Self::F32 => value as f32 as f64,
			Self::F64 => value,
		}
	}

	/// One little-endian value of this type.
	fn decode(self, bytes: &[u8]) -> f64 {
		match self {
			Self::F16 => f16::from_bits(u16::from_le_bytes([bytes[0], bytes[1]])).to_f64(),
			Self::F32 => f32::from_le_bytes(bytes.try_into().expect("4 bytes")) as f64,
			Self::F64 => f64::from_le_bytes(bytes.try_into().expect("8 bytes")),
		}
	}

	/// `value` (already of this type) as little-endian bytes.
	fn encode(self, value: f64) -> Vec<u8> {
		match self {
			Self::F16 => f16::from_f64(value).to_bits().to_le_bytes().to_vec(),
			Self::F32 => (value as f32).to_le_bytes().to_vec(),
			Self::F64 => value.to_le_bytes().to_vec(),
		}
	}
}

/// Where a weight is stored.
#[derive(Clone, Debug, PartialEq)]
enum Source {
	/// A float initializer.
	Initializer(String),
	/// A float attribute of the graph's `node`-th node (see [`ATTRIBUTE_WEIGHTS`]).
	Attribute { node: usize, name: String },
}

impl core::fmt::Display for Source {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::Initializer(name) => write!(f, "initializer {name}"),
			Self::Attribute { node, name } => write!(f, "attribute {name} of node {node}"),
		}
	}
}

/// The float attributes of ONNX-ML operators that are weights: scikit-learn's linear models and
/// scalers, as skl2onnx exports them, keep their parameters in attributes rather than initializers.
const ATTRIBUTE_WEIGHTS: [(&str, [&str; 2]); 3] = [
	("LinearClassifier", ["coefficients", "intercepts"]),
	("LinearRegressor", ["coefficients", "intercepts"]),
	("Scaler", ["offset", "scale"]),
];

fn is_weight_attribute(node: &NodeProto, attribute: &str) -> bool {
	node.domain == "ai.onnx.ml"
		&& ATTRIBUTE_WEIGHTS
			.iter()
			.any(|(op, names)| *op == node.op_type && names.contains(&attribute))
}

/// The weights of a model: its float initializers sorted by name, then its weight attributes in the
/// order of the nodes; each one's type and values (exactly, as f64).
type Weights = Vec<(Source, Precision, Vec<f64>)>;

/// Parses an ONNX model's protobuf.
pub fn parse_model(bytes: &[u8]) -> Result<ModelProto, EvalError> {
	ModelProto::decode(bytes)
		.map_err(|e| EvalError::MalformedModel(format!("not ONNX protobuf: {e}")))
}

fn is_float(tensor: &TensorProto) -> bool {
	Precision::of(tensor).is_some()
}

/// Everything of a model that an update must keep: the graph without its weights' values (the float
/// initializers' values, and the values but not the number of the weight attributes).
fn skeleton(model: &ModelProto) -> Result<ModelProto, EvalError> {
	let graph = model
		.graph
		.as_ref()
		.ok_or_else(|| EvalError::MalformedModel("the model has no graph".into()))?;
	let mut initializers: Vec<TensorProto> = graph
		.initializer
		.iter()
		.map(|t| {
			if is_float(t) {
				TensorProto {
					name: t.name.clone(),
					dims: t.dims.clone(),
					data_type: t.data_type,
					..Default::default()
				}
			} else {
				t.clone()
			}
		})
		.collect();
	initializers.sort_by(|a, b| a.name.cmp(&b.name));
	// Weight attributes keep their number of values, not the values.
	let mut nodes = graph.node.clone();
	for node in nodes.iter_mut() {
		let weights: Vec<bool> =
			node.attribute.iter().map(|a| is_weight_attribute(node, &a.name)).collect();
		for (attribute, weight) in node.attribute.iter_mut().zip(weights) {
			if weight {
				attribute.floats.iter_mut().for_each(|v| *v = 0.0);
			}
		}
	}
	Ok(ModelProto {
		opset_import: model.opset_import.clone(),
		functions: model.functions.clone(),
		graph: Some(GraphProto {
			node: nodes,
			input: graph.input.clone(),
			output: graph.output.clone(),
			initializer: initializers,
			sparse_initializer: graph.sparse_initializer.clone(),
			..Default::default()
		}),
		..Default::default()
	})
}

/// The values of a float initializer, stored either as little-endian `raw_data` or in the typed field
/// (`float_data`, `double_data`, or `int32_data` holding float16 bits).
fn float_values(tensor: &TensorProto, precision: Precision) -> Result<Vec<f64>, EvalError> {
	let bad = |why: &str| EvalError::MalformedModel(format!("initializer {}: {why}", tensor.name));
	if tensor.data_location == Some(1) || !tensor.external_data.is_empty() {
		return Err(bad("its data is in an external file"));
	}
	let count = tensor
		.dims
		.iter()
		.try_fold(1usize, |acc, &d| usize::try_from(d).ok().and_then(|d| acc.checked_mul(d)));
	let count = count.ok_or_else(|| bad("negative or overflowing dimensions"))?;
	if !tensor.raw_data.is_empty() {
		if tensor.raw_data.len() != count.saturating_mul(precision.size()) {
			return Err(bad("raw data does not fit its dimensions"));
		}
		return Ok(tensor
			.raw_data
			.chunks_exact(precision.size())
			.map(|c| precision.decode(c))
			.collect());
	}
	let values: Vec<f64> = match precision {
		Precision::F32 => tensor.float_data.iter().map(|&v| v as f64).collect(),
		Precision::F64 => tensor.double_data.clone(),
		Precision::F16 => tensor
			.int32_data
			.iter()
			.map(|&bits| u16::try_from(bits).map(|b| f16::from_bits(b).to_f64()))
			.collect::<Result<_, _>>()
			.map_err(|_| bad("float16 data beyond 16 bits"))?,
	};
	if values.len() != count {
		return Err(bad("float data does not fit its dimensions"));
	}
	Ok(values)
}

/// The values of a tensor of any float type, as f64 (for float attributes stored as tensors).
pub(crate) fn tensor_floats(tensor: &TensorProto) -> Result<Vec<f64>, EvalError> {
	let precision = Precision::of(tensor).ok_or_else(|| {
		EvalError::MalformedModel(format!("tensor {} does not hold floats", tensor.name))
	})?;
	float_values(tensor, precision)
}

/// The weights of a model (see [`Weights`]).
fn weights(model: &ModelProto) -> Result<Weights, EvalError> {
	let graph = model
		.graph
		.as_ref()
		.ok_or_else(|| EvalError::MalformedModel("the model has no graph".into()))?;
	let mut initializers: Vec<_> = graph
		.initializer
		.iter()
		.filter_map(|t| Precision::of(t).map(|precision| (t, precision)))
		.collect();
	initializers.sort_by(|a, b| a.0.name.cmp(&b.0.name));
	let mut out = initializers
		.into_iter()
		.map(|(t, precision)| {
			Ok((Source::Initializer(t.name.clone()), precision, float_values(t, precision)?))
		})
		.collect::<Result<Weights, EvalError>>()?;
	for (index, node) in graph.node.iter().enumerate() {
		for attribute in node.attribute.iter().filter(|a| is_weight_attribute(node, &a.name)) {
			out.push((
				Source::Attribute { node: index, name: attribute.name.clone() },
				Precision::F32,
				attribute.floats.iter().map(|&v| v as f64).collect(),
			));
		}
	}
	Ok(out)
}

/// Checks `candidate` is the same graph as `base` with (possibly) other float weights, and returns its
/// weights.
fn same_graph_weights(base: &ModelProto, candidate: &ModelProto) -> Result<Weights, EvalError> {
	let expected = skeleton(base)?;
	let actual = skeleton(candidate)?;
	if expected.opset_import != actual.opset_import {
		return Err(EvalError::ArchitectureMismatch("other operator sets".into()));
	}
	let (expected, actual) = (expected.graph.unwrap_or_default(), actual.graph.unwrap_or_default());
	if expected.node != actual.node {
		return Err(EvalError::ArchitectureMismatch("other nodes".into()));
	}
	if expected.input != actual.input || expected.output != actual.output {
		return Err(EvalError::ArchitectureMismatch("other inputs or outputs".into()));
	}
	if expected.initializer != actual.initializer
		|| expected.sparse_initializer != actual.sparse_initializer
	{
		return Err(EvalError::ArchitectureMismatch(
			"other initializers (names, shapes, types or non-float values)".into(),
		));
	}
	weights(candidate)
}

/// Checks an update is the same ONNX graph as its base, with other float weights.
pub fn check_same_graph(base: &[u8], candidate: &[u8]) -> Result<(), EvalError> {
	let base = parse_model(base).map_err(|e| EvalError::BadReference(format!("base: {e}")))?;
	let candidate = parse_model(candidate)?;
	same_graph_weights(&base, &candidate).map(|_| ())
}

/// `rule` applied to `parts` (their weights and each one's weight, in order), coordinate by coordinate.
/// Every part has the same initializers (checked by the caller); `parts` is not empty.
fn combine(parts: &[(Weights, u64)], rule: AggregationRule) -> Weights {
	let total: u64 = parts.iter().map(|(_, w)| *w).fold(0u64, u64::saturating_add);
	let n = parts.len();
	let trim = match rule {
		AggregationRule::TrimmedMean(beta) => {
			(u128::from(beta.deconstruct()) * n as u128 / 1_000_000_000) as usize
		},
		_ => 0,
	};
	// Values of one coordinate, one per part, each exactly its stored value (widening is exact).
	let mut column = vec![0f64; n];
	parts[0]
		.0
		.iter()
		.enumerate()
		.map(|(t, (name, precision, first))| {
			let values = (0..first.len())
				.map(|i| {
					for (p, (weights, _)) in parts.iter().enumerate() {
						column[p] = weights[t].2[i];
					}
					let combined = match rule {
						AggregationRule::FedAvg => {
							let mut acc = 0f64;
							for (p, (_, weight)) in parts.iter().enumerate() {
								acc += *weight as f64 * column[p];
							}
							acc / total as f64
						},
						AggregationRule::Median => {
							column.sort_by(f64::total_cmp);
							if n % 2 == 1 {
								column[n / 2]
							} else {
								(column[n / 2 - 1] + column[n / 2]) / 2.0
							}
						},
						AggregationRule::TrimmedMean(_) => {
							column.sort_by(f64::total_cmp);
							let kept = &column[trim..n - trim];
							let mut acc = 0f64;
							for v in kept {
								acc += *v;
							}
							acc / kept.len() as f64
						},
					};
					precision.round(combined)
				})
				.collect();
			(name.clone(), *precision, values)
		})
		.collect()
}

/// Parses the base and the parts, checks every part is the base's graph, and combines them.
fn recompute(
	base: &[u8],
	parts: &[(&[u8], u64)],
	rule: AggregationRule,
) -> Result<(ModelProto, Weights), EvalError> {
	let reference =
		|what: String| move |e: EvalError| EvalError::BadReference(format!("{what}: {e}"));
	if parts.is_empty() {
		return Err(EvalError::BadReference("an aggregate of no parts".into()));
	}
	if !rule.is_valid() {
		return Err(EvalError::BadReference(format!("unusable rule {rule:?}")));
	}
	if parts.iter().all(|(_, w)| *w == 0) && rule == AggregationRule::FedAvg {
		return Err(EvalError::BadReference("FedAvg over parts of no samples".into()));
	}
	let base = parse_model(base).map_err(reference("base".into()))?;
	let parsed = parts
		.iter()
		.enumerate()
		.map(|(i, (bytes, weight))| {
			let part = parse_model(bytes).map_err(reference(format!("part {i}")))?;
			let weights =
				same_graph_weights(&base, &part).map_err(reference(format!("part {i}")))?;
			Ok((weights, *weight))
		})
		.collect::<Result<Vec<_>, EvalError>>()?;
	Ok((base, combine(&parsed, rule)))
}

/// Builds the aggregate of `parts` (each with its weight, in order) with `rule`: the base model with
/// its weights replaced by the combined values (float initializers as `raw_data` of their own type,
/// weight attributes as their `floats`).
pub fn aggregate(
	base: &[u8],
	parts: &[(&[u8], u64)],
	rule: AggregationRule,
) -> Result<Vec<u8>, EvalError> {
	let (mut model, combined) = recompute(base, parts, rule)?;
	let graph = model.graph.as_mut().expect("recompute parsed a graph");
	for (source, precision, values) in combined {
		match source {
			Source::Initializer(name) => {
				let tensor = graph
					.initializer
					.iter_mut()
					.find(|t| t.name == name && is_float(t))
					.expect("the weights are the base's");
				tensor.float_data.clear();
				tensor.double_data.clear();
				tensor.int32_data.clear();
				tensor.raw_data = values.iter().flat_map(|&v| precision.encode(v)).collect();
			},
			Source::Attribute { node, name } => {
				let attribute = graph.node[node]
					.attribute
					.iter_mut()
					.find(|a| a.name == name)
					.expect("the weights are the base's");
				attribute.floats = values.iter().map(|&v| v as f32).collect();
			},
		}
	}
	Ok(model.encode_to_vec())
}

/// Checks `candidate` is exactly `rule` applied to `parts` (each with its weight, in order): the base's
/// graph, and every float value equal to the recomputed one.
pub fn check_aggregate(
	base: &[u8],
	parts: &[(&[u8], u64)],
	rule: AggregationRule,
	candidate: &[u8],
) -> Result<(), EvalError> {
	let (base, expected) = recompute(base, parts, rule)?;
	let candidate = parse_model(candidate)?;
	let actual = same_graph_weights(&base, &candidate)?;
	for ((name, _, expected), (_, _, actual)) in expected.iter().zip(&actual) {
		let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
		if let Some(i) = (0..expected.len()).find(|&i| !same(expected[i], actual[i])) {
			return Err(EvalError::AggregateMismatch(format!(
				"{name}[{i}] is {}, the aggregate is {}",
				actual[i], expected[i]
			)));
		}
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_runtime::Perbill;

	fn model(values: &[(&str, Vec<f32>)], extra_node: bool) -> Vec<u8> {
		let initializer = values
			.iter()
			.map(|(name, v)| TensorProto {
				name: name.to_string(),
				dims: vec![v.len() as i64],
				data_type: DataType::Float as i32,
				float_data: v.clone(),
				..Default::default()
			})
			.collect();
		let mut node = vec![tract_onnx::pb::NodeProto {
			op_type: "Add".into(),
			input: vec!["input".into(), "w".into()],
			output: vec!["output".into()],
			..Default::default()
		}];
		if extra_node {
			node.push(tract_onnx::pb::NodeProto { op_type: "Relu".into(), ..Default::default() });
		}
		ModelProto {
			graph: Some(GraphProto { node, initializer, ..Default::default() }),
			..Default::default()
		}
		.encode_to_vec()
	}

	fn w(v: &[f32]) -> Vec<u8> {
		model(&[("w", v.to_vec())], false)
	}

	#[test]
	fn fedavg_weights_by_samples() {
		let (base, a, b) = (w(&[0.0, 0.0]), w(&[1.0, 4.0]), w(&[3.0, 8.0]));
		let out = aggregate(&base, &[(&a, 1), (&b, 3)], AggregationRule::FedAvg).unwrap();
		assert_eq!(
			weights(&parse_model(&out).unwrap()).unwrap(),
			vec![(Source::Initializer("w".into()), Precision::F32, vec![2.5, 7.0])]
		);
		check_aggregate(&base, &[(&a, 1), (&b, 3)], AggregationRule::FedAvg, &out).unwrap();
	}

	#[test]
	fn median_and_trimmed_mean_resist_one_outlier() {
		let base = w(&[0.0]);
		let parts: Vec<Vec<u8>> = [1.0, 2.0, 3.0, 4.0, 1000.0].iter().map(|v| w(&[*v])).collect();
		let parts: Vec<(&[u8], u64)> = parts.iter().map(|p| (p.as_slice(), 1)).collect();
		let median = aggregate(&base, &parts, AggregationRule::Median).unwrap();
		assert_eq!(weights(&parse_model(&median).unwrap()).unwrap()[0].2, vec![3.0]);
		let trimmed =
			aggregate(&base, &parts, AggregationRule::TrimmedMean(Perbill::from_percent(20)))
				.unwrap();
		assert_eq!(weights(&parse_model(&trimmed).unwrap()).unwrap()[0].2, vec![3.0]);
		let even = aggregate(&base, &parts[..4], AggregationRule::Median).unwrap();
		assert_eq!(weights(&parse_model(&even).unwrap()).unwrap()[0].2, vec![2.5]);
	}

	#[test]
	fn a_changed_value_is_an_aggregate_mismatch() {
		let (base, a, b) = (w(&[0.0]), w(&[1.0]), w(&[3.0]));
		let parts: [(&[u8], u64); 2] = [(&a, 1), (&b, 1)];
		assert!(matches!(
			check_aggregate(&base, &parts, AggregationRule::FedAvg, &w(&[2.0001])),
			Err(EvalError::AggregateMismatch(_))
		));
		// The right values in the other tensor encoding are the same aggregate.
		check_aggregate(&base, &parts, AggregationRule::FedAvg, &w(&[2.0])).unwrap();
	}

	#[test]
	fn other_graphs_are_architecture_mismatches() {
		let base = w(&[0.0, 0.0]);
		assert!(matches!(
			check_same_graph(&base, &w(&[0.0])),
			Err(EvalError::ArchitectureMismatch(_))
		));
		assert!(matches!(
			check_same_graph(&base, &model(&[("w", vec![0.0, 0.0])], true)),
			Err(EvalError::ArchitectureMismatch(_))
		));
		assert!(matches!(
			check_same_graph(&base, &model(&[("v", vec![0.0, 0.0])], false)),
			Err(EvalError::ArchitectureMismatch(_))
		));
		check_same_graph(&base, &w(&[5.0, 6.0])).unwrap();
		assert!(matches!(
			check_same_graph(&base, b"not a model at all"),
			Err(EvalError::MalformedModel(_))
		));
		assert!(matches!(check_same_graph(b"\xff\xff", &base), Err(EvalError::BadReference(_))));
	}

	#[test]
	fn a_part_of_another_graph_is_a_bad_reference() {
		let (base, odd) = (w(&[0.0]), w(&[1.0, 2.0]));
		assert!(matches!(
			aggregate(&base, &[(&odd, 1)], AggregationRule::FedAvg),
			Err(EvalError::BadReference(_))
		));
		assert!(matches!(
			aggregate(&base, &[], AggregationRule::Median),
			Err(EvalError::BadReference(_))
		));
	}

	/// A one-initializer model of `w` stored in the typed field of `data_type`.
	fn typed(data_type: DataType, values: &[f64]) -> Vec<u8> {
		let mut tensor = TensorProto {
			name: "w".into(),
			dims: vec![values.len() as i64],
			data_type: data_type as i32,
			..Default::default()
		};
		match data_type {
			DataType::Double => tensor.double_data = values.to_vec(),
			DataType::Float16 => {
				tensor.int32_data =
					values.iter().map(|&v| f16::from_f64(v).to_bits() as i32).collect()
			},
			_ => tensor.float_data = values.iter().map(|&v| v as f32).collect(),
		}
		ModelProto {
			graph: Some(GraphProto { initializer: vec![tensor], ..Default::default() }),
			..Default::default()
		}
		.encode_to_vec()
	}

	#[test]
	fn double_and_half_weights_are_combined_and_rounded_to_their_own_type() {
		// FedAvg of 0 (weight 2) and 1 (weight 1) is 1/3: kept to f64's precision in a double initializer,
		// rounded to f16's 11 significant bits in a half one.
		let rule = AggregationRule::FedAvg;
		// `near` is the nearest value of the type that is not it: 1/3 rounded to f32 for a double, the
		// next half.
		for (data_type, precision, third, near) in [
			(DataType::Double, Precision::F64, 1.0 / 3.0, (1.0f64 / 3.0) as f32 as f64),
			(DataType::Float16, Precision::F16, 0.333251953125, 0.33349609375),
		] {
			let (base, a, b) =
				(typed(data_type, &[0.0]), typed(data_type, &[0.0]), typed(data_type, &[1.0]));
			let parts = [(a.as_slice(), 2), (b.as_slice(), 1)];
			let out = aggregate(&base, &parts, rule).unwrap();
			let combined = weights(&parse_model(&out).unwrap()).unwrap();
			assert_eq!(combined, vec![(Source::Initializer("w".into()), precision, vec![third])]);
			// Written in the typed field (double_data, or float16 bits in int32_data, as exporters
			// write them), it is the same aggregate; the value nearest it is another.
			check_aggregate(&base, &parts, rule, &typed(data_type, &[third])).unwrap();
			let result = check_aggregate(&base, &parts, rule, &typed(data_type, &[near]));
			assert!(matches!(result, Err(EvalError::AggregateMismatch(_))), "{result:?}");
			// An update may not change a weight's type.
			let result = check_same_graph(&base, &typed(DataType::Float, &[0.0]));
			assert!(matches!(result, Err(EvalError::ArchitectureMismatch(_))), "{result:?}");
		}
	}
}
