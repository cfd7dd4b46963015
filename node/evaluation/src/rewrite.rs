//! Operators tract lacks or computes differently from onnxruntime, written as the standard ONNX
//! operators they amount to before tract reads the graph: the ONNX-ML `Scaler`, `Imputer`, `Binarizer`
//! and `OneHotEncoder` (which scikit-learn pipelines export), and `ReduceLogSumExp`, which tract computes
//! as `log(sum(exp(x)))` and so overflows where onnxruntime does not. And a `Concat` of many inputs, which
//! tract's optimiser takes time quadratic in its inputs to read, as a tree of narrower ones; and a
//! `QuantizeLinear` read only by `DequantizeLinear`s as the float arithmetic it amounts to; onnxruntime's
//! own quantized operators (`com.microsoft` `QGemm`, `QLinearSoftmax`, …) as the integer and float
//! arithmetic they compute; and the scaling and bias of a `Gemm` as operators of the `Gemm`'s own float
//! type; and opset 23's `Attention` as the products, masks and softmax it is defined by; and a list a
//! `Loop` appends to as a scan output (`loops::scanned_sequences`).

use tract_onnx::pb::{
	attribute_proto, tensor_proto::DataType, AttributeProto, GraphProto, NodeProto, TensorProto,
};

use crate::{
	attribute, constant_tensor, is_ml, is_standard, producer, read_by, subgraphs, EvalError,
};

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
	let labels = label_encoders(graph, opset.unwrap_or(OPSET))?;
	stable_log_sum_exp(graph)?;
	split_wide_concats(graph)?;
	microsoft_quantized(graph, opset)?;
	fake_quantization(graph, opset);
	gemm_scaling_in_any_float(graph, opset)?;
	attention(graph)?;
	crate::loops::scanned_sequences(graph);
	Ok(scalers || imputers || binarizers || encoders || labels)
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

/// The keys, values or default of a `LabelEncoder` as a tensor: its `…_tensor` attribute (ai.onnx.ml
/// opset 4), else its list of int64s or floats. `None` when the node has none of them; strings are an
/// unsupported operator.
fn label_encoder_tensor(
	node: &NodeProto,
	what: &str,
	name: String,
) -> Result<Option<TensorProto>, EvalError> {
	if let Some(tensor) = attribute(node, &format!("{what}_tensor")).and_then(|a| a.t.clone()) {
		if tensor.data_type == DataType::String as i32 {
			return Err(EvalError::UnsupportedOperator(format!(
				"LabelEncoder `{}`: string {what}",
				node.name
			)));
		}
		return Ok(Some(TensorProto { name, ..tensor }));
	}
	let list = |suffix: &str| attribute(node, &format!("{what}_{suffix}"));
	if list("strings").is_some_and(|a| !a.strings.is_empty()) {
		return Err(EvalError::UnsupportedOperator(format!(
			"LabelEncoder `{}`: string {what}",
			node.name
		)));
	}
	Ok(if let Some(a) = list("int64s").filter(|a| !a.ints.is_empty()) {
		Some(TensorProto {
			name,
			dims: vec![a.ints.len() as i64],
			data_type: DataType::Int64 as i32,
			int64_data: a.ints.clone(),
			..Default::default()
		})
	} else {
		list("floats")
			.filter(|a| !a.floats.is_empty())
			.map(|a| floats_initializer(name, a.floats.clone()))
	})
}

/// The numbers of an int64 or f32 tensor, as bit patterns that are equal exactly when the numbers
/// compare equal (`-0.0` as `0.0`); `None` for other types.
fn number_bits(tensor: &TensorProto) -> Option<Vec<u64>> {
	let raw = &tensor.raw_data;
	let words = |size: usize| {
		raw.chunks_exact(size).map(move |bytes| {
			let mut word = [0u8; 8];
			word[..size].copy_from_slice(bytes);
			u64::from_le_bytes(word)
		})
	};
	match DataType::try_from(tensor.data_type).ok()? {
		DataType::Int64 if raw.is_empty() => {
			Some(tensor.int64_data.iter().map(|&v| v as u64).collect())
		},
		DataType::Int64 => Some(words(8).collect()),
		DataType::Float => {
			let floats: Vec<f32> = if raw.is_empty() {
				tensor.float_data.clone()
			} else {
				words(4).map(|word| f32::from_bits(word as u32)).collect()
			};
			Some(floats.iter().map(|&f| if f == 0.0 { 0 } else { f.to_bits() as u64 }).collect())
		},
		_ => None,
	}
}

