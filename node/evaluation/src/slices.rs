//! Slices at bounds computed from the data, with lengths the model can bind.
//!
//! tract types an ONNX `Slice` whose bounds are computed from the data (a bag of an `EmbeddingBag`, a
//! prefix as long as a count) as its `StridedSlice`, whose output's length is a new symbol created in a
//! scratch model's scope, gone as soon as the fact is made; its declutter then lowers it to a
//! `DynSlice` with yet another new symbol, in the scope of a patch that is gone once applied. So the
//! operators after the slice (a mean over the bag divides by its length) were typed with a symbol
//! nothing binds, and running the model failed ("Symbol points to an invalid (dead ?) SymbolScope",
//! or "Undetermined symbol"). Here each `Slice` is typed as tract types it and, when that gives a
//! `StridedSlice` with bounds computed from the data, lowered at once as tract's declutter lowers it,
//! each `DynSlice` replaced by a [`ComputedSlice`] whose length is a symbol of the model's own scope:
//! the operators after it are typed with the symbol the slice binds when it runs. A `ComputedSlice`
//! also takes its bounds as ONNX does, where tract's `DynSlice` refused an empty slice (a bag of no
//! tokens) and a negative bound; its length is a constant when the graph computes both bounds from one
//! value plus constants ([`constant_length`]). A `Slice` naming no axes at computed bounds is given its
//! axes first ([`with_axes`]).

use std::sync::OnceLock;
use tract_onnx::{
	model::{OnnxOpRegister, ParsingContext},
	pb::NodeProto,
	tract_hir::{
		infer::*,
		internal::*,
		tract_core::ops::{
			array::{DynSlice, Slice, StridedSlice},
			binary::TypedBinOp,
			cast::Cast,
			math::Add,
		},
	},
};

type Builder = fn(&ParsingContext, &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)>;

/// tract's builder of `Slice`.
static TRACT: OnceLock<Builder> = OnceLock::new();

/// Registers `Slice` in place of tract's, which it wraps.
pub(crate) fn register(ops: &mut OnnxOpRegister) {
	if let Some(tract) = ops.0.get("Slice") {
		let _ = TRACT.set(*tract);
		ops.insert("Slice", parse);
	}
}

fn parse(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let tract = TRACT.get().context("tract's Slice is registered")?;
	let (op, closures) = tract(ctx, node)?;
	Ok((Box::new(LiveSlice(op)), closures))
}

/// tract's `Slice`, typed with the lengths of slices at computed bounds symbols of the model.
#[derive(Clone, Debug)]
pub(crate) struct LiveSlice(Box<dyn InferenceOp>);

impl PartialEq for LiveSlice {
	fn eq(&self, _: &Self) -> bool {
		false
	}
}
impl Eq for LiveSlice {}

impl Op for LiveSlice {
	fn name(&self) -> StaticName {
		self.0.as_op().name()
	}

	not_a_typed_op!();
}

impl EvalOp for LiveSlice {
	fn eval(&self, ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
		self.0.as_op().eval(ctx, inputs)
	}

	fn eval_out_of_plan(&self, inputs: TVec<TValue>) -> TractResult<Option<TVec<TValue>>> {
		self.0.as_op().eval_out_of_plan(inputs)
	}

	fn state(&self, ctx: &EvalContext) -> TractResult<Option<Box<dyn OpState>>> {
		self.0.as_op().state(ctx)
	}
}

impl InferenceOp for LiveSlice {
	fn infer_facts(
		&mut self,
		inputs: TVec<&InferenceFact>,
		outputs: TVec<&InferenceFact>,
		observed: TVec<&InferenceFact>,
	) -> TractResult<(TVec<InferenceFact>, TVec<InferenceFact>, TVec<InferenceFact>)> {
		self.0.infer_facts(inputs, outputs, observed)
	}

	fn nboutputs(&self) -> TractResult<usize> {
		self.0.nboutputs()
	}

	fn to_typed(
		&self,
		source: &InferenceModel,
		node: &InferenceNode,
		target: &mut TypedModel,
		mapping: &HashMap<OutletId, OutletId>,
	) -> TractResult<TVec<OutletId>> {
		let inputs: TVec<OutletId> = node.inputs.iter().map(|o| mapping[o]).collect();
		let outlets = match with_axes(target, &node.name, &inputs)? {
			Some(outlets) => outlets,
			None => self.0.to_typed(source, node, target, mapping)?,
		};
		outlets.into_iter().map(|outlet| lowered(target, outlet)).collect()
	}

