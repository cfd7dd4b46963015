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
//! each `DynSlice`'s length a symbol of the model's own scope: the operators after it are typed with
//! the symbol the `DynSlice` binds when it runs.

use std::sync::OnceLock;
use tract_onnx::{
	model::{OnnxOpRegister, ParsingContext},
	pb::NodeProto,
	tract_hir::{
		infer::*,
		internal::*,
		tract_core::ops::array::{DynSlice, StridedSlice},
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
		let outlets = self.0.to_typed(source, node, target, mapping)?;
		outlets.into_iter().map(|outlet| lowered(target, outlet)).collect()
	}

	as_op!();
}

/// `outlet`, or when a `StridedSlice` computes it at bounds computed from the data (its length then a
/// symbol of no live scope), the same slice lowered as tract's declutter lowers it, wired into `model`
/// with each `DynSlice`'s length a new symbol of the model's scope. The `StridedSlice` is left unused.
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
		let mut op = inner.op.clone();
		if let Some(slice) = op.as_op_mut().downcast_mut::<DynSlice>() {
			if slice.len.symbols().iter().any(|s| s.scope().as_ref() == Some(&scope)) {
				slice.len = model.symbols.new_with_prefix("length").into();
			}
		}
		let inputs: TVec<OutletId> = inner
			.inputs
			.iter()
			.map(|i| wired.get(i).copied().context("the patch wires its nodes in order"))
			.collect::<TractResult<_>>()?;
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
