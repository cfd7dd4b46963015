//! ONNX-ML tree ensembles: `TreeEnsembleClassifier` (scikit-learn's random forests, extra trees and
//! gradient boosting classifiers) and `TreeEnsembleRegressor` (their regressors and decision trees),
//! read as the ONNX-ML specification and onnxruntime read them.
//!
//! An ensemble keeps its trees in node attributes: one entry per tree node (`nodes_treeids`,
//! `nodes_nodeids`, `nodes_modes`, …, children named by node id within their tree) and one per leaf
//! weight (`class_*` or `target_*`: a leaf, the output it adds to, the value). tract runs the
//! classifier but trusts these attributes: it takes tree ids to count from 0 and node ids to count from
//! 0 within each tree, never checks that a child exists, that a tree has no cycle or that a weight's
//! class exists (its evaluation indexes unchecked), and reads a `BRANCH_GTE` node as a leaf. It has no
//! regressor. So every ensemble is first read here ([`Forest::parse`]): each tree from its root (its
//! first node, as onnxruntime takes it) through its children, every reference checked. A classifier is
//! then written back in the numbering tract expects, a `BRANCH_GTE` as the `BRANCH_LT` with swapped
//! children it amounts to; a regressor is registered as an operator of its own ([`register`]).
//!
//! Thresholds and leaf weights are f32, as in the attributes; inputs are compared as f32 (a double
//! model's `*_as_tensor` values are rounded to f32).

use tract_onnx::{
	model::{OnnxOpRegister, ParsingContext},
	pb::{attribute_proto::AttributeType, AttributeProto, NodeProto},
	tract_hir::internal::*,
};
use tract_onnx_opl::ml::tree::{Aggregate, Cmp, TreeEnsemble, TreeEnsembleData};

use crate::{aggregate, EvalError};

/// The comparisons a branch makes, as the ONNX-ML `nodes_modes` name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
	Leq,
	Lt,
	Gte,
	Gt,
	Eq,
	Neq,
}

impl Mode {
	fn parse(name: &[u8]) -> Option<Option<Self>> {
		Some(match name {
			b"BRANCH_LEQ" => Some(Self::Leq),
			b"BRANCH_LT" => Some(Self::Lt),
			b"BRANCH_GTE" => Some(Self::Gte),
			b"BRANCH_GT" => Some(Self::Gt),
			b"BRANCH_EQ" => Some(Self::Eq),
			b"BRANCH_NEQ" => Some(Self::Neq),
			b"LEAF" => None,
			_ => return None,
		})
	}

	fn name(self) -> &'static [u8] {
		match self {
			Self::Leq => b"BRANCH_LEQ",
			Self::Lt => b"BRANCH_LT",
			Self::Gte => b"BRANCH_GTE",
			Self::Gt => b"BRANCH_GT",
			Self::Eq => b"BRANCH_EQ",
			Self::Neq => b"BRANCH_NEQ",
		}
	}

	fn cmp(self) -> Cmp {
		match self {
			Self::Leq => Cmp::LessEqual,
			Self::Lt => Cmp::Less,
			Self::Gte => Cmp::GreaterEqual,
			Self::Gt => Cmp::Greater,
			Self::Eq => Cmp::Equal,
			Self::Neq => Cmp::NotEqual,
		}
	}
}

/// One node of a parsed tree; children are rows of [`Forest::nodes`].
#[derive(Clone, Debug, PartialEq)]
enum Node {
	/// Goes to `yes` when feature `feature` compares to `value` by `mode` (or is NaN and `nan_yes`),
	/// else to `no`. Never `Mode::Gte`: it is stored as the `Lt` with swapped children it amounts to.
	Branch { feature: u32, mode: Mode, value: f32, nan_yes: bool, yes: u32, no: u32 },
	/// Adds each `(output, weight)` to the output's score.
	Leaf(Vec<(u32, f32)>),
}

/// An ensemble's trees, checked: tree `t` is rows `roots[t]..roots[t + 1]` of `nodes` (its root
/// first), every child a row of its own tree, every tree a tree (no node reached twice), every leaf
/// weight's output below `outputs`.
#[derive(Debug, PartialEq)]
pub(crate) struct Forest {
	roots: Vec<u32>,
	nodes: Vec<Node>,
	outputs: usize,
	max_feature: u32,
}

