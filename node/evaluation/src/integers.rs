//! Integer arithmetic that tract computes only for floats.
//!
//! tract's declutter writes `Mul(x, x)` and `Pow(x, 2)` as its `Square`, whatever `x`'s type, and its
//! `Square` computes only floats: a model squaring an integer value (a count, an index, a mask cast to
//! int64) failed with "Square does not support I64". And its `MatMul` and `Einsum` (an `EinSum`) are
//! lowered to float or quantized kernels: an integer one panicked ("Can't build a WeightType from
//! I64"). [`IntegerArithmetic`], one more optimiser pass, replaces each `Square` of integers (or of
//! shape dimensions) with [`IntegerSquare`] and each `EinSum` of integers with [`IntegerEinSum`],
//! which compute as ONNX's `Mul`, `MatMul` and `Einsum` do for integers: wrapping on overflow.

use tract_onnx::tract_hir::{
	internal::*,
	tract_core::{
		ops::{einsum::EinSum, element_wise::ElementWiseOp, math::Square},
		optim::{OptimizerSession, TypedPass},
	},
};

/// The optimiser pass: each `Square` whose input holds integers or shape dimensions becomes an
/// [`IntegerSquare`], each `EinSum` computing integers an [`IntegerEinSum`].
#[derive(Clone, Debug, Default)]
pub(crate) struct IntegerArithmetic;

/// Whether tract's `Square` cannot compute values of type `dt` and [`IntegerSquare`] can.
fn integer(dt: DatumType) -> bool {
	(dt.is_integer() && !dt.is_quantized()) || dt == TDim::datum_type()
}

impl TypedPass for IntegerArithmetic {
	fn reset(&mut self) -> TractResult<()> {
		Ok(())
	}

	fn next(
		&mut self,
		_session: &mut OptimizerSession,
		model: &TypedModel,
	) -> TractResult<Option<TypedModelPatch>> {
		for node in &model.nodes {
			let replacement: Box<dyn TypedOp> = if let Some(op) = node.op_as::<ElementWiseOp>() {
				let dt = model.outlet_fact(node.inputs[0])?.datum_type;
				if !(op.0.is::<Square>() && integer(dt) && op.1.is_none_or(|out| out == dt)) {
					continue;
				}
				Box::new(IntegerSquare)
			} else if let Some(op) = node.op_as::<EinSum>() {
				let dt = op.operating_dt;
				if op.q_params.is_some() || !dt.is_integer() || dt.is_quantized() {
					continue;
				}
				Box::new(IntegerEinSum(op.clone()))
			} else {
				continue;
			};
			return Ok(Some(TypedModelPatch::replace_single_op(
				model,
				node,
				&node.inputs,
				replacement,
			)?));
		}
		Ok(None)
	}
}

/// `x · x` of integers (wrapping on overflow) or of shape dimensions.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub(crate) struct IntegerSquare;

/// `values` (computed in i64 with wrapping) as a tensor of the integer type `dt`: tract's casts
/// between integer types truncate, as Rust's `as` does, so this is `dt`'s own wrapping result.
fn from_wide(values: Tensor, dt: DatumType) -> TractResult<TVec<TValue>> {
	Ok(tvec!(values.cast_to_dt(dt)?.into_owned().into_tvalue()))
}

impl Op for IntegerSquare {
	fn name(&self) -> StaticName {
		"IntegerSquare".into()
	}

	op_as_typed_op!();
}

impl EvalOp for IntegerSquare {
	op_out_of_plan!();

	fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
		let input = args_1!(inputs);
		let dt = input.datum_type();
		if dt == TDim::datum_type() {
			let mut tensor = input.into_tensor();
			let mut view = tensor.try_as_plain_ram_mut()?;
			for x in view.as_slice_mut::<TDim>()? {
				*x = x.clone() * &*x;
			}
			drop(view);
			return Ok(tvec!(tensor.into_tvalue()));
		}
		let mut wide = input.cast_to::<i64>()?.into_owned();
		let mut view = wide.try_as_plain_ram_mut()?;
		view.as_slice_mut::<i64>()?.iter_mut().for_each(|x| *x = x.wrapping_mul(*x));
		drop(view);
		from_wide(wide, dt)
	}
}

