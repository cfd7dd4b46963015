//! ONNX `Cast` to int64 (or int32) of values that are numbers, not shapes.
//!
//! tract casts every `Cast(to = INT64)` to its shape-dimension type (`TDim`), so that a shape
//! computed in the graph (`Shape` → `Cast` → `Reshape`) stays symbolic. Several of its operators
//! have no `TDim` kernel, so an int64 value computed from a mask or a comparison failed there:
//! RoBERTa's position ids, as torch's default exporter writes them (`Equal` → `Not` → `Cast` to
//! int64 → `CumSum`: "TDim is not a number"), and likewise `ArgMax`, `TopK`, `Sign` and the bitwise
//! operators of such a value. (A `Mul` of such a value by itself is tract's `Square`, and its
//! `MatMul` and `Einsum` have float and quantized kernels only: those compute neither, see
//! `integers.rs`.)
//!
//! Here a cast to int64 gives a shape dimension only when its input is one (what `Shape` computes,
//! and the values tract derives from it); a cast of a bool, a float or an integer gives int64
//! numbers, as ONNX defines. A cast to int32 of a shape stays a shape too (tf2onnx casts TensorFlow's
//! shapes to int32): tract cast it to int32 numbers, which a dimension known only when the model runs
//! (a loop's number of iterations) cannot be, so the shape was no longer known when typing the model
//! (a stacked recurrent layer's initial state, `Expand`ed to the shape of the previous layer's output,
//! failed: "shape input is variable"). Every other cast is tract's own.

use std::sync::OnceLock;
use tract_onnx::{
	model::{OnnxOpRegister, ParsingContext},
	pb::NodeProto,
	tract_hir::internal::*,
};

type Builder = fn(&ParsingContext, &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)>;

/// tract's `Cast`, for the casts this module leaves to it.
static TRACT_CAST: OnceLock<Builder> = OnceLock::new();

/// Registers `Cast` with tract's ONNX operators, in place of tract's (which it keeps for every cast
/// but one to int64).
pub(crate) fn register(ops: &mut OnnxOpRegister) {
	if let Some(tract) = ops.0.get("Cast").copied() {
		let _ = TRACT_CAST.set(tract);
	}
	ops.insert("Cast", cast);
}

fn cast(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let to = node.get_attr::<DatumType>("to")?;
	if to == i64::datum_type() || to == i32::datum_type() {
		return Ok((expand(CastToInteger { to }), vec![]));
	}
	let tract = TRACT_CAST.get().context("tract's Cast is registered")?;
	tract(ctx, node)
}

/// A cast to `to`, int64 or int32.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct CastToInteger {
	to: DatumType,
}

impl CastToInteger {
	/// The type a cast of a value of type `from` gives: a shape dimension stays one.
	fn target(&self, from: DatumType) -> DatumType {
		if from == TDim::datum_type() {
			TDim::datum_type()
		} else {
			self.to
		}
	}
}

impl Expansion for CastToInteger {
	fn name(&self) -> StaticName {
		if self.to == i32::datum_type() {
			"onnx.CastToInt32".into()
		} else {
			"onnx.CastToInt64".into()
		}
	}

	fn rules<'r, 'p: 'r, 's: 'r>(
		&'s self,
		s: &mut Solver<'r>,
		inputs: &'p [TensorProxy],
		outputs: &'p [TensorProxy],
	) -> InferenceResult {
		check_input_arity(inputs, 1)?;
		check_output_arity(outputs, 1)?;
		s.given(&inputs[0].datum_type, move |s, from| {
			s.equals(&outputs[0].datum_type, self.target(from))
		})?;
		s.equals(&outputs[0].rank, &inputs[0].rank)?;
		s.equals(&outputs[0].shape, &inputs[0].shape)?;
		Ok(())
	}

	fn wire(
		&self,
		prefix: &str,
		model: &mut TypedModel,
		inputs: &[OutletId],
	) -> TractResult<TVec<OutletId>> {
		let from = model.outlet_fact(inputs[0])?.datum_type;
		model.wire_node(
			prefix,
			tract_onnx::tract_hir::tract_core::ops::cast::cast(self.target(from)),
			&[inputs[0]],
		)
	}
}
