//! Operators tract lacks or computes differently from onnxruntime, written as the standard ONNX
//! operators they amount to before tract reads the graph: the ONNX-ML `Scaler`, `Imputer`, `Binarizer`
//! and `OneHotEncoder` (which scikit-learn pipelines export), and `ReduceLogSumExp`, which tract computes
//! as `log(sum(exp(x)))` and so overflows where onnxruntime does not. And a `Concat` of many inputs, which
//! tract's optimiser takes time quadratic in its inputs to read, as a tree of narrower ones.

use tract_onnx::pb::{
	attribute_proto, tensor_proto::DataType, AttributeProto, GraphProto, NodeProto, TensorProto,
};

use crate::{attribute, is_ml, is_standard, EvalError};

/// The opset of the standard nodes written here, declared when the model declares none: `CastLike`
/// is in the standard domain from opset 15, and `Unsqueeze` takes its axes as an input from 13.
pub(crate) const OPSET: i64 = 15;

/// Writes every operator this module knows in standard form; `opset` is the model's standard opset, if
/// it declares one. Returns whether an ONNX-ML node was written as standard ones.
pub(crate) fn standard_forms(
	graph: &mut GraphProto,
	opset: Option<i64>,
) -> Result<bool, EvalError> {
	let scalers = scalers(graph)?;
	let imputers = imputers(graph)?;
	let binarizers = binarizers(graph)?;
	let encoders = one_hot_encoders(graph, opset.unwrap_or(OPSET))?;
	stable_log_sum_exp(graph)?;
	split_wide_concats(graph)?;
	Ok(scalers || imputers || binarizers || encoders)
}

/// Replaces each `op_type` node of the graph in the domain `in_domain` accepts ([`is_ml`] or
/// [`is_standard`]) by the standard nodes `rewrite` makes of it (given the node's index, the node, its
/// first input and its first output), adding the initializers they read. Returns whether there was one.
fn rewrite_nodes(
	graph: &mut GraphProto,
	in_domain: fn(&NodeProto) -> bool,
	op_type: &str,
	mut rewrite: impl FnMut(
		usize,
		&NodeProto,
		&String,
		&String,
	) -> Result<(Vec<NodeProto>, Vec<TensorProto>), EvalError>,
) -> Result<bool, EvalError> {
	let mut found = false;
	let mut nodes = Vec::with_capacity(graph.node.len());
	for (i, node) in core::mem::take(&mut graph.node).into_iter().enumerate() {
		if !(in_domain(&node) && node.op_type == op_type) {
			nodes.push(node);
			continue;
		}
		found = true;
		let (Some(input), Some(output)) = (node.input.first(), node.output.first()) else {
			return Err(EvalError::MalformedModel(format!(
				"{op_type} `{}`: no input or output",
				node.name
			)));
		};
		let (standard, initializers) = rewrite(i, &node, input, output)?;
		nodes.extend(standard);
		graph.initializer.extend(initializers);
	}
	graph.node = nodes;
	Ok(found)
}

/// A standard-domain node.
fn standard_node(
	op: &str,
	name: String,
	input: Vec<String>,
	output: String,
	attribute: Vec<AttributeProto>,
) -> NodeProto {
	NodeProto {
		op_type: op.into(),
		input,
		output: vec![output],
		name,
		attribute,
		..Default::default()
	}
}

/// A one-dimensional initializer of floats.
fn floats_initializer(name: String, values: Vec<f32>) -> TensorProto {
	TensorProto {
		name,
		dims: vec![values.len() as i64],
		data_type: DataType::Float as i32,
		float_data: values,
		..Default::default()
	}
}

/// Writes each ONNX-ML `Scaler` (`Y = (X - offset) * scale`, scikit-learn's `StandardScaler`) as the
/// standard `Cast` to f32, `Sub` and `Mul`, with `offset` and `scale` as initializers. Returns whether
/// there was one.
fn scalers(graph: &mut GraphProto) -> Result<bool, EvalError> {
	rewrite_nodes(graph, is_ml, "Scaler", |i, node, input, output| {
		let name = |what: &str| format!("modelchain_scaler_{i}_{what}");
		let mut initializers = Vec::new();
		for what in ["offset", "scale"] {
			let values = attribute(node, what).map(|a| a.floats.clone()).unwrap_or_default();
			if values.is_empty() {
				return Err(EvalError::MalformedModel(format!(
					"Scaler `{}`: no {what}",
					node.name
				)));
			}
			initializers.push(floats_initializer(name(what), values));
		}
		let to_float = int_attribute("to", DataType::Float as i64);
		let standard = |op: &str, inputs: Vec<String>, output: String, attribute| {
			standard_node(op, name(op), inputs, output, attribute)
		};
		let nodes = vec![
			standard("Cast", vec![input.clone()], name("float"), vec![to_float]),
			standard("Sub", vec![name("float"), name("offset")], name("centred"), vec![]),
			standard("Mul", vec![name("centred"), name("scale")], output.clone(), vec![]),
		];
		Ok((nodes, initializers))
	})
}