	as_op!();
}

/// A `Slice` at computed bounds that names no axes, wired with its axes: ONNX slices the first axes, as
/// many as it has starts, where tract's `StridedSlice` took one start per axis of the input and failed
/// on fewer ("`end <= len`"): torch.export slices the rows of an `EmbeddingBag`'s weights so. `None`
/// for any other `Slice`, which tract types as it does.
fn with_axes(
	model: &mut TypedModel,
	name: &str,
	inputs: &[OutletId],
) -> TractResult<Option<TVec<OutletId>>> {
	let [data, start, end] = inputs[..] else { return Ok(None) };
	let (data, start, end) =
		(model.outlet_fact(data)?, model.outlet_fact(start)?, model.outlet_fact(end)?);
	let computed = start.konst.is_none() || end.konst.is_none();
	let starts = match start.shape.as_concrete() {
		Some(&[starts]) => starts,
		_ => return Ok(None),
	};
	if !computed || starts >= data.rank() {
		return Ok(None);
	}
	let axes: Vec<i64> = (0..starts as i64).collect();
	let axes = model.add_const(format!("{name}.axes"), tensor1(&axes))?;
	let op = StridedSlice {
		optional_axes_input: Some(3),
		optional_steps_input: None,
		begin_mask: 0,
		end_mask: 0,
		shrink_axis_mask: 0,
	};
	Ok(Some(model.wire_node(name, op, &[inputs[0], inputs[1], inputs[2], axes])?))
}

/// `outlet`, or when a `StridedSlice` computes it at bounds computed from the data (its length then a
/// symbol of no live scope), the same slice lowered as tract's declutter lowers it, wired into `model`
/// with each `DynSlice` a [`ComputedSlice`] whose length is a new symbol of the model's scope. The
/// `StridedSlice` is left unused.
fn lowered(model: &mut TypedModel, outlet: OutletId) -> TractResult<OutletId> {
	let node = model.node(outlet.node);
	let Some(op) = node.op_as::<StridedSlice>() else { return Ok(outlet) };
	let fact = model.outlet_fact(outlet)?;
	if fact.shape.iter().flat_map(|d| d.symbols()).all(|s| s.scope().is_some()) {
		return Ok(outlet);
	}
	let patch = op.declutter(model, node)?.context("tract lowers every StridedSlice")?;
	// The lowered slice's last node takes the slice's name.
	let name = &mut model.nodes[outlet.node].name;
	*name = format!("{name}.unlowered");
	let scope = patch.model.symbols.clone();
	let mut wired: HashMap<OutletId, OutletId> = patch.taps.clone();
	// The patch's nodes were added in order, each after its inputs.
	for id in 0..patch.model.nodes.len() {
		let inner = &patch.model.nodes[id];
		if wired.contains_key(&OutletId::new(id, 0)) {
			continue;
		}
		let inputs: TVec<OutletId> = inner
			.inputs
			.iter()
			.map(|i| wired.get(i).copied().context("the patch wires its nodes in order"))
			.collect::<TractResult<_>>()?;
		let mut op = inner.op.clone();
		if let Some(slice) = inner.op_as::<DynSlice>() {
			if slice.len.symbols().iter().any(|s| s.scope().as_ref() == Some(&scope)) {
				let len = match constant_length(model, inputs[1], inputs[2]) {
					Some(len) => len.into(),
					None => model.symbols.new_with_prefix("length").into(),
				};
				op = Box::new(ComputedSlice { axis: slice.axis, len });
			}
		}
		for (slot, o) in model.wire_node(&inner.name, op, &inputs)?.into_iter().enumerate() {
			wired.insert(OutletId::new(id, slot), o);
		}
	}
	patch
		.shunts
		.get(&outlet)
		.and_then(|replacement| wired.get(replacement))
		.copied()
		.context("the lowered slice replaces the output")
}

