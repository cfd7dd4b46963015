//! ONNX-ML `ArrayFeatureExtractor` as onnxruntime computes it.
//!
//! `Y = X[..., indices]`, with the shape `X.shape[:-1] + [number of indices]` whatever the indices'
//! shape (a scalar index keeps its axis), and `[1, number of indices]` for a one-dimensional `X`. tract's
//! own version gathers with the indices' shape instead, so a scalar index drops the axis: the
//! one-score-per-class columns scikit-learn's SVC export concatenates became vectors that no longer
//! concatenate.

use tract_onnx::tract_hir::tract_core::ops::{array::Gather, change_axes::AxisOp};
use tract_onnx::{
	model::{OnnxOpRegister, ParsingContext},
	pb::NodeProto,
	tract_hir::internal::*,
};

/// Registers `ArrayFeatureExtractor` with tract's ONNX operators, in place of tract's.
pub(crate) fn register(ops: &mut OnnxOpRegister) {
	ops.insert("ArrayFeatureExtractor", extractor);
}

fn extractor(
	_ctx: &ParsingContext,
	_node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	Ok((expand(FeatureExtractor), vec![]))
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct FeatureExtractor;

/// How many indices a tensor of this shape holds.
fn count(indices: &[TDim]) -> TDim {
	indices.iter().fold(TDim::from(1), |n, d| n * d)
}

/// The output shape for inputs of shapes `x` and `indices`.
fn output_shape(x: &[TDim], indices: &[TDim]) -> TVec<TDim> {
	let count = count(indices);
	match x.split_last() {
		Some((_, [])) | None => tvec![1.into(), count],
		Some((_, leading)) => leading.iter().cloned().chain(core::iter::once(count)).collect(),
	}
}

impl Expansion for FeatureExtractor {
	fn name(&self) -> StaticName {
		"ArrayFeatureExtractor".into()
	}

	fn rules<'r, 'p: 'r, 's: 'r>(
		&'s self,
		s: &mut Solver<'r>,
		inputs: &'p [TensorProxy],
		outputs: &'p [TensorProxy],
	) -> InferenceResult {
		check_input_arity(inputs, 2)?;
		check_output_arity(outputs, 1)?;
		s.equals(&inputs[0].datum_type, &outputs[0].datum_type)?;
		s.equals(&inputs[1].datum_type, i64::datum_type())?;
		s.given(&inputs[0].rank, move |s, rank| s.equals(&outputs[0].rank, rank.max(2)))?;
		s.given_2(&inputs[0].shape, &inputs[1].shape, move |s, x, indices| {
			s.equals(&outputs[0].shape, output_shape(&x, &indices))
		})?;
		Ok(())
	}

	fn wire(
		&self,
		prefix: &str,
		model: &mut TypedModel,
		inputs: &[OutletId],
	) -> TractResult<TVec<OutletId>> {
		let x_rank = model.outlet_fact(inputs[0])?.rank();
		let indices_shape = model.outlet_fact(inputs[1])?.shape.to_tvec();
		let mut indices = inputs[1];
		match indices_shape.len() {
			0 => {
				indices =
					model.wire_node(format!("{prefix}.index"), AxisOp::Add(0), &[indices])?[0];
			},
			1 => {},
			_ => {
				let flat = tvec![count(&indices_shape)];
				indices = model.wire_node(
					format!("{prefix}.indices"),
					AxisOp::Reshape(0, indices_shape, flat),
					&[indices],
				)?[0];
			},
		}
		let axis = x_rank.checked_sub(1).ok_or_else(|| format_err!("a scalar input"))?;
		let gathered = model.wire_node(
			format!("{prefix}.gather"),
			Gather { axis, output_type: None },
			&[inputs[0], indices],
		)?;
		if x_rank == 1 {
			return model.wire_node(format!("{prefix}.row"), AxisOp::Add(0), &gathered);
		}
		Ok(gathered)
	}
}
