//! ONNX's seeded random operators, told apart by their type.
//!
//! tract builds `RandomNormal`, `RandomUniform` and their `…Like` forms with one function that tells
//! a `…Like` (shape and type of its input) from the other (shape and type as attributes) by the
//! node's *name*, not its operator type. An exporter's names rarely end in "Like", so a seeded
//! `RandomNormalLike` was built as a `RandomNormal` and failed for want of a `shape` attribute ("a
//! malformed model"), and a `RandomNormal` named "…Like" the other way round. Here the node given to
//! tract's builder is named after its operator type. (Unseeded, each is refused before it is built:
//! `check_deterministic`.)

use std::{collections::BTreeMap, sync::OnceLock};
use tract_onnx::{
	model::{OnnxOpRegister, ParsingContext},
	pb::NodeProto,
	tract_hir::internal::*,
};

type Builder = fn(&ParsingContext, &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)>;

const OPERATORS: [&str; 4] =
	["RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike"];

/// tract's builders of the four operators.
static TRACT: OnceLock<BTreeMap<&'static str, Builder>> = OnceLock::new();

/// Registers the four random operators in place of tract's, which they call.
pub(crate) fn register(ops: &mut OnnxOpRegister) {
	let tract: BTreeMap<_, _> =
		OPERATORS.iter().filter_map(|op| Some((*op, *ops.0.get(*op)?))).collect();
	let _ = TRACT.set(tract);
	for op in OPERATORS {
		ops.insert(op, random);
	}
}

fn random(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let tract = TRACT
		.get()
		.and_then(|t| t.get(node.op_type.as_str()))
		.with_context(|| format!("tract's {} is registered", node.op_type))?;
	let named = NodeProto { name: node.op_type.clone(), ..node.clone() };
	tract(ctx, &named)
}