fn malformed(node: &NodeProto, why: impl core::fmt::Display) -> EvalError {
	EvalError::MalformedModel(format!("{} `{}`: {why}", node.op_type, node.name))
}

fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
	node.attribute.iter().find(|a| a.name == name)
}

fn ints<'a>(node: &'a NodeProto, name: &str) -> &'a [i64] {
	attr(node, name).map(|a| a.ints.as_slice()).unwrap_or_default()
}

fn text<'a>(node: &'a NodeProto, name: &str) -> Option<&'a [u8]> {
	attr(node, name).map(|a| a.s.as_slice())
}

/// The floats of attribute `name`, or of `name_as_tensor` (a tensor of any float type, rounded to
/// f32); `None` when the node has neither.
fn floats(node: &NodeProto, name: &str) -> Result<Option<Vec<f32>>, EvalError> {
	if let Some(a) = attr(node, name) {
		return Ok(Some(a.floats.clone()));
	}
	let Some(tensor) = attr(node, &format!("{name}_as_tensor")).and_then(|a| a.t.as_ref()) else {
		return Ok(None);
	};
	let values = aggregate::tensor_floats(tensor)
		.map_err(|e| malformed(node, format!("{name}_as_tensor: {e}")))?;
	Ok(Some(values.into_iter().map(|v| v as f32).collect()))
}

fn index(node: &NodeProto, what: &str, value: i64) -> Result<u32, EvalError> {
	u32::try_from(value).map_err(|_| malformed(node, format!("{what} {value} is out of range")))
}