/// Writes each ONNX-ML `Imputer` (scikit-learn's `SimpleImputer`: every value equal to
/// `replaced_value_float`, or NaN when that is NaN, becomes its column's `imputed_value_floats` entry;
/// likewise for `int64` values) as the standard `Equal` (or `IsNaN`) and `Where`, with the imputed values
/// as an initializer (one per column, or one for all). Returns whether there was one.
fn imputers(graph: &mut GraphProto) -> Result<bool, EvalError> {
	rewrite_nodes(graph, is_ml, "Imputer", |i, node, input, output| {
		let name = |what: &str| format!("modelchain_imputer_{i}_{what}");
		let floats = attribute(node, "imputed_value_floats").map(|a| a.floats.clone());
		let ints = attribute(node, "imputed_value_int64s").map(|a| a.ints.clone());
		// The values put in, and the value replaced: `None` for NaN.
		let (values, replaced) = match (floats, ints) {
			(Some(floats), _) if !floats.is_empty() => {
				let replaced = attribute(node, "replaced_value_float").map_or(0.0, |a| a.f);
				let replaced = (!replaced.is_nan())
					.then(|| floats_initializer(name("replaced"), vec![replaced]));
				(floats_initializer(name("values"), floats), replaced)
			},
			(_, Some(ints)) if !ints.is_empty() => {
				let replaced = attribute(node, "replaced_value_int64").map_or(0, |a| a.i);
				let tensor = |name: String, values: Vec<i64>| TensorProto {
					name,
					dims: vec![values.len() as i64],
					data_type: DataType::Int64 as i32,
					int64_data: values,
					..Default::default()
				};
				(tensor(name("values"), ints), Some(tensor(name("replaced"), vec![replaced])))
			},
			_ => {
				return Err(EvalError::MalformedModel(format!(
					"Imputer `{}`: no imputed values",
					node.name
				)))
			},
		};
		let standard = |op: &str, inputs: Vec<String>, output: String| {
			standard_node(op, name(op), inputs, output, vec![])
		};
		let mask = match &replaced {
			Some(replaced) => {
				standard("Equal", vec![input.clone(), replaced.name.clone()], name("mask"))
			},
			None => standard("IsNaN", vec![input.clone()], name("mask")),
		};
		let select = standard(
			"Where",
			vec![name("mask"), values.name.clone(), input.clone()],
			output.clone(),
		);
		Ok((vec![mask, select], [Some(values), replaced].into_iter().flatten().collect()))
	})
}

/// An `int` attribute.
fn int_attribute(name: &str, value: i64) -> AttributeProto {
	AttributeProto {
		name: name.into(),
		r#type: attribute_proto::AttributeType::Int as i32,
		i: value,
		..Default::default()
	}
}

/// Writes each ONNX-ML `Binarizer` (scikit-learn's `Binarizer`: 1 where `X > threshold`, else 0, in the
/// input's type) as the standard `CastLike` and `Greater`. Returns whether there was one.
fn binarizers(graph: &mut GraphProto) -> Result<bool, EvalError> {
	rewrite_nodes(graph, is_ml, "Binarizer", |i, node, input, output| {
		let name = |what: &str| format!("modelchain_binarizer_{i}_{what}");
		let threshold = attribute(node, "threshold").map_or(0.0, |a| a.f);
		let standard = |op: &str, inputs: Vec<String>, output: String| {
			standard_node(op, name(&output), inputs, output, vec![])
		};
		let nodes = vec![
			// The threshold in the input's type, as onnxruntime compares them.
			standard("CastLike", vec![name("threshold_f32"), input.clone()], name("threshold")),
			standard("Greater", vec![input.clone(), name("threshold")], name("above")),
			standard("CastLike", vec![name("above"), input.clone()], output.clone()),
		];
		Ok((nodes, vec![floats_initializer(name("threshold_f32"), vec![threshold])]))
	})
}