/// Writes each ONNX-ML `LabelEncoder` of numbers (scikit-learn's `OrdinalEncoder` and `LabelEncoder`
/// export it: each input equal to a key becomes that key's value, any other the default) as the standard
/// `Unsqueeze`, `Equal` with every key, `Where` picking the values of the hits, `ReduceSum` (one hit at
/// most: keys are distinct) and `Where` for the default where none hit: exact in the values' own type.
/// Keys and values are `int64` or `f32` lists or (ai.onnx.ml opset 4) tensors; string keys or values are
/// an unsupported operator (golden inputs are numbers), repeated keys and a count of keys unlike the
/// count of values are malformed. `opset` is the model's standard opset, which decides how `Unsqueeze`
/// and `ReduceSum` take their axes.
fn label_encoders(graph: &mut GraphProto, opset: i64) -> Result<bool, EvalError> {
	rewrite_nodes(graph, is_ml, "LabelEncoder", |i, node, input, output| {
		let name = |what: &str| format!("modelchain_label_encoder_{i}_{what}");
		let malformed =
			|why: String| EvalError::MalformedModel(format!("LabelEncoder `{}`: {why}", node.name));
		let keys = label_encoder_tensor(node, "keys", name("keys"))?
			.ok_or_else(|| malformed("no keys".into()))?;
		let values = label_encoder_tensor(node, "values", name("values"))?
			.ok_or_else(|| malformed("no values".into()))?;
		let (Some(key_bits), Some(value_bits)) = (number_bits(&keys), number_bits(&values)) else {
			return Err(EvalError::UnsupportedOperator(format!(
				"LabelEncoder `{}`: keys or values other than int64 or float",
				node.name
			)));
		};
		if key_bits.len() != value_bits.len() || keys.dims.len() != 1 || values.dims.len() != 1 {
			return Err(malformed(format!(
				"{} keys for {} values",
				key_bits.len(),
				value_bits.len()
			)));
		}
		let mut sorted = key_bits.clone();
		sorted.sort_unstable();
		if sorted.windows(2).any(|pair| pair[0] == pair[1]) {
			return Err(malformed("a key is listed twice".into()));
		}
		// The default: `default_tensor`, else `default_int64` (-1) or `default_float` (-0.0) by the
		// values' type.
		let default = match attribute(node, "default_tensor").and_then(|a| a.t.clone()) {
			Some(tensor) if tensor.data_type == values.data_type => {
				TensorProto { name: name("default"), dims: vec![], ..tensor }
			},
			Some(_) => return Err(malformed("a default of another type than the values".into())),
			None if values.data_type == DataType::Int64 as i32 => TensorProto {
				name: name("default"),
				data_type: DataType::Int64 as i32,
				int64_data: vec![attribute(node, "default_int64").map_or(-1, |a| a.i)],
				..Default::default()
			},
			None => float_scalar(
				name("default"),
				attribute(node, "default_float").map_or(-0.0, |a| a.f),
			),
		};
		let zero = TensorProto {
			name: name("zero"),
			data_type: values.data_type,
			int64_data: if values.data_type == DataType::Int64 as i32 { vec![0] } else { vec![] },
			float_data: if values.data_type == DataType::Float as i32 { vec![0.0] } else { vec![] },
			..Default::default()
		};
		let last_axis = TensorProto {
			name: name("last_axis"),
			dims: vec![1],
			data_type: DataType::Int64 as i32,
			int64_data: vec![-1],
			..Default::default()
		};
		let axes = AttributeProto {
			name: "axes".into(),
			r#type: attribute_proto::AttributeType::Ints as i32,
			ints: vec![-1],
			..Default::default()
		};
		let standard = |op: &str, inputs: Vec<String>, output: String, attribute| {
			standard_node(op, name(&output), inputs, output, attribute)
		};
		// `Unsqueeze` and `ReduceSum` take their axes as an input from opset 13, before as an attribute.
		let along_last = |op: &str, input: String, output: String, mut attributes: Vec<_>| {
			if opset >= 13 {
				standard(op, vec![input, name("last_axis")], output, attributes)
			} else {
				attributes.push(axes.clone());
				standard(op, vec![input], output, attributes)
			}
		};
		let kept = || vec![int_attribute("keepdims", 0)];
		let to = |data_type: DataType| vec![int_attribute("to", data_type as i64)];
		let nodes = vec![
			along_last("Unsqueeze", input.clone(), name("column"), vec![]),
			standard("Equal", vec![name("column"), name("keys")], name("hit"), vec![]),
			standard(
				"Where",
				vec![name("hit"), name("values"), name("zero")],
				name("picked"),
				vec![],
			),
			along_last("ReduceSum", name("picked"), name("mapped"), kept()),
			standard("Cast", vec![name("hit")], name("hits"), to(DataType::Int64)),
			along_last("ReduceSum", name("hits"), name("count"), kept()),
			standard("Cast", vec![name("count")], name("found"), to(DataType::Bool)),
			standard(
				"Where",
				vec![name("found"), name("mapped"), name("default")],
				output.clone(),
				vec![],
			),
		];
		Ok((nodes, vec![keys, values, default, zero, last_axis]))
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

/// Writes the scaling and bias of each `Gemm` (`Y = alpha·A'B' + beta·C`) after a `Gemm` of `A` and `B`
/// alone, as `Mul` by `alpha` and `Add` of `C` (times `beta`), with `alpha` and `beta` cast like the
/// values they scale. tract scales with f32 constants, so in a float16 model the `Gemm`'s output became
/// f32 against its inputs' type, and every such model (a `torch.nn.Linear` exported in half precision,
/// say) was a shape mismatch. In f32 the values are the same: tract computed `beta·C`
/// even for `beta` = 1, and `1·C` is `C`. A `Gemm` with `alpha` or `beta` other than 1 needs `CastLike`
/// (opset 15) and is left alone below it, as is one whose `alpha` or `beta` is not a float (tract
/// reports it). Returns whether a `Gemm` was written.
fn gemm_scaling_in_any_float(
	graph: &mut GraphProto,
	opset: Option<i64>,
) -> Result<bool, EvalError> {
	let cast_like = opset.is_some_and(|opset| opset >= 15);
	let scale = |node: &NodeProto, name: &str| match attribute(node, name) {
		None => Some(1.0),
		Some(a) => (a.r#type == attribute_proto::AttributeType::Float as i32).then_some(a.f),
	};
	let written = |node: &NodeProto| {
		let (Some(alpha), Some(beta)) = (scale(node, "alpha"), scale(node, "beta")) else {
			return false;
		};
		let bias = node.input.get(2).is_some_and(|c| !c.is_empty()) && beta != 0.0;
		node.input.len() >= 2
			&& (bias || alpha != 1.0)
			&& (cast_like || (alpha == 1.0 && (beta == 1.0 || !bias)))
	};
	if !graph.node.iter().any(|n| is_standard(n) && n.op_type == "Gemm" && written(n)) {
		return Ok(false);
	}
	rewrite_nodes(graph, is_standard, "Gemm", |i, node, _, y| {
		if !written(node) {
			return Ok((vec![node.clone()], Vec::new()));
		}
		let name = |what: &str| format!("modelchain_gemm_{i}_{what}");
		let standard = |op: &str, inputs: Vec<String>, output: String| {
			standard_node(op, output.clone(), inputs, output, vec![])
		};
		let (alpha, beta) =
			(scale(node, "alpha").unwrap_or(1.0), scale(node, "beta").unwrap_or(1.0));
		let bias = node.input.get(2).filter(|c| !c.is_empty() && beta != 0.0).cloned();
		let mut nodes = vec![NodeProto {
			input: node.input[..2].to_vec(),
			output: vec![name("product")],
			name: name("product"),
			attribute: node
				.attribute
				.iter()
				.filter(|a| a.name == "transA" || a.name == "transB")
				.cloned()
				.collect(),
			..node.clone()
		}];
		let mut initializers = Vec::new();
		let mut product = name("product");
		// `value` as the type of `like`: the output of `CastLike`.
		let mut scaled = |value: f32, what: &str, like: String, out: String| {
			initializers.push(float_scalar(name(&format!("{what}_f32")), value));
			nodes.extend([
				standard("CastLike", vec![name(&format!("{what}_f32")), like.clone()], name(what)),
				standard("Mul", vec![like, name(what)], out),
			]);
		};
		if alpha != 1.0 {
			let out = if bias.is_some() { name("scaled") } else { y.clone() };
			scaled(alpha, "alpha", product, out.clone());
			product = out;
		}
		if let Some(c) = bias {
			let c = if beta != 1.0 {
				scaled(beta, "beta", c, name("bias"));
				name("bias")
			} else {
				c
			};
			nodes.push(standard("Add", vec![product, c], y.clone()));
		}
		Ok((nodes, initializers))
	})
}

/// A grid of quantized values: the zero point and the saturation bounds of the integer type, as floats.
#[derive(Clone, Copy)]
struct Grid {
	zero: f32,
	min: f32,
	max: f32,
}

/// The one value of a one-element initializer of the 8- and 16-bit integer types a quantized value
/// has, with its type's range; `None` for any other tensor.
fn integer_grid(tensor: &TensorProto) -> Option<Grid> {
	if tensor.dims.iter().product::<i64>() != 1 {
		return None;
	}
	let (min, max) = match DataType::try_from(tensor.data_type).ok()? {
		DataType::Int8 => (i8::MIN as f32, i8::MAX as f32),
		DataType::Uint8 => (0.0, u8::MAX as f32),
		DataType::Int16 => (i16::MIN as f32, i16::MAX as f32),
		DataType::Uint16 => (0.0, u16::MAX as f32),
		_ => return None,
	};
	let zero = match (tensor.raw_data.as_slice(), tensor.int32_data.as_slice()) {
		([], [value]) => *value as f32,
		([b], []) if min < 0.0 => *b as i8 as f32,
		([b], []) => *b as f32,
		([lo, hi], []) if min < 0.0 => i16::from_le_bytes([*lo, *hi]) as f32,
		([lo, hi], []) => u16::from_le_bytes([*lo, *hi]) as f32,
		_ => return None,
	};
	(min..=max).contains(&zero).then_some(Grid { zero, min, max })
}

/// Whether `tensor` is a one-element f32 initializer (a per-tensor scale).
fn is_float_scalar(tensor: &TensorProto) -> bool {
	tensor.dims.iter().product::<i64>() == 1
		&& tensor.data_type == DataType::Float as i32
		&& (tensor.float_data.len() + tensor.raw_data.len() / 4) == 1
}

/// A rank-0 f32 initializer.
fn float_scalar(name: String, value: f32) -> TensorProto {
	TensorProto { dims: vec![], ..floats_initializer(name, vec![value]) }
}

/// Writes each `QuantizeLinear` read only by `DequantizeLinear`s (the QDQ format of onnxruntime's
/// quantizer and of quantization-aware training exports: a float value rounded to the grid of a scale
/// and zero point, saturated to the integer type, and back) as the float arithmetic the ONNX
/// specification defines for them, exactly (such integers are exact in f32): `Div` by the scale, `Round`
/// (half to even), `Add` the zero point, saturate (`Max`, `Min`), then for each `DequantizeLinear` `Sub`
/// its zero point and `Mul` by its scale. tract would fuse a `DequantizeLinear`, the operators after it
/// and such a `QuantizeLinear` into a lookup table of single values, which is wrong when an operator
/// between them maps its axes one to one without being element-wise: after a `Softmax` every class of a
/// quantized classifier scored 1.0. Only per-tensor parameters given as initializers, 8- and 16-bit
/// integer types and opsets from 11 (`Round`) are written; anything else is left to tract. Returns
/// whether a pair was written.
fn fake_quantization(graph: &mut GraphProto, opset: Option<i64>) -> bool {
	if opset.is_none_or(|opset| opset < 11) {
		return false;
	}
	let initializer = |name: Option<&String>| {
		name.filter(|n| !n.is_empty()).and_then(|n| graph.initializer.iter().find(|t| t.name == *n))
	};
	// A missing zero point is a uint8 0.
	let grid = |zero: Option<&String>| match zero.filter(|n| !n.is_empty()) {
		None => Some(Grid { zero: 0.0, min: 0.0, max: u8::MAX as f32 }),
		Some(_) => initializer(zero).and_then(integer_grid),
	};
	let per_tensor = |node: &NodeProto| {
		node.input.first().is_some_and(|x| !x.is_empty())
			&& node.output.first().is_some_and(|y| !y.is_empty())
			&& initializer(node.input.get(1)).is_some_and(is_float_scalar)
			&& grid(node.input.get(2)).is_some()
			&& !node.attribute.iter().any(|a| a.name == "block_size" || a.name == "output_dtype")
	};
	let mut read_in_subgraphs = std::collections::BTreeSet::new();
	for node in &graph.node {
		subgraphs(node).for_each(|subgraph| read_by(subgraph, &mut read_in_subgraphs));
	}
	// The outputs of the `QuantizeLinear`s to write, with their grids.
	let mut quantized = std::collections::BTreeMap::new();
	for node in graph.node.iter().filter(|n| is_standard(n) && n.op_type == "QuantizeLinear") {
		if !per_tensor(node) {
			continue;
		}
		let y = &node.output[0];
		let only_dequantized = graph.node.iter().filter(|n| n.input.contains(y)).all(|reader| {
			is_standard(reader)
				&& reader.op_type == "DequantizeLinear"
				&& per_tensor(reader)
				&& reader.input[0] == *y
				&& !reader.input[1..].contains(y)
		});
		if only_dequantized
			&& !read_in_subgraphs.contains(y)
			&& !graph.output.iter().any(|o| o.name == *y)
		{
			quantized.insert(y.clone(), grid(node.input.get(2)).expect("checked by per_tensor"));
		}
	}
	if quantized.is_empty() {
		return false;
	}
	let mut nodes = Vec::with_capacity(graph.node.len());
	let mut initializers = Vec::new();
	for (i, node) in core::mem::take(&mut graph.node).into_iter().enumerate() {
		let name = |what: &str| format!("modelchain_fake_quantization_{i}_{what}");
		let standard = |op: &str, inputs: Vec<String>, output: String| {
			standard_node(op, output.clone(), inputs, output, vec![])
		};
		let (x, y) = (node.input.first().cloned(), node.output.first().cloned());
		let (Some(x), Some(y)) = (x, y) else {
			nodes.push(node);
			continue;
		};
		if node.op_type == "QuantizeLinear" && quantized.contains_key(&y) {
			let grid = quantized[&y];
			initializers.extend([
				float_scalar(name("zero"), grid.zero),
				float_scalar(name("min"), grid.min),
				float_scalar(name("max"), grid.max),
			]);
			nodes.extend([
				standard("Div", vec![x, node.input[1].clone()], name("scaled")),
				standard("Round", vec![name("scaled")], name("rounded")),
				standard("Add", vec![name("rounded"), name("zero")], name("shifted")),
				standard("Max", vec![name("shifted"), name("min")], name("floor")),
				standard("Min", vec![name("floor"), name("max")], y),
			]);
		} else if node.op_type == "DequantizeLinear" && quantized.contains_key(&x) {
			let grid = grid(node.input.get(2)).expect("checked by per_tensor");
			initializers.push(float_scalar(name("zero"), grid.zero));
			nodes.extend([
				standard("Sub", vec![x, name("zero")], name("centred")),
				standard("Mul", vec![name("centred"), node.input[1].clone()], y),
			]);
		} else {
			nodes.push(node);
		}
	}
	graph.node = nodes;
	graph.initializer.extend(initializers);
	true
}

/// onnxruntime's quantized operators outside ONNX (domain `com.microsoft`) that its quantizer writes in
/// the QOperator format, next to the standard `QLinearConv` and `QLinearMatMul` tract runs.
pub(crate) const MICROSOFT_QUANTIZED: [&str; 9] = [
	"QGemm",
	"QLinearSoftmax",
	"QLinearAdd",
	"QLinearMul",
	"QLinearSigmoid",
	"QLinearLeakyRelu",
	"QLinearGlobalAveragePool",
	"QLinearAveragePool",
	"QLinearConcat",
];

/// Whether `node` is one of onnxruntime's quantized operators this module writes in standard form.
pub(crate) fn is_microsoft_quantized(node: &NodeProto, op: &str) -> bool {
	node.domain == "com.microsoft" && node.op_type == op
}

/// The nodes one quantized operator is written as, named after it.
struct Quantized<'a> {
	prefix: String,
	/// The zero points the graph's initializers give: grid and integer type, by name.
	zero_points: &'a std::collections::BTreeMap<String, (Grid, i32)>,
	nodes: Vec<NodeProto>,
	initializers: Vec<TensorProto>,
}

impl Quantized<'_> {
	fn name(&self, what: &str) -> String {
		format!("{}_{what}", self.prefix)
	}

	fn push(
		&mut self,
		op: &str,
		inputs: Vec<String>,
		output: String,
		attributes: Vec<AttributeProto>,
	) {
		self.nodes.push(standard_node(op, output.clone(), inputs, output, attributes));
	}

	/// The grid and integer type of a zero point: a one-value initializer, or uint8 0 when absent (as
	/// ONNX's `QuantizeLinear` defaults).
	fn zero_point(&self, op: &str, zero: Option<&String>) -> Result<(Grid, i32), EvalError> {
		match zero.filter(|z| !z.is_empty()) {
			None => Ok((Grid { zero: 0.0, min: 0.0, max: u8::MAX as f32 }, DataType::Uint8 as i32)),
			Some(z) => self.zero_points.get(z).copied().ok_or_else(|| {
				EvalError::UnsupportedOperator(format!(
					"{op} with zero point `{z}` other than one 8- or 16-bit integer initializer"
				))
			}),
		}
	}

	/// `(x - zero) * scale` in f32, as `DequantizeLinear` defines it (exact for these integers).
	fn dequantize(
		&mut self,
		op: &str,
		what: &str,
		x: &str,
		scale: &str,
		zero: Option<&String>,
	) -> Result<String, EvalError> {
		let (grid, _) = self.zero_point(op, zero)?;
		let zero = self.name(&format!("{what}_zero"));
		self.initializers.push(float_scalar(zero.clone(), grid.zero));
		let float = self.name(&format!("{what}_float"));
		let cast = vec![int_attribute("to", DataType::Float as i64)];
		self.push("Cast", vec![x.into()], float.clone(), cast);
		self.push("Sub", vec![float, zero], self.name(&format!("{what}_centred")), vec![]);
		let value = self.name(what);
		let centred = self.name(&format!("{what}_centred"));
		self.push("Mul", vec![centred, scale.into()], value.clone(), vec![]);
		Ok(value)
	}

	/// `saturate(round(x / scale) + zero)` as the zero point's integer type, as `QuantizeLinear` defines
	/// it (`Round` is half to even), into `y`.
	fn quantize(
		&mut self,
		op: &str,
		x: String,
		scale: &str,
		zero: Option<&String>,
		y: &str,
	) -> Result<(), EvalError> {
		let (grid, integer) = self.zero_point(op, zero)?;
		for (what, value) in [("out_zero", grid.zero), ("out_min", grid.min), ("out_max", grid.max)]
		{
			self.initializers.push(float_scalar(self.name(what), value));
		}
		let steps = [
			("Div", vec![x, scale.into()], "scaled"),
			("Round", vec![self.name("scaled")], "rounded"),
			("Add", vec![self.name("rounded"), self.name("out_zero")], "shifted"),
			("Max", vec![self.name("shifted"), self.name("out_min")], "floor"),
			("Min", vec![self.name("floor"), self.name("out_max")], "saturated"),
		];
		for (op, inputs, output) in steps {
			self.push(op, inputs, self.name(output), vec![]);
		}
		let cast = vec![int_attribute("to", integer as i64)];
		self.push("Cast", vec![self.name("saturated")], y.into(), cast);
		Ok(())
	}
}

/// Writes onnxruntime's quantized operators of the QOperator format that ONNX lacks ([`MICROSOFT_QUANTIZED`],
/// domain `com.microsoft`) as what they compute: each quantized input dequantized (`Cast`, `Sub` the zero
/// point, `Mul` by the scale), the float operator, and the result quantized (`Div`, `Round`, `Add` the zero
/// point, saturate, `Cast` to the integer type). `QGemm` multiplies in integers as onnxruntime does
/// (`MatMulInteger` of the transposed operands with their zero points, plus the int32 bias), then scales
/// by `alpha`, `a_scale` and `b_scale` (per column too). Zero points must be one-value initializers; a
/// channels-last pooling is left unsupported, as is everything below opset 13 (`Softmax` over one axis).
/// Returns whether one was written.
fn microsoft_quantized(graph: &mut GraphProto, opset: Option<i64>) -> Result<bool, EvalError> {
	let found = |graph: &GraphProto| {
		graph
			.node
			.iter()
			.any(|n| MICROSOFT_QUANTIZED.iter().any(|op| is_microsoft_quantized(n, op)))
	};
	if opset.is_none_or(|opset| opset < 13) || !found(graph) {
		return Ok(false);
	}
	let zero_points: std::collections::BTreeMap<String, (Grid, i32)> = graph
		.initializer
		.iter()
		.filter_map(|t| integer_grid(t).map(|grid| (t.name.clone(), (grid, t.data_type))))
		.collect();
	let mut nodes = Vec::with_capacity(graph.node.len());
	let mut initializers = Vec::new();
	for (i, node) in core::mem::take(&mut graph.node).into_iter().enumerate() {
		let Some(op) = MICROSOFT_QUANTIZED.iter().find(|op| is_microsoft_quantized(&node, op))
		else {
			nodes.push(node);
			continue;
		};
		let mut q = Quantized {
			prefix: format!("modelchain_{}_{i}", op.to_lowercase()),
			zero_points: &zero_points,
			nodes: Vec::new(),
			initializers: Vec::new(),
		};
		write_microsoft_quantized(&mut q, op, &node)?;
		nodes.extend(q.nodes);
		initializers.extend(q.initializers);
	}
	graph.node = nodes;
	graph.initializer.extend(initializers);
	Ok(true)
}

/// The standard nodes of one of [`MICROSOFT_QUANTIZED`], into `q`.
fn write_microsoft_quantized(
	q: &mut Quantized,
	op: &str,
	node: &NodeProto,
) -> Result<(), EvalError> {
	let input = |index: usize| node.input.get(index).filter(|name| !name.is_empty());
	let required = |index: usize| {
		input(index).ok_or_else(|| {
			EvalError::MalformedModel(format!("{op} `{}`: no input {index}", node.name))
		})
	};
	let y = node
		.output
		.first()
		.filter(|y| !y.is_empty())
		.ok_or_else(|| EvalError::MalformedModel(format!("{op} `{}`: no output", node.name)))?;
	let int = |name: &str, default: i64| attribute(node, name).map_or(default, |a| a.i);
	let float = |name: &str, default: f32| attribute(node, name).map_or(default, |a| a.f);
	if int("channels_last", 0) != 0 {
		return Err(EvalError::UnsupportedOperator(format!("{op} with channels_last")));
	}
	// A float operator of the dequantized inputs `(x, scale, zero)` at these input positions, quantized
	// by the scale and zero point at `out`.
	let mut unary_or_binary = |float_op: &str,
	                           operands: &[usize],
	                           out: usize,
	                           attributes: Vec<AttributeProto>|
	 -> Result<(), EvalError> {
		let mut values = Vec::new();
		for (k, &at) in operands.iter().enumerate() {
			let x = required(at)?;
			let scale = required(at + 1)?;
			values.push(q.dequantize(op, &format!("x{k}"), x, scale, input(at + 2))?);
		}
		let result = q.name("result");
		q.push(float_op, values, result.clone(), attributes);
		q.quantize(op, result, required(out)?, input(out + 1), y)
	};
	match op {
		"QLinearAdd" => unary_or_binary("Add", &[0, 3], 6, vec![]),
		"QLinearMul" => unary_or_binary("Mul", &[0, 3], 6, vec![]),
		"QLinearSigmoid" => unary_or_binary("Sigmoid", &[0], 3, vec![]),
		"QLinearLeakyRelu" => {
			let alpha = float_attribute("alpha", float("alpha", 0.01));
			unary_or_binary("LeakyRelu", &[0], 3, vec![alpha])
		},
		"QLinearGlobalAveragePool" => unary_or_binary("GlobalAveragePool", &[0], 3, vec![]),
		"QLinearAveragePool" => {
			let pooling = node.attribute.iter().filter(|a| a.name != "channels_last").cloned();
			unary_or_binary("AveragePool", &[0], 3, pooling.collect())
		},
		"QLinearSoftmax" => {
			// Its `opset` attribute says which `Softmax` it is: before 13, over the input flattened
			// to two dimensions at `axis` (default 1); from 13, over `axis` alone (default -1).
			let old = int("opset", 13) < 13;
			let axis = int("axis", if old { 1 } else { -1 });
			let x = q.dequantize(op, "x0", required(0)?, required(1)?, input(2))?;
			let result = q.name("result");
			if old {
				let (shape, flat, soft) = (q.name("shape"), q.name("flat"), q.name("soft"));
				q.push("Shape", vec![x.clone()], shape.clone(), vec![]);
				q.push("Flatten", vec![x], flat.clone(), vec![int_attribute("axis", axis)]);
				q.push("Softmax", vec![flat], soft.clone(), vec![int_attribute("axis", -1)]);
				q.push("Reshape", vec![soft, shape], result.clone(), vec![]);
			} else {
				q.push("Softmax", vec![x], result.clone(), vec![int_attribute("axis", axis)]);
			}
			q.quantize(op, result, required(3)?, input(4), y)
		},
		"QLinearConcat" => {
			// Y_scale, Y_zero_point, then (X, scale, zero point) for each input.
			let mut values = Vec::new();
			for (k, at) in (2..node.input.len()).step_by(3).enumerate() {
				let x = required(at)?;
				let scale = required(at + 1)?;
				values.push(q.dequantize(op, &format!("x{k}"), x, scale, input(at + 2))?);
			}
			let result = q.name("result");
			q.push("Concat", values, result.clone(), vec![int_attribute("axis", int("axis", 0))]);
			q.quantize(op, result, required(0)?, input(1), y)
		},
		"QGemm" => {
			// A, a_scale, a_zero_point, B, b_scale, b_zero_point, C (int32, scale a_scale·b_scale),
			// y_scale, y_zero_point; without y_scale the output is the float result.
			let mut operand =
				|index: usize, transposed: bool, what: &str| -> Result<String, EvalError> {
					let x = required(index)?.clone();
					if !transposed {
						return Ok(x);
					}
					let out = q.name(what);
					q.push("Transpose", vec![x], out.clone(), vec![]);
					Ok(out)
				};
			let a = operand(0, int("transA", 0) != 0, "a")?;
			let b = operand(3, int("transB", 0) != 0, "b")?;
			let zero = |index: usize| input(index).cloned().unwrap_or_default();
			let mut product = q.name("product");
			q.push("MatMulInteger", vec![a, b, zero(2), zero(5)], product.clone(), vec![]);
			if let Some(c) = input(6) {
				let biased = q.name("biased");
				q.push("Add", vec![product, c.clone()], biased.clone(), vec![]);
				product = biased;
			}
			let product_f32 = q.name("float");
			let to_float = vec![int_attribute("to", DataType::Float as i64)];
			q.push("Cast", vec![product], product_f32.clone(), to_float);
			let scale = q.name("scale");
			q.push("Mul", vec![required(1)?.clone(), required(4)?.clone()], scale.clone(), vec![]);
			let alpha = float("alpha", 1.0);
			let scale = if alpha != 1.0 {
				q.initializers.push(float_scalar(q.name("alpha"), alpha));
				let scaled = q.name("alpha_scale");
				q.push("Mul", vec![scale, q.name("alpha")], scaled.clone(), vec![]);
				scaled
			} else {
				scale
			};
			match input(7) {
				Some(y_scale) => {
					let result = q.name("result");
					q.push("Mul", vec![product_f32, scale], result.clone(), vec![]);
					q.quantize(op, result, y_scale, input(8), y)
				},
				None => {
					q.push("Mul", vec![product_f32, scale], y.clone(), vec![]);
					Ok(())
				},
			}
		},
		_ => Err(EvalError::UnsupportedOperator(op.into())),
	}
}

/// A one-dimensional initializer of int64s.
fn int64s_initializer(name: String, values: Vec<i64>) -> TensorProto {
	TensorProto {
		name,
		dims: vec![values.len() as i64],
		data_type: DataType::Int64 as i32,
		int64_data: values,
		..Default::default()
	}
}

/// The element type of the value `name` computes, when the graph tells it: declared (an input, an
/// output, a `value_info`, as exporters write them), stored (an initializer, a `Constant`), or
/// computed by a comparison or a `Cast`, or passed through by an operator that moves or picks values.
fn element_type(graph: &GraphProto, name: &str, depth: usize) -> Option<i32> {
	if let Some(t) = declared_tensor(graph, name).filter(|t| t.elem_type != 0) {
		return Some(t.elem_type);
	}
	if let Some(t) = constant_tensor(graph, name) {
		return Some(t.data_type);
	}
	let node = producer(graph, name)?;
	match node.op_type.as_str() {
		"Equal" | "Less" | "LessOrEqual" | "Greater" | "GreaterOrEqual" | "Not" | "And" | "Or"
		| "Xor" | "IsNaN" | "IsInf" => Some(DataType::Bool as i32),
		"Cast" => attribute(node, "to").map(|a| a.i as i32),
		"ConstantOfShape" => Some(
			attribute(node, "value")
				.and_then(|a| a.t.as_ref())
				.map_or(DataType::Float as i32, |t| t.data_type),
		),
		// Operators whose output has their first input's type: moving or picking values, and
		// arithmetic (an additive mask made as `(1 - mask) × −10000`).
		"Expand" | "Reshape" | "Unsqueeze" | "Squeeze" | "Identity" | "Transpose" | "Slice"
		| "Gather" | "Tile" | "Concat" | "Flatten" | "Add" | "Sub" | "Mul" | "Div" | "Neg"
		| "Min" | "Max" | "Clip" | "Log" | "Exp" | "Sigmoid" | "Tanh" | "Relu" | "Softmax"
		| "LogSoftmax" | "MatMul" | "Pad" | "Abs"
			if depth < 32 =>
		{
			element_type(graph, node.input.first()?, depth + 1)
		},
		"Where" | "CastLike" if depth < 32 => element_type(graph, node.input.get(1)?, depth + 1),
		_ => None,
	}
}

/// The tensor type a graph input, a `value_info` or a graph output declares for `name`.
fn declared_tensor<'g>(
	graph: &'g GraphProto,
	name: &str,
) -> Option<&'g tract_onnx::pb::type_proto::Tensor> {
	let declared = graph
		.input
		.iter()
		.chain(&graph.value_info)
		.chain(&graph.output)
		.find(|v| v.name == name)?;
	let tract_onnx::pb::type_proto::Value::TensorType(t) =
		declared.r#type.as_ref()?.value.as_ref()?;
	Some(t)
}