/// The length of a slice from `start` to `end` when the graph computes both from one value plus
/// constants (`x[i : i + 1]`, `x[i + 1 : i + 2]`, as exporters write a loop's element): the slice is
/// then typed with that length, and the operators after it with it (a `Squeeze` of one element, an
/// `If` on it). [`ComputedSlice`] checks it when it runs: clamped at the axis's end, the slice would
/// be shorter.
fn constant_length(model: &TypedModel, start: OutletId, end: OutletId) -> Option<i64> {
	let (start, start_offset) = offset_of(model, start);
	let (end, end_offset) = offset_of(model, end);
	(start == end).then(|| end_offset.checked_sub(start_offset)).flatten().filter(|len| *len >= 0)
}

/// `outlet` as a value plus a constant: the value (see [`element_of`]) and the constant, 0 when the
/// graph adds none.
fn offset_of(model: &TypedModel, outlet: OutletId) -> ((OutletId, Vec<Slice>), i64) {
	let (value, slices) = element_of(model, outlet);
	let node = model.node(value.node);
	if node.op_as::<TypedBinOp>().is_some_and(|op| op.0.is::<Add>()) && node.inputs.len() == 2 {
		for (term, constant) in [(0, 1), (1, 0)] {
			let constant =
				model.outlet_fact(node.inputs[constant]).ok().and_then(|f| f.konst.clone());
			// One value, added to every element: slicing before or after adding is the same.
			let integer = |c: &Arc<Tensor>| c.datum_type().is_integer() || c.datum_type().is_tdim();
			let Some(constant) = constant.filter(|c| c.len() == 1 && integer(c)) else { continue };
			let Ok(constant) = constant.cast_to_scalar::<i64>() else { continue };
			let (base, inner) = element_of(model, node.inputs[term]);
			return ((base, slices.into_iter().chain(inner).collect()), constant);
		}
	}
	((value, slices), 0)
}

/// The value `outlet` holds, through the operators that keep it: axis changes and casts; and the
/// slices taken of it on the way, which pick the same element of two vectors that they both slice.
fn element_of(model: &TypedModel, mut outlet: OutletId) -> (OutletId, Vec<Slice>) {
	let mut slices = vec![];
	loop {
		let node = model.node(outlet.node);
		if let Some(slice) = node.op_as::<Slice>() {
			slices.push(slice.clone());
		} else if !(node.op_is::<AxisOp>() || node.op_is::<Cast>()) {
			return (outlet, slices);
		}
		outlet = node.inputs[0];
	}
}

/// A slice of `axis` from and to bounds computed from the data, `len` long, as ONNX's `Slice` with a
/// step of 1 takes them: a negative bound counts from the end, bounds are clamped to the axis, and an
/// end at or before the start is an empty slice. (tract's `DynSlice`, which this replaces, refused
/// empty slices and negative bounds: a bag of no tokens, a suffix of computed length.)
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(crate) struct ComputedSlice {
	axis: usize,
	len: TDim,
}

impl Op for ComputedSlice {
	fn name(&self) -> StaticName {
		"ComputedSlice".into()
	}

	/// The slice's length is known when it has run.
	fn mints_runtime_symbols(&self) -> bool {
		true
	}

	op_as_typed_op!();
}

impl EvalOp for ComputedSlice {
	op_out_of_plan!();

	fn eval(&self, ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
		let (input, start, end) = args_3!(inputs);
		let mut shape: TVec<usize> = input.shape().into();
		let dim = i64::try_from(shape[self.axis])?;
		let bound = |value: &Tensor| -> TractResult<i64> {
			let value = value.cast_to::<TDim>()?;
			let value =
				value.try_as_plain_ram()?.to_scalar::<TDim>()?.eval(ctx.symbols).to_i64()?;
			Ok(if value < 0 { value.saturating_add(dim) } else { value }.clamp(0, dim))
		};
		let (start, end) = (bound(&start)?, bound(&end)?);
		if let Ok(len) = self.len.to_i64() {
			ensure!(
				end.saturating_sub(start).max(0) == len,
				"a slice from {start} to {end} where the graph computes a length of {len}"
			);
		}
		if end <= start {
			shape[self.axis] = 0;
			return Ok(tvec!(Tensor::zero_dt(input.datum_type(), &shape)?.into_tvalue()));
		}
		Ok(tvec!(input.slice(self.axis, start as usize, end as usize)?.into_tvalue()))
	}
}

impl TypedOp for ComputedSlice {
	fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
		ensure!(inputs.len() == 3, "a slice takes its input, start and end");
		let mut fact = inputs[0].without_value();
		fact.shape.set(self.axis, self.len.clone());
		Ok(tvec!(fact))
	}

	as_op!();
}