impl Forest {
	/// Reads and checks the trees of `node`, whose leaf weights are the `{prefix}_*` attributes
	/// (`class` or `target`) adding to `outputs` outputs.
	pub(crate) fn parse(node: &NodeProto, prefix: &str, outputs: usize) -> Result<Self, EvalError> {
		let bad = |why: String| malformed(node, why);
		let tree_ids = ints(node, "nodes_treeids");
		let count = tree_ids.len();
		if count == 0 {
			return Err(bad("no tree nodes".into()));
		}
		if outputs == 0 {
			return Err(bad("no outputs".into()));
		}
		let sized = |name: &str, len: usize| {
			if len == count {
				Ok(())
			} else {
				Err(bad(format!("{name} has {len} entries for {count} nodes")))
			}
		};
		let node_ids = ints(node, "nodes_nodeids");
		let features = ints(node, "nodes_featureids");
		let yes_ids = ints(node, "nodes_truenodeids");
		let no_ids = ints(node, "nodes_falsenodeids");
		let modes = attr(node, "nodes_modes").map(|a| a.strings.as_slice()).unwrap_or_default();
		let values = floats(node, "nodes_values")?.unwrap_or_default();
		let nan_yes = ints(node, "nodes_missing_value_tracks_true");
		for (name, len) in [
			("nodes_nodeids", node_ids.len()),
			("nodes_featureids", features.len()),
			("nodes_truenodeids", yes_ids.len()),
			("nodes_falsenodeids", no_ids.len()),
			("nodes_modes", modes.len()),
			("nodes_values", values.len()),
		] {
			sized(name, len)?;
		}
		if !nan_yes.is_empty() {
			sized("nodes_missing_value_tracks_true", nan_yes.len())?;
		}

		// Each (tree, node) names one entry; a tree's root is its first entry.
		let mut entry = std::collections::BTreeMap::new();
		let mut seen = std::collections::BTreeSet::new();
		let mut trees: Vec<(i64, usize)> = Vec::new();
		for i in 0..count {
			if entry.insert((tree_ids[i], node_ids[i]), i).is_some() {
				return Err(bad(format!(
					"node {} of tree {} is given twice",
					node_ids[i], tree_ids[i]
				)));
			}
			if seen.insert(tree_ids[i]) {
				trees.push((tree_ids[i], i));
			}
		}

		// Leaf weights, by entry.
		let leaf_trees = ints(node, &format!("{prefix}_treeids"));
		let leaf_nodes = ints(node, &format!("{prefix}_nodeids"));
		let leaf_outputs = ints(node, &format!("{prefix}_ids"));
		let leaf_weights = floats(node, &format!("{prefix}_weights"))?.unwrap_or_default();
		let weights = leaf_trees.len();
		if [leaf_nodes.len(), leaf_outputs.len(), leaf_weights.len()].iter().any(|&l| l != weights)
		{
			return Err(bad(format!("the {prefix}_* attributes differ in length")));
		}
		let mut leaves: Vec<Vec<(u32, f32)>> = vec![Vec::new(); count];
		for w in 0..weights {
			let Some(&i) = entry.get(&(leaf_trees[w], leaf_nodes[w])) else {
				return Err(bad(format!(
					"a weight of node {} of tree {}, which does not exist",
					leaf_nodes[w], leaf_trees[w]
				)));
			};
			let output = index(node, &format!("{prefix}_ids entry"), leaf_outputs[w])?;
			if output as usize >= outputs {
				return Err(bad(format!("a weight of output {output}; there are {outputs}")));
			}
			leaves[i].push((output, leaf_weights[w]));
		}

		// Every tree from its root, each entry given the next row when first reached.
		let mut roots = Vec::with_capacity(trees.len());
		let mut nodes: Vec<Node> = Vec::new();
		let mut row_of: Vec<Option<u32>> = vec![None; count];
		let mut max_feature = 0;
		for &(tree, root) in &trees {
			let first = nodes.len() as u32;
			roots.push(first);
			// Entries of this tree reached but not yet given their node, with the row they get.
			let mut pending = vec![root];
			row_of[root] = Some(first);
			nodes.push(Node::Leaf(Vec::new()));
			while let Some(i) = pending.pop() {
				let row = row_of[i].expect("given a row when reached") as usize;
				let Some(mode) = Mode::parse(&modes[i]) else {
					let mode = String::from_utf8_lossy(&modes[i]);
					return Err(EvalError::UnsupportedOperator(format!(
						"{} `{}`: node mode {mode}",
						node.op_type, node.name
					)));
				};
				let Some(mode) = mode else {
					nodes[row] = Node::Leaf(core::mem::take(&mut leaves[i]));
					continue;
				};
				if !leaves[i].is_empty() {
					return Err(bad(format!(
						"node {} of tree {tree} is a branch with leaf weights",
						node_ids[i]
					)));
				}
				let mut child = |id: i64| -> Result<u32, EvalError> {
					let Some(&c) = entry.get(&(tree, id)) else {
						return Err(bad(format!("tree {tree} has no node {id}")));
					};
					if row_of[c].is_some() {
						return Err(bad(format!("node {id} of tree {tree} is reached twice")));
					}
					let row = nodes.len() as u32;
					row_of[c] = Some(row);
					nodes.push(Node::Leaf(Vec::new()));
					pending.push(c);
					Ok(row)
				};
				let (yes, no) = (child(yes_ids[i])?, child(no_ids[i])?);
				let feature = index(node, "nodes_featureids entry", features[i])?;
				max_feature = max_feature.max(feature);
				let nan = nan_yes.get(i).is_some_and(|&v| v != 0);
				// x >= v is not (x < v); NaN goes where it went.
				nodes[row] = if mode == Mode::Gte {
					Node::Branch {
						feature,
						mode: Mode::Lt,
						value: values[i],
						nan_yes: !nan,
						yes: no,
						no: yes,
					}
				} else {
					Node::Branch { feature, mode, value: values[i], nan_yes: nan, yes, no }
				};
			}
		}
		Ok(Self { roots, nodes, outputs, max_feature })
	}

	/// The rows of tree `t`.
	fn rows(&self, t: usize) -> core::ops::Range<u32> {
		self.roots[t]..self.roots.get(t + 1).copied().unwrap_or(self.nodes.len() as u32)
	}