/// The dimensions declared for `name` (see `declared_tensor`), `None` for a symbolic one.
fn declared_dims(graph: &GraphProto, name: &str) -> Option<Vec<Option<i64>>> {
	use tract_onnx::pb::tensor_shape_proto::dimension::Value;
	let dims = declared_tensor(graph, name)?.shape.as_ref()?.dim.iter().map(|d| match d.value {
		Some(Value::DimValue(n)) => Some(n),
		_ => None,
	});
	Some(dims.collect())
}

/// Writes each `Attention` (opset 23, as torch's exporter writes `scaled_dot_product_attention` from
/// that opset) as the operators the ONNX specification defines it by: for Q, K, V of shape
/// `[batch, heads, sequence, head size]` (or `[batch, sequence, heads × head size]` with `q_num_heads`
/// and `kv_num_heads`), each key and value head repeated for its group of query heads (grouped-query
/// attention), `softmax(Q·Kᵀ × scale + bias) · V` with `scale` 1/√(head size) unless given, scores
/// capped by `softcap · tanh(scores / softcap)` when `softcap` > 0, and `bias` the attention mask (a
/// bool mask's false positions −∞, a float mask added) plus −∞ above the diagonal when `is_causal`; a
/// query row whose bias is −∞ everywhere gives 0. A key–value cache (`past_key`, `past_value`,
/// `nonpad_kv_seqlen`), a sliding window, and a use of the scores or the present key and value
/// outputs are unsupported operators, named; so is a mask whose type the graph does not tell.
fn attention(graph: &mut GraphProto) -> Result<bool, EvalError> {
	let mut read = std::collections::BTreeSet::new();
	read_by(graph, &mut read);
	read.extend(graph.output.iter().map(|o| o.name.clone()));
	let context = graph.clone();
	rewrite_nodes(graph, is_standard, "Attention", |i, node, q, y| {
		let named = if node.name.is_empty() { String::new() } else { format!(" `{}`", node.name) };
		let unsupported =
			|why: &str| Err(EvalError::UnsupportedOperator(format!("Attention{named}: {why}")));
		let input = |n: usize| node.input.get(n).filter(|name| !name.is_empty()).cloned();
		if (4..node.input.len()).any(|n| input(n).is_some()) {
			return unsupported("a key-value cache (past_key, past_value or nonpad_kv_seqlen)");
		}
		if node.output.iter().skip(1).any(|o| !o.is_empty() && read.contains(o)) {
			return unsupported("its present key and value or its scores are read");
		}
		let int = |name: &str| attribute(node, name).map(|a| a.i);
		let float = |name: &str| attribute(node, name).map(|a| a.f);
		if int("left_window_size").is_some_and(|w| w != -1)
			|| int("right_window_size").is_some_and(|w| w != -1)
		{
			return unsupported("a sliding window");
		}
		let (Some(k), Some(v)) = (input(1), input(2)) else {
			return Err(EvalError::MalformedModel(format!("Attention{named}: no key or value")));
		};
		let mask = input(3);
		let mask_type = match &mask {
			Some(mask) => match element_type(&context, mask, 0) {
				Some(t) => Some(t),
				None => return unsupported("an attention mask of a type the graph does not tell"),
			},
			None => None,
		};

		let name = |what: &str| format!("modelchain_attention_{i}_{what}");
		let mut nodes = Vec::new();
		let mut initializers = Vec::new();
		let mut add =
			|op: &str, inputs: Vec<String>, output: &str, attribute: Vec<AttributeProto>| {
				nodes.push(standard_node(op, name(output), inputs, name(output), attribute));
				name(output)
			};
		let perm = |p: Vec<i64>| {
			vec![AttributeProto {
				name: "perm".into(),
				r#type: attribute_proto::AttributeType::Ints as i32,
				ints: p,
				..Default::default()
			}]
		};
		let shape_of =
			|add: &mut dyn FnMut(&str, Vec<String>, &str, Vec<AttributeProto>) -> String,
			 x: &String,
			 what: &str,
			 start: i64,
			 end: Option<i64>| {
				let mut attributes = vec![int_attribute("start", start)];
				attributes.extend(end.map(|end| int_attribute("end", end)));
				add("Shape", vec![x.clone()], what, attributes)
			};
		// Scalars of Q's type.
		let constant = |initializers: &mut Vec<TensorProto>, what: &str, value: f32| {
			initializers.push(TensorProto {
				name: name(&format!("{what}_f32")),
				data_type: DataType::Float as i32,
				float_data: vec![value],
				..Default::default()
			});
			name(&format!("{what}_f32"))
		};
		let zero_f32 = constant(&mut initializers, "zero", 0.0);
		let zero = add("CastLike", vec![zero_f32, q.clone()], "zero", vec![]);
		let minus_infinity_f32 = constant(&mut initializers, "minus_infinity", f32::NEG_INFINITY);
		let minus_infinity =
			add("CastLike", vec![minus_infinity_f32, q.clone()], "minus_infinity", vec![]);

		// Q, K, V as [batch, heads, sequence, head size].
		let heads = (int("q_num_heads"), int("kv_num_heads"));
		let three_d = heads.0.is_some() || heads.1.is_some();
		let (q4, k4, v4) = if three_d {
			let (Some(q_heads), Some(kv_heads)) = heads else {
				return Err(EvalError::MalformedModel(format!(
					"Attention{named}: q_num_heads without kv_num_heads, or the reverse"
				)));
			};
			initializers.push(int64s_initializer(name("q_heads_shape"), vec![0, 0, q_heads, -1]));
			initializers.push(int64s_initializer(name("kv_heads_shape"), vec![0, 0, kv_heads, -1]));
			let mut split = |x: &String, what: &str, shape: String| {
				let split =
					add("Reshape", vec![x.clone(), shape], &format!("{what}_split"), vec![]);
				add("Transpose", vec![split], &format!("{what}4"), perm(vec![0, 2, 1, 3]))
			};
			(
				split(q, "q", name("q_heads_shape")),
				split(&k, "k", name("kv_heads_shape")),
				split(&v, "v", name("kv_heads_shape")),
			)
		} else {
			(q.clone(), k.clone(), v.clone())
		};
		// Grouped-query attention: each key and value head repeated for its group of query heads,
		// [h0, h0, h1, h1, …]. Skipped where the heads are known to be as many.
		let same_heads = match heads {
			(Some(q_heads), Some(kv_heads)) => q_heads == kv_heads,
			_ => {
				let dim = |x: &String| {
					declared_dims(&context, x).and_then(|d| d.get(1).copied().flatten())
				};
				matches!((dim(q), dim(&k)), (Some(a), Some(b)) if a == b)
			},
		};
		let (k4, v4) = if same_heads {
			(k4, v4)
		} else {
			let q_heads = shape_of(&mut add, &q4, "q_heads", 1, Some(2));
			let kv_heads = shape_of(&mut add, &k4, "kv_heads", 1, Some(2));
			let group = add("Div", vec![q_heads.clone(), kv_heads], "group", vec![]);
			initializers.push(int64s_initializer(name("axis_2"), vec![2]));
			let mut repeat = |x: &String, what: &str| {
				let leading = shape_of(&mut add, x, &format!("{what}_leading"), 0, Some(2));
				let trailing = shape_of(&mut add, x, &format!("{what}_trailing"), 2, None);
				let batch = shape_of(&mut add, x, &format!("{what}_batch"), 0, Some(1));
				let expanded_shape = add(
					"Concat",
					vec![leading, group.clone(), trailing.clone()],
					&format!("{what}_expanded_shape"),
					vec![int_attribute("axis", 0)],
				);
				let merged_shape = add(
					"Concat",
					vec![batch, q_heads.clone(), trailing],
					&format!("{what}_merged_shape"),
					vec![int_attribute("axis", 0)],
				);
				let one_more = add(
					"Unsqueeze",
					vec![x.clone(), name("axis_2")],
					&format!("{what}_one_more"),
					vec![],
				);
				let expanded = add(
					"Expand",
					vec![one_more, expanded_shape],
					&format!("{what}_expanded"),
					vec![],
				);
				add("Reshape", vec![expanded, merged_shape], &format!("{what}_grouped"), vec![])
			};
			(repeat(&k4, "k"), repeat(&v4, "v"))
		};

		// The scores, scaled, capped.
		let scale = match float("scale") {
			Some(scale) => {
				let scale_f32 = constant(&mut initializers, "scale", scale);
				add("CastLike", vec![scale_f32, q.clone()], "scale", vec![])
			},
			None => {
				let head_size = shape_of(&mut add, &q4, "head_size", 3, Some(4));
				let head_size = add(
					"Cast",
					vec![head_size],
					"head_size_float",
					vec![int_attribute("to", DataType::Float as i64)],
				);
				let root = add("Sqrt", vec![head_size], "head_size_root", vec![]);
				let scale = add("Reciprocal", vec![root], "scale_f32", vec![]);
				add("CastLike", vec![scale, q.clone()], "scale", vec![])
			},
		};
		let k_t = add("Transpose", vec![k4], "k_t", perm(vec![0, 1, 3, 2]));
		let product = add("MatMul", vec![q4.clone(), k_t], "product", vec![]);
		let mut scores = add("Mul", vec![product, scale], "scores", vec![]);
		if let Some(cap) = float("softcap").filter(|cap| *cap > 0.0) {
			let cap_f32 = constant(&mut initializers, "softcap", cap);
			let cap = add("CastLike", vec![cap_f32, q.clone()], "softcap", vec![]);
			let ratio = add("Div", vec![scores, cap.clone()], "capped_ratio", vec![]);
			let tanh = add("Tanh", vec![ratio], "capped_tanh", vec![]);
			scores = add("Mul", vec![tanh, cap], "capped", vec![]);
		}

		// The bias: the mask's, and the causal one.
		let mut bias = mask.map(|mask| {
			if mask_type == Some(DataType::Bool as i32) {
				add("Where", vec![mask, zero.clone(), minus_infinity.clone()], "mask_bias", vec![])
			} else {
				mask
			}
		});
		if int("is_causal").unwrap_or(0) != 0 {
			initializers.push(int64s_initializer(name("axis_0"), vec![0]));
			initializers.push(int64s_initializer(name("axis_1"), vec![1]));
			initializers.push(TensorProto {
				name: name("index_0"),
				data_type: DataType::Int64 as i32,
				int64_data: vec![0],
				..Default::default()
			});
			initializers.push(TensorProto {
				name: name("index_1"),
				data_type: DataType::Int64 as i32,
				int64_data: vec![1],
				..Default::default()
			});
			let mut positions = |x: &String, what: &str, axis: &str| {
				let length = shape_of(&mut add, x, &format!("{what}_length"), 2, Some(3));
				let length =
					add("Squeeze", vec![length, name("axis_0")], &format!("{what}_count"), vec![]);
				let range = add(
					"Range",
					vec![name("index_0"), length, name("index_1")],
					&format!("{what}_positions"),
					vec![],
				);
				add("Unsqueeze", vec![range, name(axis)], &format!("{what}_axis"), vec![])
			};
			let queries = positions(&q4, "query", "axis_1");
			let keys = positions(&v4, "key", "axis_0");
			let allowed = add("LessOrEqual", vec![keys, queries], "causal", vec![]);
			let causal = add(
				"Where",
				vec![allowed, zero.clone(), minus_infinity.clone()],
				"causal_bias",
				vec![],
			);
			bias = Some(match bias {
				Some(mask) => add("Add", vec![mask, causal], "bias", vec![]),
				None => causal,
			});
		}
		if let Some(bias) = &bias {
			scores = add("Add", vec![scores, bias.clone()], "biased", vec![]);
		}

		// The softmax, in the precision asked for, and a row with nothing to attend to as 0.
		let softmax_axis = vec![int_attribute("axis", -1)];
		let mut probabilities = match int("softmax_precision") {
			Some(precision) => {
				let wide =
					add("Cast", vec![scores], "wide_scores", vec![int_attribute("to", precision)]);
				let wide = add("Softmax", vec![wide], "wide_probabilities", softmax_axis);
				add("CastLike", vec![wide, q.clone()], "probabilities", vec![])
			},
			None => add("Softmax", vec![scores], "probabilities", softmax_axis),
		};
		if let Some(bias) = bias {
			// A row is masked where no position's bias is above −∞. (Not `ReduceMax(bias) == −∞`:
			// tract's maximum of a row of −∞ is the lowest finite value.)
			initializers.push(int64s_initializer(name("last_axis"), vec![-1]));
			let open = add("Greater", vec![bias, minus_infinity.clone()], "open", vec![]);
			let open = add("CastLike", vec![open, q.clone()], "open_count", vec![]);
			let any = add(
				"ReduceMax",
				vec![open, name("last_axis")],
				"any_open",
				vec![int_attribute("keepdims", 1)],
			);
			let masked = add("Equal", vec![any, zero.clone()], "masked_row", vec![]);
			probabilities =
				add("Where", vec![masked, zero.clone(), probabilities], "attended", vec![]);
		}
		let output = add("MatMul", vec![probabilities, v4], "output4", vec![]);
		if three_d {
			let moved = add("Transpose", vec![output], "output_moved", perm(vec![0, 2, 1, 3]));
			initializers.push(int64s_initializer(name("merge"), vec![0, 0, -1]));
			nodes.push(standard_node(
				"Reshape",
				name("output"),
				vec![moved, name("merge")],
				y.clone(),
				vec![],
			));
		} else {
			nodes.push(standard_node("Identity", name("output"), vec![output], y.clone(), vec![]));
		}
		Ok((nodes, initializers))
	})
}

