//! Squares of integers.
//!
//! tract's declutter writes `Mul(x, x)` and `Pow(x, 2)` as its `Square`, whatever `x`'s type, and its
//! `Square` computes only floats: a model squaring an integer value (a count, an index, a mask cast to
//! int64) failed with "Square does not support I64". [`IntegerSquares`], one more declutter pass,
//! replaces each `Square` of integers (or of shape dimensions) with [`IntegerSquare`], which computes
//! `x · x` as ONNX's `Mul` does for integers: wrapping on overflow.

use tract_onnx::tract_hir::{
	internal::*,
	tract_core::{
		ops::{element_wise::ElementWiseOp, math::Square},
		optim::{OptimizerSession, TypedPass},
	},
};

/// The declutter pass: each `Square` whose input holds integers or shape dimensions becomes an
/// [`IntegerSquare`].
#[derive(Clone, Debug, Default)]
pub(crate) struct IntegerSquares;

/// Whether tract's `Square` cannot compute values of type `dt` and [`IntegerSquare`] can.
fn integer(dt: DatumType) -> bool {
	(dt.is_integer() && !dt.is_quantized()) || dt == TDim::datum_type()
}

impl TypedPass for IntegerSquares {
	fn reset(&mut self) -> TractResult<()> {
		Ok(())
	}

	fn next(
		&mut self,
		_session: &mut OptimizerSession,
		model: &TypedModel,
	) -> TractResult<Option<TypedModelPatch>> {
		for node in &model.nodes {
			let Some(op) = node.op_as::<ElementWiseOp>() else { continue };
			if !op.0.is::<Square>() || node.inputs.len() != 1 {
				continue;
			}
			let dt = model.outlet_fact(node.inputs[0])?.datum_type;
			if integer(dt) && op.1.is_none_or(|out| out == dt) {
				return Ok(Some(TypedModelPatch::replace_single_op(
					model,
					node,
					&node.inputs,
					IntegerSquare,
				)?));
			}
		}
		Ok(None)
	}
}

/// `x · x` of integers (wrapping on overflow) or of shape dimensions.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub(crate) struct IntegerSquare;

fn square_in_place<T: Datum + Copy>(tensor: &mut Tensor, mul: fn(T, T) -> T) -> TractResult<()> {
	let mut view = tensor.try_as_plain_ram_mut()?;
	view.as_slice_mut::<T>()?.iter_mut().for_each(|x| *x = mul(*x, *x));
	Ok(())
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
		let mut tensor = args_1!(inputs).into_tensor();
		match tensor.datum_type() {
			DatumType::I8 => square_in_place::<i8>(&mut tensor, i8::wrapping_mul)?,
			DatumType::I16 => square_in_place::<i16>(&mut tensor, i16::wrapping_mul)?,
			DatumType::I32 => square_in_place::<i32>(&mut tensor, i32::wrapping_mul)?,
			DatumType::I64 => square_in_place::<i64>(&mut tensor, i64::wrapping_mul)?,
			DatumType::U8 => square_in_place::<u8>(&mut tensor, u8::wrapping_mul)?,
			DatumType::U16 => square_in_place::<u16>(&mut tensor, u16::wrapping_mul)?,
			DatumType::U32 => square_in_place::<u32>(&mut tensor, u32::wrapping_mul)?,
			DatumType::U64 => square_in_place::<u64>(&mut tensor, u64::wrapping_mul)?,
			DatumType::TDim => {
				let mut view = tensor.try_as_plain_ram_mut()?;
				for x in view.as_slice_mut::<TDim>()? {
					*x = x.clone() * &*x;
				}
			},
			dt => bail!("IntegerSquare of {dt:?}"),
		}
		Ok(tvec!(tensor.into_tvalue()))
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