	/// Rewrites `node`'s tree and `{prefix}_*` attributes as this forest: tree `t` is tree id `t`, its
	/// rows node ids from 0, floats as plain float attributes.
	pub(crate) fn write(&self, node: &mut NodeProto, prefix: &str) {
		let rewritten = |name: &str| {
			name.starts_with("nodes_")
				|| name.starts_with(&format!("{prefix}_"))
				|| name == "nodes_values_as_tensor"
				|| name == format!("{prefix}_weights_as_tensor")
		};
		node.attribute.retain(|a| !rewritten(&a.name));
		let mut n = NodeAttributes::default();
		for t in 0..self.roots.len() {
			let start = self.roots[t];
			for row in self.rows(t) {
				n.tree_ids.push(t as i64);
				n.node_ids.push((row - start) as i64);
				match &self.nodes[row as usize] {
					Node::Branch { feature, mode, value, nan_yes, yes, no } => {
						n.features.push(*feature as i64);
						n.modes.push(mode.name().to_vec());
						n.values.push(*value);
						n.nan_yes.push(*nan_yes as i64);
						n.yes.push((yes - start) as i64);
						n.no.push((no - start) as i64);
					},
					Node::Leaf(weights) => {
						n.features.push(0);
						n.modes.push(b"LEAF".to_vec());
						n.values.push(0.0);
						n.nan_yes.push(0);
						n.yes.push(0);
						n.no.push(0);
						for &(output, weight) in weights {
							n.leaf_trees.push(t as i64);
							n.leaf_nodes.push((row - start) as i64);
							n.leaf_outputs.push(output as i64);
							n.leaf_weights.push(weight);
						}
					},
				}
			}
		}
		let ints = |name: String, ints: Vec<i64>| AttributeProto {
			name,
			r#type: AttributeType::Ints as i32,
			ints,
			..Default::default()
		};
		let floats = |name: String, floats: Vec<f32>| AttributeProto {
			name,
			r#type: AttributeType::Floats as i32,
			floats,
			..Default::default()
		};
		node.attribute.extend([
			ints("nodes_treeids".into(), n.tree_ids),
			ints("nodes_nodeids".into(), n.node_ids),
			ints("nodes_featureids".into(), n.features),
			AttributeProto {
				name: "nodes_modes".into(),
				r#type: AttributeType::Strings as i32,
				strings: n.modes,
				..Default::default()
			},
			floats("nodes_values".into(), n.values),
			ints("nodes_missing_value_tracks_true".into(), n.nan_yes),
			ints("nodes_truenodeids".into(), n.yes),
			ints("nodes_falsenodeids".into(), n.no),
			ints(format!("{prefix}_treeids"), n.leaf_trees),
			ints(format!("{prefix}_nodeids"), n.leaf_nodes),
			ints(format!("{prefix}_ids"), n.leaf_outputs),
			floats(format!("{prefix}_weights"), n.leaf_weights),
		]);
	}

	/// The forest in tract's layout, adding up its trees' leaf weights per output (`Aggregate::Sum`).
	fn ensemble(&self) -> TractResult<TreeEnsemble> {
		let mut nodes: Vec<u32> = Vec::with_capacity(self.nodes.len() * 5);
		let mut leaves: Vec<u32> = Vec::new();
		for node in &self.nodes {
			match node {
				Node::Branch { feature, mode, value, nan_yes, yes, no } => nodes.extend([
					*feature,
					*yes,
					*no,
					value.to_bits(),
					(*nan_yes as u32) << 8 | mode.cmp() as u32,
				]),
				Node::Leaf(weights) => {
					let start = leaves.len() as u32 / 2;
					for &(output, weight) in weights {
						leaves.extend([output, weight.to_bits()]);
					}
					nodes.extend([start, leaves.len() as u32 / 2, 0, 0, 0]);
				},
			}
		}
		let data = TreeEnsembleData {
			trees: rctensor1(&self.roots),
			nodes: tensor1(&nodes).into_shape(&[self.nodes.len(), 5])?.into_arc_tensor(),
			leaves: tensor1(&leaves).into_shape(&[leaves.len() / 2, 2])?.into_arc_tensor(),
		};
		TreeEnsemble::build(data, self.max_feature as usize, self.outputs, Aggregate::Sum)
	}
}

#[derive(Default)]
struct NodeAttributes {
	tree_ids: Vec<i64>,
	node_ids: Vec<i64>,
	features: Vec<i64>,
	modes: Vec<Vec<u8>>,
	values: Vec<f32>,
	nan_yes: Vec<i64>,
	yes: Vec<i64>,
	no: Vec<i64>,
	leaf_trees: Vec<i64>,
	leaf_nodes: Vec<i64>,
	leaf_outputs: Vec<i64>,
	leaf_weights: Vec<f32>,
}

/// A checked `TreeEnsembleRegressor`: its forest, how its trees combine, its base values.
#[derive(Debug)]
struct Regressor {
	forest: Forest,
	average: bool,
	base_values: Option<Vec<f32>>,
}