impl TypedOp for IntegerSquare {
	fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
		Ok(tvec!(inputs[0].datum_type.fact(inputs[0].shape.clone())))
	}

	fn axes_mapping(
		&self,
		inputs: &[&TypedFact],
		outputs: &[&TypedFact],
	) -> TractResult<AxesMapping> {
		AxesMapping::natural(inputs, outputs)
	}

	as_op!();
}

/// An `EinSum` of integers, computed term by term: every combination of its axes' indices adds the
/// product of the inputs' elements there to the output's (with wrapping, in i64: see [`from_wide`]).
/// Axes of size 1 broadcast, as in tract's.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(crate) struct IntegerEinSum(EinSum);

impl Op for IntegerEinSum {
	fn name(&self) -> StaticName {
		"IntegerEinSum".into()
	}

	op_as_typed_op!();
}

impl EvalOp for IntegerEinSum {
	op_out_of_plan!();

	fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
		let axes = &self.0.axes;
		let inputs: Vec<Tensor> = inputs
			.iter()
			.map(|t| Ok(t.cast_to::<i64>()?.into_owned()))
			.collect::<TractResult<_>>()?;
		let views: Vec<_> =
			inputs.iter().map(|t| t.try_as_plain_ram()).collect::<TractResult<_>>()?;
		let values: Vec<&[i64]> =
			views.iter().map(|v| v.as_slice::<i64>()).collect::<TractResult<_>>()?;
		let all: Vec<_> = axes.iter_all_axes().collect();
		// Each axis's size: the largest of its dimensions in the inputs (1 broadcasts).
		let sizes: Vec<usize> = all
			.iter()
			.map(|axis| {
				axis.inputs
					.iter()
					.zip(&inputs)
					.flat_map(|(positions, t)| positions.iter().map(|p| t.shape()[*p]))
					.max()
					.unwrap_or(1)
			})
			.collect();
		let output_shape: Vec<usize> = (0..axes.rank(InOut::Out(0)))
			.map(|p| all.iter().position(|a| a.outputs[0].contains(&p)).map_or(1, |a| sizes[a]))
			.collect();
		let strides = |shape: &[usize]| -> Vec<usize> {
			let mut strides = vec![1; shape.len()];
			for i in (0..shape.len().saturating_sub(1)).rev() {
				strides[i] = strides[i + 1] * shape[i + 1];
			}
			strides
		};
		let input_strides: Vec<Vec<usize>> = inputs.iter().map(|t| strides(t.shape())).collect();
		let output_strides = strides(&output_shape);
		let mut output = vec![0i64; output_shape.iter().product()];
		let mut index = vec![0usize; all.len()];
		if sizes.iter().all(|s| *s > 0) {
			'combinations: loop {
				let mut product = 1i64;
				for (slot, t) in inputs.iter().enumerate() {
					let mut offset = 0;
					for (a, axis) in all.iter().enumerate() {
						for p in &axis.inputs[slot] {
							// A dimension of 1 broadcasts.
							let i = if t.shape()[*p] == 1 { 0 } else { index[a] };
							offset += i * input_strides[slot][*p];
						}
					}
					product = product.wrapping_mul(values[slot][offset]);
				}
				let mut offset = 0;
				for (a, axis) in all.iter().enumerate() {
					for p in &axis.outputs[0] {
						offset += index[a] * output_strides[*p];
					}
				}
				output[offset] = output[offset].wrapping_add(product);
				// The next combination of indices, the last axis fastest.
				let mut a = all.len();
				loop {
					if a == 0 {
						break 'combinations;
					}
					a -= 1;
					index[a] += 1;
					if index[a] < sizes[a] {
						break;
					}
					index[a] = 0;
				}
			}
		}
		from_wide(Tensor::from_shape(&output_shape, &output)?, self.0.operating_dt)
	}
}

impl TypedOp for IntegerEinSum {
	fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
		self.0.output_facts(inputs)
	}

	as_op!();
}