/// Writes each ONNX-ML `OneHotEncoder` with integer categories (`cats_int64s`: a value, truncated to an
/// integer as onnxruntime does, becomes a row of floats with 1 in its category's column; scikit-learn's
/// `OneHotEncoder` and `KBinsDiscretizer` export it) as the standard `Cast`, `Unsqueeze`, `Equal` and
/// `Cast`, the output `[…input shape, categories]`. A value in no category encodes as all zeros, whether
/// or not the node's `zeros` allows it (onnxruntime fails the inference where it does not). String
/// categories are an unsupported operator (golden inputs are numbers); repeated ones are malformed.
/// `opset` is the model's standard opset, which decides how `Unsqueeze` takes its axes.
fn one_hot_encoders(graph: &mut GraphProto, opset: i64) -> Result<bool, EvalError> {
	rewrite_nodes(graph, is_ml, "OneHotEncoder", |i, node, input, output| {
		let name = |what: &str| format!("modelchain_one_hot_{i}_{what}");
		let categories = attribute(node, "cats_int64s").map(|a| a.ints.clone()).unwrap_or_default();
		if categories.is_empty() {
			let strings = attribute(node, "cats_strings").is_some_and(|a| !a.strings.is_empty());
			return Err(if strings {
				EvalError::UnsupportedOperator(format!(
					"OneHotEncoder `{}`: string categories",
					node.name
				))
			} else {
				EvalError::MalformedModel(format!("OneHotEncoder `{}`: no categories", node.name))
			});
		}
		let mut sorted = categories.clone();
		sorted.sort_unstable();
		if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
			return Err(EvalError::MalformedModel(format!(
				"OneHotEncoder `{}`: category {} is listed twice",
				node.name, pair[0]
			)));
		}
		let mut initializers = vec![TensorProto {
			name: name("categories"),
			dims: vec![categories.len() as i64],
			data_type: DataType::Int64 as i32,
			int64_data: categories,
			..Default::default()
		}];
		let standard = |op: &str, inputs: Vec<String>, output: String, attribute| {
			standard_node(op, name(&output), inputs, output, attribute)
		};
		// A new last axis, compared with every category.
		let unsqueeze = if opset >= 13 {
			initializers.push(TensorProto {
				name: name("last_axis"),
				dims: vec![1],
				data_type: DataType::Int64 as i32,
				int64_data: vec![-1],
				..Default::default()
			});
			standard("Unsqueeze", vec![name("index"), name("last_axis")], name("column"), vec![])
		} else {
			let axes = AttributeProto {
				name: "axes".into(),
				r#type: attribute_proto::AttributeType::Ints as i32,
				ints: vec![-1],
				..Default::default()
			};
			standard("Unsqueeze", vec![name("index")], name("column"), vec![axes])
		};
		let nodes = vec![
			standard(
				"Cast",
				vec![input.clone()],
				name("index"),
				vec![int_attribute("to", DataType::Int64 as i64)],
			),
			unsqueeze,
			standard("Equal", vec![name("column"), name("categories")], name("hit"), vec![]),
			standard(
				"Cast",
				vec![name("hit")],
				output.clone(),
				vec![int_attribute("to", DataType::Float as i64)],
			),
		];
		Ok((nodes, initializers))
	})
}

/// Writes each `ReduceLogSumExp` as onnxruntime computes it, `m + log(sum(exp(x - m)))` with `m` the
/// maximum over the reduced axes (0 where that is not finite), instead of tract's `log(sum(exp(x)))`:
/// that overflows to infinity once a value passes about 88 in f32 and gives `-inf` once all fall below
/// about -104, where the log-likelihoods of a naive Bayes model on unscaled features already are. The
/// node's own `ReduceLogSumExp` then only sees values ≤ 0 with one 0 in each reduction.
fn stable_log_sum_exp(graph: &mut GraphProto) -> Result<bool, EvalError> {
	rewrite_nodes(graph, is_standard, "ReduceLogSumExp", |i, node, x, y| {
		let (x, y) = (x.clone(), y.clone());
		let name = |what: &str| format!("modelchain_log_sum_exp_{i}_{what}");
		let standard = |op: &str, inputs: Vec<String>, output: String, attribute| {
			standard_node(op, name(&output), inputs, output, attribute)
		};
		// The node's inputs after `x` (its axes, from opset 18).
		let axes = &node.input[1..];
		let with_x = |x: String| [x].into_iter().chain(axes.iter().cloned()).collect::<Vec<_>>();
		let mut kept_dims: Vec<_> =
			node.attribute.iter().filter(|a| a.name != "keepdims").cloned().collect();
		kept_dims.push(int_attribute("keepdims", 1));
		let mut nodes =
			vec![standard("CastLike", vec![name("zero_f32"), x.clone()], name("zero"), vec![])];
		// The maximum with its reduced axes kept (subtracted from `x`) and shaped as the node's output
		// (added to the result), each 0 where it is not finite (`m - m` is NaN there).
		for (what, attributes) in [("kept", kept_dims), ("out", node.attribute.clone())] {
			let max = name(&format!("max_{what}"));
			let gap = name(&format!("gap_{what}"));
			let finite = name(&format!("finite_{what}"));
			nodes.extend([
				standard("ReduceMax", with_x(x.clone()), max.clone(), attributes),
				standard("Sub", vec![max.clone(), max.clone()], gap.clone(), vec![]),
				standard("Equal", vec![gap, name("zero")], finite.clone(), vec![]),
				standard(
					"Where",
					vec![finite, max, name("zero")],
					name(&format!("shift_{what}")),
					vec![],
				),
			]);
		}
		nodes.extend([
			standard("Sub", vec![x.clone(), name("shift_kept")], name("shifted"), vec![]),
			NodeProto {
				input: with_x(name("shifted")),
				output: vec![name("shifted_sum")],
				name: name("shifted_sum"),
				..node.clone()
			},
			standard("Add", vec![name("shifted_sum"), name("shift_out")], y, vec![]),
		]);
		Ok((nodes, vec![floats_initializer(name("zero_f32"), vec![0.0])]))
	})
}