impl Regressor {
	/// Reads `node`. Supported are what scikit-learn, XGBoost and LightGBM export: `SUM` and `AVERAGE`
	/// aggregation and no post transform.
	fn parse(node: &NodeProto) -> Result<Self, EvalError> {
		let unsupported = |what: String| {
			EvalError::UnsupportedOperator(format!("{} `{}`: {what}", node.op_type, node.name))
		};
		let targets = attr(node, "n_targets").map(|a| a.i).unwrap_or(1);
		let targets = usize::try_from(targets)
			.ok()
			.filter(|&t| t >= 1)
			.ok_or_else(|| malformed(node, format!("n_targets {targets}")))?;
		let average = match text(node, "aggregate_function").unwrap_or(b"SUM") {
			b"SUM" => false,
			b"AVERAGE" => true,
			other => {
				return Err(unsupported(format!(
					"aggregate_function {}",
					String::from_utf8_lossy(other)
				)))
			},
		};
		match text(node, "post_transform").unwrap_or(b"NONE") {
			b"NONE" => {},
			other => {
				return Err(unsupported(format!(
					"post_transform {}",
					String::from_utf8_lossy(other)
				)))
			},
		}
		let base_values = floats(node, "base_values")?;
		if let Some(base) = &base_values {
			if base.len() != targets {
				return Err(malformed(
					node,
					format!("{} base values for {targets} targets", base.len()),
				));
			}
		}
		let forest = Forest::parse(node, "target", targets)?;
		Ok(Self { forest, average, base_values })
	}
}

/// Checks every tree ensemble of the graph and of its subgraphs (`If` branches, `Loop` and `Scan`
/// bodies): a classifier is rewritten as [`Forest::write`] writes it (the form tract can run safely), a
/// regressor is read as [`register`]'s operator will read it.
pub(crate) fn check(graph: &mut tract_onnx::pb::GraphProto) -> Result<(), EvalError> {
	for node in graph.node.iter_mut() {
		for attribute in node.attribute.iter_mut() {
			for subgraph in attribute.g.iter_mut().chain(attribute.graphs.iter_mut()) {
				check(subgraph)?;
			}
		}
		if node.domain != "ai.onnx.ml" {
			continue;
		}
		match node.op_type.as_str() {
			"TreeEnsembleClassifier" => {
				let classes = ints(node, "classlabels_int64s").len()
					+ attr(node, "classlabels_strings").map_or(0, |a| a.strings.len());
				let forest = Forest::parse(node, "class", classes)?;
				forest.write(node, "class");
				if let Some(mut base) = floats(node, "base_values")? {
					// A binary classifier may give one base value, for the score of its first class
					// (scikit-learn's gradient boosting does); tract wants one per class.
					if classes == 2 && base.len() == 1 {
						base.push(0.0);
					}
					node.attribute
						.retain(|a| a.name != "base_values" && a.name != "base_values_as_tensor");
					node.attribute.push(AttributeProto {
						name: "base_values".into(),
						r#type: AttributeType::Floats as i32,
						floats: base,
						..Default::default()
					});
				}
			},
			"TreeEnsembleRegressor" => {
				Regressor::parse(node)?;
			},
			_ => {},
		}
	}
	Ok(())
}

/// Registers `TreeEnsembleRegressor` with tract's ONNX operators.
pub(crate) fn register(ops: &mut OnnxOpRegister) {
	ops.insert("TreeEnsembleRegressor", regressor);
}

fn regressor(
	_ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let regressor = Regressor::parse(node).map_err(|e| format_err!("{e}"))?;
	let ensemble = regressor.forest.ensemble()?;
	Ok((
		expand(TreeRegressor {
			trees: regressor.forest.roots.len(),
			ensemble,
			average: regressor.average,
			base_values: regressor
				.base_values
				.map(|b| {
					Ok::<_, TractError>(tensor1(&b).into_shape(&[1, b.len()])?.into_arc_tensor())
				})
				.transpose()?,
		}),
		vec![],
	))
}

/// `TreeEnsembleRegressor`: `[batch, features]` to `[batch, n_targets]` f32, each target the sum of
/// its leaf weights over the trees (divided by the number of trees when averaging), plus its base
/// value; onnxruntime's order of operations.
#[derive(Clone, Debug, Hash)]
struct TreeRegressor {
	ensemble: TreeEnsemble,
	trees: usize,
	average: bool,
	base_values: Option<Arc<Tensor>>,
}

impl Expansion for TreeRegressor {
	fn name(&self) -> StaticName {
		"TreeEnsembleRegressor".into()
	}