fn float_attribute(name: &str, value: f32) -> AttributeProto {
	AttributeProto {
		name: name.into(),
		r#type: attribute_proto::AttributeType::Float as i32,
		f: value,
		..Default::default()
	}
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

	/// An `Attention` the rewrite cannot write as its definition is an unsupported operator saying
	/// why (a key-value cache, its scores read, a mask of a type the graph does not tell); a mask's
	/// type is read through the operators that make it.
	#[test]
	fn attention_outside_its_definition_is_named() {
		let block = |inputs: &[&str], outputs: &[&str]| NodeProto {
			op_type: "Attention".into(),
			name: "block".into(),
			input: inputs.iter().map(|i| i.to_string()).collect(),
			output: outputs.iter().map(|o| o.to_string()).collect(),
			..Default::default()
		};
		let rewritten = |nodes: Vec<NodeProto>, output: &str| {
			let mut graph = GraphProto {
				node: nodes,
				output: vec![tract_onnx::pb::ValueInfoProto {
					name: output.into(),
					..Default::default()
				}],
				..Default::default()
			};
			super::attention(&mut graph).map(|_| graph)
		};
		let refused = |result: Result<GraphProto, EvalError>, why: &str| {
			assert!(
				matches!(&result, Err(EvalError::UnsupportedOperator(m))
					if m.contains("Attention `block`") && m.contains(why)),
				"{:?}",
				result.map(|g| g.node.len())
			);
		};
		refused(
			rewritten(vec![block(&["q", "k", "v", "", "past_k", "past_v"], &["y"])], "y"),
			"key-value cache",
		);
		refused(
			rewritten(vec![block(&["q", "k", "v"], &["y", "", "", "scores"])], "scores"),
			"scores are read",
		);
		refused(
			rewritten(
				vec![node("Erf", &["m0"], "mask"), block(&["q", "k", "v", "mask"], &["y"])],
				"y",
			),
			"type the graph does not tell",
		);
		// A bool mask made by a comparison and moved; an additive mask made by arithmetic on a
		// `Cast` to float: the first is made a bias of 0 and −∞ by a `Where`, the second added.
		for (making, bias) in [
			(
				vec![node("Greater", &["m0", "z"], "m1"), node("Unsqueeze", &["m1", "a"], "mask")],
				true,
			),
			(vec![node("Cast", &["m0"], "m1"), node("Mul", &["m1", "big"], "mask")], false),
		] {
			let mut making = making;
			if let Some(cast) = making.iter_mut().find(|n| n.op_type == "Cast") {
				cast.attribute.push(int_attribute("to", DataType::Float as i64));
			}
			making.push(block(&["q", "k", "v", "mask"], &["y"]));
			let graph = rewritten(making, "y").unwrap();
			assert!(graph.node.iter().all(|n| n.op_type != "Attention"));
			let reads_mask = |op: &str| {
				graph
					.node
					.iter()
					.any(|n| n.op_type == op && n.input.first().map(String::as_str) == Some("mask"))
			};
			assert_eq!(reads_mask("Where"), bias);
			assert!(graph.node.iter().any(|n| n.input.iter().any(|i| i == "mask")));
			assert_eq!(graph.node.last().map(|n| n.output[0].as_str()), Some("y"));
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

	fn node(op: &str, input: &[&str], output: &str) -> NodeProto {
		NodeProto {
			op_type: op.into(),
			input: input.iter().map(|i| i.to_string()).collect(),
			output: vec![output.into()],
			..Default::default()
		}
	}

	fn int8(name: &str, value: i8) -> TensorProto {
		TensorProto {
			name: name.into(),
			data_type: DataType::Int8 as i32,
			raw_data: vec![value as u8],
			..Default::default()
		}
	}

	/// `x` → Softmax → Q → DQ (→ `reader` when given), with `scale` and `zero` as initializers.
	fn qdq(scale: TensorProto, reader: Option<NodeProto>) -> GraphProto {
		let mut node = vec![
			node("Constant", &[], "unused"),
			node("Softmax", &["x"], "p"),
			node("QuantizeLinear", &["p", "scale", "zero"], "q"),
			node("DequantizeLinear", &["q", "scale", "zero"], "y"),
		];
		node.extend(reader);
		GraphProto { node, initializer: vec![scale, int8("zero", -128)], ..Default::default() }
	}

	fn ops(graph: &GraphProto) -> Vec<&str> {
		graph.node.iter().map(|n| n.op_type.as_str()).collect()
	}

	#[test]
	fn a_quantize_read_only_by_dequantizes_becomes_float_arithmetic() {
		let scale = float_scalar("scale".into(), 1.0 / 255.0);
		let mut graph = qdq(scale.clone(), None);
		assert!(fake_quantization(&mut graph, Some(13)));
		assert_eq!(
			ops(&graph),
			["Constant", "Softmax", "Div", "Round", "Add", "Max", "Min", "Sub", "Mul"]
		);
		// The quantized value keeps its name, now a float on int8's grid; the output keeps its name.
		assert_eq!(graph.node[6].output, ["q"]);
		assert_eq!(graph.node[8].output, ["y"]);
		let constant = |name: &str| {
			let t = graph.initializer.iter().find(|t| t.name.ends_with(name)).unwrap();
			(t.dims.clone(), t.float_data.clone())
		};
		assert_eq!(constant("2_zero"), (vec![], vec![-128.0]));
		assert_eq!(constant("2_min"), (vec![], vec![-128.0]));
		assert_eq!(constant("2_max"), (vec![], vec![127.0]));
		assert_eq!(constant("3_zero"), (vec![], vec![-128.0]));

		// Left to tract: an opset without `Round`; the quantized integers read by another operator;
		// per-axis scales.
		let mut old = qdq(scale.clone(), None);
		assert!(!fake_quantization(&mut old, Some(10)));
		let mut read = qdq(scale, Some(node("QLinearMatMul", &["q", "scale", "zero"], "z")));
		assert!(!fake_quantization(&mut read, Some(13)));
		let per_axis = floats_initializer("scale".into(), vec![0.1, 0.2]);
		let mut axis = qdq(per_axis, None);
		assert!(!fake_quantization(&mut axis, Some(13)));
		for graph in [old, read, axis] {
			assert!(ops(&graph).contains(&"QuantizeLinear"));
		}
	}

	fn gemm(alpha: f32, beta: f32, bias: bool) -> GraphProto {
		let float = |name: &str, f: f32| AttributeProto {
			name: name.into(),
			r#type: attribute_proto::AttributeType::Float as i32,
			f,
			..Default::default()
		};
		let mut node = node("Gemm", &["a", "b", if bias { "c" } else { "" }], "y");
		node.attribute =
			vec![float("alpha", alpha), float("beta", beta), int_attribute("transB", 1)];
		GraphProto { node: vec![node], ..Default::default() }
	}

	#[test]
	fn a_gemm_scales_and_adds_its_bias_in_its_own_type() {
		let mut plain = gemm(1.0, 1.0, true);
		assert!(gemm_scaling_in_any_float(&mut plain, Some(13)).unwrap());
		assert_eq!(ops(&plain), ["Gemm", "Add"]);
		// The product keeps `transB` and drops the scaling and the bias.
		assert_eq!(plain.node[0].input, ["a", "b"]);
		assert_eq!(plain.node[0].attribute, vec![int_attribute("transB", 1)]);
		assert_eq!(plain.node[1].input, ["modelchain_gemm_0_product", "c"]);
		assert_eq!(plain.node[1].output, ["y"]);

		let mut scaled = gemm(0.5, 2.0, true);
		assert!(gemm_scaling_in_any_float(&mut scaled, Some(15)).unwrap());
		assert_eq!(ops(&scaled), ["Gemm", "CastLike", "Mul", "CastLike", "Mul", "Add"]);
		assert_eq!(scaled.node[5].output, ["y"]);
		let values: Vec<f32> =
			scaled.initializer.iter().flat_map(|t| t.float_data.clone()).collect();
		assert_eq!(values, [0.5, 2.0]);

		// Without `CastLike` (before opset 15) a scaled `Gemm` stays whole; so does one with nothing to
		// scale or add.
		let mut old = gemm(0.5, 1.0, true);
		assert!(!gemm_scaling_in_any_float(&mut old, Some(13)).unwrap());
		let mut bare = gemm(1.0, 1.0, false);
		assert!(!gemm_scaling_in_any_float(&mut bare, Some(13)).unwrap());
		assert_eq!((ops(&old), ops(&bare)), (vec!["Gemm"], vec!["Gemm"]));
		// An `alpha` that is not a float is the model's error, for tract to report.
		let mut malformed = gemm(1.0, 1.0, true);
		malformed.node[0].attribute[0] = int_attribute("alpha", 2);
		assert!(!gemm_scaling_in_any_float(&mut malformed, Some(15)).unwrap());
	}

	#[test]
	fn label_encoders_of_strings_or_repeated_keys_are_refused() {
		let encoder = |attributes: Vec<AttributeProto>| GraphProto {
			node: vec![NodeProto {
				domain: "ai.onnx.ml".into(),
				name: "encoder".into(),
				attribute: attributes,
				..node("LabelEncoder", &["x"], "y")
			}],
			..Default::default()
		};
		let ints = |name: &str, ints: Vec<i64>| AttributeProto {
			name: name.into(),
			r#type: attribute_proto::AttributeType::Ints as i32,
			ints,
			..Default::default()
		};
		let floats = |name: &str, floats: Vec<f32>| AttributeProto {
			name: name.into(),
			r#type: attribute_proto::AttributeType::Floats as i32,
			floats,
			..Default::default()
		};
		let strings = AttributeProto {
			name: "keys_strings".into(),
			r#type: attribute_proto::AttributeType::Strings as i32,
			strings: vec![b"cat".to_vec(), b"dog".to_vec()],
			..Default::default()
		};
		let rewrite = |mut graph: GraphProto| label_encoders(&mut graph, 13).map(|_| graph);

		let graph = rewrite(encoder(vec![
			ints("keys_int64s", vec![3, 5]),
			floats("values_floats", vec![0.5, 1.5]),
		]))
		.unwrap();
		assert!(graph.node.iter().all(is_standard), "{:?}", graph.node);
		assert_eq!(graph.node.last().map(|n| n.output.clone()), Some(vec!["y".to_string()]));
		let result = rewrite(encoder(vec![strings, ints("values_int64s", vec![0, 1])]));
		assert!(
			matches!(&result, Err(EvalError::UnsupportedOperator(m)) if m.contains("string keys"))
		);
		let result = rewrite(encoder(vec![
			ints("keys_int64s", vec![3, 3]),
			ints("values_int64s", vec![0, 1]),
		]));
		assert!(matches!(&result, Err(EvalError::MalformedModel(m)) if m.contains("twice")));
		let result = rewrite(encoder(vec![
			floats("keys_floats", vec![0.0, -0.0]),
			ints("values_int64s", vec![0, 1]),
		]));
		assert!(matches!(&result, Err(EvalError::MalformedModel(m)) if m.contains("twice")));
		let result = rewrite(encoder(vec![
			ints("keys_int64s", vec![1, 2, 3]),
			ints("values_int64s", vec![0]),
		]));
		assert!(
			matches!(&result, Err(EvalError::MalformedModel(m)) if m.contains("3 keys for 1 values"))
		);
		let result = rewrite(encoder(vec![ints("values_int64s", vec![0])]));
		assert!(matches!(&result, Err(EvalError::MalformedModel(m)) if m.contains("no keys")));
	}

	#[test]
	fn onnxruntime_quantized_operators_become_standard_ones_or_clear_errors() {
		let microsoft = |op: &str, inputs: &[&str]| NodeProto {
			domain: "com.microsoft".into(),
			name: op.into(),
			..node(op, inputs, "y")
		};
		let zero = |name: &str, data_type: DataType, byte: u8| TensorProto {
			name: name.into(),
			data_type: data_type as i32,
			raw_data: vec![byte],
			..Default::default()
		};
		let graph = |nodes: Vec<NodeProto>, initializer: Vec<TensorProto>| GraphProto {
			node: nodes,
			initializer,
			..Default::default()
		};
		let softmax = microsoft("QLinearSoftmax", &["x", "xs", "xz", "ys", "yz"]);
		let zeros = vec![zero("xz", DataType::Uint8, 3), zero("yz", DataType::Int8, 0)];

		let mut written = graph(vec![softmax.clone()], zeros.clone());
		assert_eq!(microsoft_quantized(&mut written, Some(13)), Ok(true));
		assert!(written.node.iter().all(is_standard), "{:?}", written.node);
		assert!(written.node.iter().any(|n| n.op_type == "Softmax"));
		// The output is cast to its zero point's type, int8.
		let last = written.node.last().unwrap();
		assert_eq!(
			(last.op_type.as_str(), last.output.as_slice()),
			("Cast", &["y".to_string()][..])
		);
		assert_eq!(attribute(last, "to").map(|a| a.i), Some(DataType::Int8 as i64));

		// A zero point that is not an initializer (computed, say) is not guessed.
		let mut computed = graph(vec![softmax.clone()], vec![zeros[1].clone()]);
		let result = microsoft_quantized(&mut computed, Some(13));
		assert!(
			matches!(&result, Err(EvalError::UnsupportedOperator(m)) if m.contains("`xz`")),
			"{result:?}"
		);
		// Below opset 13 the node stays, for tract to report as unsupported.
		let mut old = graph(vec![softmax.clone()], zeros.clone());
		assert_eq!(microsoft_quantized(&mut old, Some(12)), Ok(false));
		assert_eq!(old.node, vec![softmax]);
		// Channels-last pooling is unsupported; a node missing an input is malformed.
		let mut pooling = microsoft("QLinearGlobalAveragePool", &["x", "xs", "xz", "ys", "yz"]);
		pooling.attribute.push(int_attribute("channels_last", 1));
		let result = microsoft_quantized(&mut graph(vec![pooling], zeros.clone()), Some(13));
		assert!(
			matches!(&result, Err(EvalError::UnsupportedOperator(m)) if m.contains("channels_last"))
		);
		let add = microsoft("QLinearAdd", &["a", "as", "xz"]);
		let result = microsoft_quantized(&mut graph(vec![add], zeros), Some(13));
		assert!(matches!(&result, Err(EvalError::MalformedModel(m)) if m.contains("input 3")));
	}
}