/// Most inputs a `Concat` keeps; a wider one is written as a tree of `Concat`s of at most this many.
pub(crate) const MAX_CONCAT_INPUTS: usize = 32;

/// Writes each `Concat` of more than [`MAX_CONCAT_INPUTS`] inputs as a tree of `Concat`s of at most that
/// many, on the same axis: the same values in the same order. tract's optimiser orders the graph again
/// after each rewrite it applies, and reads a node's inputs from the first one for each input it
/// follows, so a `Concat` of k inputs costs k² per rewrite. scikit-learn's `PolynomialFeatures` of 64
/// features concatenates 2,145 columns (4,293 nodes, each rewritten), which took 32–41 s to evaluate
/// against onnxruntime's 0.2 s; as a tree of 32-input `Concat`s, 0.83 s (BENCHMARKS.md).
fn split_wide_concats(graph: &mut GraphProto) -> Result<bool, EvalError> {
	rewrite_nodes(graph, is_standard, "Concat", |i, node, _, _| {
		let mut nodes = Vec::new();
		let mut inputs = node.input.clone();
		let mut level = 0;
		while inputs.len() > MAX_CONCAT_INPUTS {
			inputs = inputs
				.chunks(MAX_CONCAT_INPUTS)
				.enumerate()
				.map(|(chunk, part)| {
					let name = format!("modelchain_concat_{i}_{level}_{chunk}");
					nodes.push(NodeProto {
						input: part.to_vec(),
						output: vec![name.clone()],
						name: name.clone(),
						..node.clone()
					});
					name
				})
				.collect();
			level += 1;
		}
		nodes.push(NodeProto { input: inputs, ..node.clone() });
		Ok((nodes, Vec::new()))
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	fn concat(inputs: usize, output: &str) -> NodeProto {
		NodeProto {
			op_type: "Concat".into(),
			input: (0..inputs).map(|i| format!("x{i}")).collect(),
			output: vec![output.into()],
			name: output.into(),
			attribute: vec![int_attribute("axis", 1)],
			..Default::default()
		}
	}

	/// The graph's inputs of `output`, read through the `Concat`s that compute it, in order.
	fn leaves(graph: &GraphProto, output: &str) -> Vec<String> {
		match graph.node.iter().find(|n| n.output.first().map(String::as_str) == Some(output)) {
			Some(node) => node.input.iter().flat_map(|input| leaves(graph, input)).collect(),
			None => vec![output.into()],
		}
	}

	#[test]
	fn a_wide_concat_becomes_a_tree_of_the_same_inputs_in_order() {
		for (width, nodes) in
			[(1, 1), (MAX_CONCAT_INPUTS, 1), (MAX_CONCAT_INPUTS + 1, 3), (2_145, 68 + 3 + 1)]
		{
			let mut graph =
				GraphProto { node: vec![concat(width, "y"), concat(3, "z")], ..Default::default() };
			split_wide_concats(&mut graph).unwrap();
			assert_eq!(graph.node.len(), nodes + 1, "{width} inputs");
			let expected: Vec<String> = (0..width).map(|i| format!("x{i}")).collect();
			assert_eq!(leaves(&graph, "y"), expected, "{width} inputs");
			for node in &graph.node {
				assert!(node.input.len() <= MAX_CONCAT_INPUTS, "{width} inputs: {node:?}");
				assert_eq!(node.attribute, vec![int_attribute("axis", 1)]);
				assert_eq!(node.op_type, "Concat");
			}
			// Every node's output is its own, and `y` is still computed by exactly one.
			let mut outputs: Vec<_> = graph.node.iter().map(|n| n.output[0].clone()).collect();
			outputs.sort();
			outputs.dedup();
			assert_eq!(outputs.len(), graph.node.len());
			assert_eq!(graph.node.iter().filter(|n| n.output == ["y"]).count(), 1);
		}
	}
}