	fn rules<'r, 'p: 'r, 's: 'r>(
		&'s self,
		s: &mut Solver<'r>,
		inputs: &'p [TensorProxy],
		outputs: &'p [TensorProxy],
	) -> InferenceResult {
		check_input_arity(inputs, 1)?;
		check_output_arity(outputs, 1)?;
		s.equals(&outputs[0].datum_type, DatumType::F32)?;
		s.equals(&inputs[0].rank, 2)?;
		s.equals(&outputs[0].rank, 2)?;
		s.equals(&outputs[0].shape[0], &inputs[0].shape[0])?;
		s.equals(&outputs[0].shape[1], self.ensemble.n_classes().to_dim())?;
		Ok(())
	}

	fn wire(
		&self,
		prefix: &str,
		model: &mut TypedModel,
		inputs: &[OutletId],
	) -> TractResult<TVec<OutletId>> {
		let mut scores = model.wire_node(
			format!("{prefix}.trees"),
			tract_onnx_opl::ml::tree_ensemble_classifier::TreeEnsembleClassifier {
				ensemble: self.ensemble.clone(),
			},
			inputs,
		)?;
		if self.average {
			let trees = model
				.add_const(format!("{prefix}.trees_count"), rctensor2(&[[self.trees as f32]]))?;
			scores = model.wire_node(
				format!("{prefix}.average"),
				tract_core::ops::math::div(),
				&[scores[0], trees],
			)?;
		}
		if let Some(base) = &self.base_values {
			let base = model.add_const(format!("{prefix}.base_values"), base.clone())?;
			scores = model.wire_node(
				format!("{prefix}.base"),
				tract_core::ops::math::add(),
				&[scores[0], base],
			)?;
		}
		Ok(scores)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{evaluate, GoldenInput, GoldenSet, Labels, Metric};
	use prost::Message;
	use tract_onnx::pb::{
		tensor_shape_proto::{dimension::Value, Dimension},
		type_proto, GraphProto, ModelProto, OperatorSetIdProto, TensorShapeProto, TypeProto,
		ValueInfoProto,
	};

	/// A branch `(tree, id, mode, feature, threshold, yes, no)` or a leaf `(tree, id, "LEAF", …)`.
	type Row = (i64, i64, &'static str, i64, f32, i64, i64);

	fn ints(name: &str, ints: Vec<i64>) -> AttributeProto {
		AttributeProto {
			name: name.into(),
			r#type: AttributeType::Ints as i32,
			ints,
			..Default::default()
		}
	}

	fn floats(name: &str, floats: Vec<f32>) -> AttributeProto {
		AttributeProto {
			name: name.into(),
			r#type: AttributeType::Floats as i32,
			floats,
			..Default::default()
		}
	}

	fn string(name: &str, s: &str) -> AttributeProto {
		AttributeProto {
			name: name.into(),
			r#type: AttributeType::String as i32,
			s: s.into(),
			..Default::default()
		}
	}

	/// A one-target `TreeEnsembleRegressor` of `rows` and leaf weights `(tree, node, target, weight)`.
	fn regressor(
		rows: &[Row],
		weights: &[(i64, i64, i64, f32)],
		extra: Vec<AttributeProto>,
	) -> NodeProto {
		let column = |f: fn(&Row) -> i64| rows.iter().map(f).collect::<Vec<_>>();
		let mut attribute = vec![
			ints("nodes_treeids", column(|r| r.0)),
			ints("nodes_nodeids", column(|r| r.1)),
			ints("nodes_featureids", column(|r| r.3)),
			floats("nodes_values", rows.iter().map(|r| r.4).collect()),
			ints("nodes_truenodeids", column(|r| r.5)),
			ints("nodes_falsenodeids", column(|r| r.6)),
			AttributeProto {
				name: "nodes_modes".into(),
				r#type: AttributeType::Strings as i32,
				strings: rows.iter().map(|r| r.2.as_bytes().to_vec()).collect(),
				..Default::default()
			},
			ints("target_treeids", weights.iter().map(|w| w.0).collect()),
			ints("target_nodeids", weights.iter().map(|w| w.1).collect()),
			ints("target_ids", weights.iter().map(|w| w.2).collect()),
			floats("target_weights", weights.iter().map(|w| w.3).collect()),
			AttributeProto { name: "n_targets".into(), i: 1, ..Default::default() },
		];
		attribute.extend(extra);
		NodeProto {
			op_type: "TreeEnsembleRegressor".into(),
			domain: "ai.onnx.ml".into(),
			name: "trees".into(),
			input: vec!["input".into()],
			output: vec!["variable".into()],
			attribute,
			..Default::default()
		}
	}

	/// Tree 4: `x >= 0.5` gives 1, else 0 (node ids 7, 9, 3); tree 2: a leaf of 3.
	fn two_trees(extra: Vec<AttributeProto>) -> NodeProto {
		regressor(
			&[
				(4, 7, "BRANCH_GTE", 0, 0.5, 9, 3),
				(4, 3, "LEAF", 0, 0.0, 0, 0),
				(4, 9, "LEAF", 0, 0.0, 0, 0),
				(2, 0, "LEAF", 0, 0.0, 0, 0),
			],
			&[(4, 9, 0, 1.0), (4, 3, 0, 0.0), (2, 0, 0, 3.0)],
			extra,
		)
	}

	fn model(node: NodeProto) -> Vec<u8> {
		let tensor = |name: &str, dims: [Value; 2]| ValueInfoProto {
			name: name.into(),
			r#type: Some(TypeProto {
				value: Some(type_proto::Value::TensorType(type_proto::Tensor {
					elem_type: 1,
					shape: Some(TensorShapeProto {
						dim: dims
							.into_iter()
							.map(|v| Dimension { value: Some(v), ..Default::default() })
							.collect(),
					}),
				})),
				..Default::default()
			}),
			..Default::default()
		};
		ModelProto {
			ir_version: 8,
			opset_import: vec![
				OperatorSetIdProto { domain: String::new(), version: 17 },
				OperatorSetIdProto { domain: "ai.onnx.ml".into(), version: 3 },
			],
			graph: Some(GraphProto {
				node: vec![node],
				input: vec![tensor("input", [Value::DimParam("N".into()), Value::DimValue(1)])],
				output: vec![tensor("variable", [Value::DimParam("N".into()), Value::DimValue(1)])],
				..Default::default()
			}),
			..Default::default()
		}
		.encode_to_vec()
	}

	/// Inputs 1 and 0, targets 2.5 and 1.
	fn golden() -> GoldenSet {
		let values = [1.0f32, 0.0].iter().flat_map(|v| v.to_le_bytes()).collect();
		let input = GoldenInput::new("inputs", &[2, 1], DatumType::F32, values).unwrap();
		GoldenSet::new(vec![input], Labels::Targets { values: vec![2.5, 1.0], width: 1 }).unwrap()
	}

	fn malformed_because(node: NodeProto) -> String {
		match evaluate(&model(node), &golden(), Metric::MeanSquaredError) {
			Err(EvalError::MalformedModel(why)) => why,
			other => panic!("expected a malformed model, got {other:?}"),
		}
	}

	#[test]
	fn averaged_trees_with_a_base_value_are_computed_exactly() {
		// (1 + 3) / 2 + 0.5 = 2.5 and (0 + 3) / 2 + 0.5 = 2: squared errors 0 and 1.
		let node = two_trees(vec![
			string("aggregate_function", "AVERAGE"),
			floats("base_values", vec![0.5]),
		]);
		let evaluation = evaluate(&model(node), &golden(), Metric::MeanSquaredError).unwrap();
		assert_eq!(evaluation.score, crate::PPB / 2);
		// Summed, no base value: 4 and 3, squared errors 2.25 and 4.
		let summed = model(two_trees(vec![string("aggregate_function", "SUM")]));
		let evaluation = evaluate(&summed, &golden(), Metric::MeanSquaredError).unwrap();
		assert_eq!(evaluation.score, 3_125_000_000);
	}

	#[test]
	fn gte_is_written_as_lt_with_swapped_children_in_tree_order() {
		let mut node = two_trees(vec![]);
		let forest = Forest::parse(&node, "target", 1).unwrap();
		assert_eq!(forest.roots, vec![0, 3]);
		assert_eq!(
			forest.nodes[0],
			Node::Branch { feature: 0, mode: Mode::Lt, value: 0.5, nan_yes: true, yes: 2, no: 1 }
		);
		assert_eq!(forest.nodes[1], Node::Leaf(vec![(0, 1.0)]));
		assert_eq!(forest.nodes[2], Node::Leaf(vec![(0, 0.0)]));
		forest.write(&mut node, "target");
		assert_eq!(super::ints(&node, "nodes_treeids"), [0, 0, 0, 1]);
		assert_eq!(super::ints(&node, "nodes_nodeids"), [0, 1, 2, 0]);
		assert_eq!(super::ints(&node, "nodes_truenodeids"), [2, 0, 0, 0]);
		assert!(Forest::parse(&node, "target", 1).is_ok());
	}

	#[test]
	fn broken_trees_are_malformed_models_not_crashes() {
		let leaf = |tree, id| (tree, id, "LEAF", 0, 0.0, 0, 0);
		// A child that points back at the root.
		let cycle =
			regressor(&[(0, 0, "BRANCH_LEQ", 0, 0.5, 1, 0), leaf(0, 1)], &[(0, 1, 0, 1.0)], vec![]);
		assert!(malformed_because(cycle).contains("reached twice"));
		let missing_child =
			regressor(&[(0, 0, "BRANCH_LEQ", 0, 0.5, 1, 5), leaf(0, 1)], &[(0, 1, 0, 1.0)], vec![]);
		assert!(malformed_because(missing_child).contains("tree 0 has no node 5"));
		let other_tree =
			regressor(&[(0, 0, "BRANCH_LEQ", 0, 0.5, 1, 2), leaf(0, 1), leaf(1, 2)], &[], vec![]);
		assert!(malformed_because(other_tree).contains("tree 0 has no node 2"));
		let missing_target = regressor(&[leaf(0, 0)], &[(0, 0, 3, 1.0)], vec![]);
		assert!(malformed_because(missing_target).contains("output 3; there are 1"));
		let missing_leaf = regressor(&[leaf(0, 0)], &[(0, 4, 0, 1.0)], vec![]);
		assert!(malformed_because(missing_leaf).contains("does not exist"));
		let twice = regressor(&[leaf(0, 0), leaf(0, 0)], &[], vec![]);
		assert!(malformed_because(twice).contains("given twice"));
		let weighted_branch = regressor(
			&[(0, 0, "BRANCH_LEQ", 0, 0.5, 1, 2), leaf(0, 1), leaf(0, 2)],
			&[(0, 0, 0, 1.0)],
			vec![],
		);
		assert!(malformed_because(weighted_branch).contains("a branch with leaf weights"));
		let mut short = two_trees(vec![]);
		short.attribute.retain(|a| a.name != "nodes_values");
		short.attribute.push(floats("nodes_values", vec![0.5]));
		assert!(malformed_because(short).contains("nodes_values has 1 entries for 4 nodes"));
		let negative =
			regressor(&[(0, 0, "BRANCH_LEQ", -1, 0.5, 1, 2), leaf(0, 1), leaf(0, 2)], &[], vec![]);
		assert!(malformed_because(negative).contains("out of range"));
		let base = two_trees(vec![floats("base_values", vec![0.5, 0.5])]);
		assert!(malformed_because(base).contains("2 base values for 1 targets"));
		// A feature beyond the input's width.
		let wide =
			regressor(&[(0, 0, "BRANCH_LEQ", 3, 0.5, 1, 2), leaf(0, 1), leaf(0, 2)], &[], vec![]);
		assert!(matches!(
			evaluate(&model(wide), &golden(), Metric::MeanSquaredError),
			Err(EvalError::ShapeMismatch(_))
		));
	}

	#[test]
	fn what_onnxruntime_computes_otherwise_is_unsupported() {
		for extra in [
			string("aggregate_function", "MAX"),
			string("aggregate_function", "MIN"),
			string("post_transform", "LOGISTIC"),
		] {
			let what = String::from_utf8_lossy(&extra.s).into_owned();
			match evaluate(&model(two_trees(vec![extra])), &golden(), Metric::MeanSquaredError) {
				Err(EvalError::UnsupportedOperator(m)) => assert!(m.contains(&what), "{m}"),
				other => panic!("{what}: {other:?}"),
			}
		}
		let member = regressor(&[(0, 0, "BRANCH_MEMBER", 0, 0.5, 0, 0)], &[], vec![]);
		match evaluate(&model(member), &golden(), Metric::MeanSquaredError) {
			Err(EvalError::UnsupportedOperator(m)) => assert!(m.contains("BRANCH_MEMBER"), "{m}"),
			other => panic!("{other:?}"),
		}
	}
}
