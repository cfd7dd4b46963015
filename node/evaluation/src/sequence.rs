//! ONNX's `ReverseSequence`, which tract lacks: each batch element's first `sequence_lens[b]` steps in
//! reverse order, the steps after them as they are. tf2onnx writes the backward half of a Keras
//! `Bidirectional` recurrent layer with one before its `Loop`.

use tract_onnx::{
	model::{OnnxOpRegister, ParsingContext},
	pb::NodeProto,
	tract_hir::{infer::*, internal::*},
};

/// Registers `ReverseSequence`.
pub(crate) fn register(ops: &mut OnnxOpRegister) {
	ops.insert("ReverseSequence", parse);
}

fn parse(
	_ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let batch_axis = node.get_attr_opt::<i64>("batch_axis")?.unwrap_or(1);
	let time_axis = node.get_attr_opt::<i64>("time_axis")?.unwrap_or(0);
	ensure!(
		matches!((batch_axis, time_axis), (0, 1) | (1, 0)),
		"ReverseSequence's batch and time axes are 0 and 1, not {batch_axis} and {time_axis}"
	);
	Ok((Box::new(ReverseSequence { time_first: time_axis == 0 }), vec![]))
}

/// `ReverseSequence` with the time axis first (`time_first`) or second, the batch axis the other.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(crate) struct ReverseSequence {
	time_first: bool,
}

impl Op for ReverseSequence {
	fn name(&self) -> StaticName {
		"ReverseSequence".into()
	}

	op_as_typed_op!();
}

impl EvalOp for ReverseSequence {
	op_out_of_plan!();

	fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
		let (input, lens) = args_2!(inputs);
		let shape = input.shape();
		ensure!(shape.len() >= 2, "ReverseSequence needs time and batch axes, not shape {shape:?}");
		let dt = input.datum_type();
		ensure!(dt.is_copy(), "ReverseSequence of {dt:?} is not supported");
		let (steps, batch) =
			if self.time_first { (shape[0], shape[1]) } else { (shape[1], shape[0]) };
		let lens = lens.cast_to::<i64>()?;
		let lens = lens.try_as_plain_ram()?;
		let lens = lens.as_slice::<i64>()?;
		ensure!(
			lens.len() == batch,
			"ReverseSequence has {} sequence lengths for a batch of {batch}",
			lens.len()
		);
		// Each (step, batch element) holds a contiguous block of the other axes' values.
		let block = shape[2..].iter().product::<usize>() * dt.size_of();
		let offset = |step: usize, b: usize| {
			block * if self.time_first { step * batch + b } else { b * steps + step }
		};
		let mut output = input.clone().into_tensor();
		let source = input.as_bytes();
		let target = output.as_bytes_mut();
		for (b, &len) in lens.iter().enumerate() {
			let len = usize::try_from(len)
				.ok()
				.filter(|len| *len <= steps)
				.with_context(|| format!("sequence length {len} is not within 0..={steps}"))?;
			for step in 0..len {
				let (to, from) = (offset(step, b), offset(len - 1 - step, b));
				target[to..to + block].copy_from_slice(&source[from..from + block]);
			}
		}
		Ok(tvec!(output.into_tvalue()))
	}
}

impl InferenceOp for ReverseSequence {
	fn infer_facts(
		&mut self,
		inputs: TVec<&InferenceFact>,
		outputs: TVec<&InferenceFact>,
		observed: TVec<&InferenceFact>,
	) -> TractResult<(TVec<InferenceFact>, TVec<InferenceFact>, TVec<InferenceFact>)> {
		let mut inputs: TVec<InferenceFact> = inputs.into_iter().cloned().collect();
		let mut outputs: TVec<InferenceFact> = outputs.into_iter().cloned().collect();
		outputs[0].datum_type.unify_with_mut(&mut inputs[0].datum_type)?;
		outputs[0].shape.unify_with_mut(&mut inputs[0].shape)?;
		Ok((inputs, outputs, observed.into_iter().cloned().collect()))
	}

	fn to_typed(
		&self,
		_source: &InferenceModel,
		node: &InferenceNode,
		target: &mut TypedModel,
		mapping: &HashMap<OutletId, OutletId>,
	) -> TractResult<TVec<OutletId>> {
		crate::wire_typed(self.clone(), node, target, mapping)
	}

	as_op!();
}

impl TypedOp for ReverseSequence {
	fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
		ensure!(inputs.len() == 2, "ReverseSequence takes the sequences and their lengths");
		Ok(tvec!(inputs[0].without_value()))
	}

	as_op!();
}
