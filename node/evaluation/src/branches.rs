//! ONNX's `If`, typed from its inputs' typed facts.
//!
//! tract types an `If`'s branches from what the analysis of the enclosing graph inferred of the values
//! they read. Where that is not a complete fact, as for a slice at bounds computed from the data (its
//! length is a symbol only once typed), typing failed ("Source node without a determined fact"):
//! torch.export's `nn.EmbeddingBag` takes the mean of each bag in an `If` (zeros for an empty bag). Here
//! the branches are analysed as tract does, and typed from the typed facts of the values they read.
//!
//! And tract's typed `If` (`IfThenElse`) gives its outputs the `then` branch's facts with their values:
//! a branch that gives a constant (zeros for an empty bag) made every run's output that constant to the
//! operators after it, which tract then folded. [`TypedIf`] gives the facts both branches share, values
//! left out (a dimension they disagree on is a symbol, bound when the `If` runs).

use tract_onnx::{
	model::{OnnxOpRegister, ParseResult, ParsingContext},
	ops::logic::If,
	pb::{GraphProto, NodeProto},
	tract_hir::{infer::*, internal::*},
};

/// Registers `If` in place of tract's.
pub(crate) fn register(ops: &mut OnnxOpRegister) {
	ops.insert("If", parse);
}

/// A branch: its graph parsed, and for each of its inputs the index of the `If`'s input it reads.
#[derive(Clone, Debug)]
struct Branch {
	body: InferenceModel,
	inputs: Vec<usize>,
}

impl Branch {
	/// The branch typed and optimised for the `If`'s inputs of `facts`.
	fn typed(&self, facts: &[TypedFact], symbols: &SymbolScope) -> TractResult<TypedModel> {
		let mut body = self.body.clone();
		body.symbols = symbols.clone();
		for (ix, outer) in self.inputs.iter().enumerate() {
			body.set_input_fact(ix, facts[*outer].clone().into())?;
		}
		crate::optimized(body)
	}
}

fn parse(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let branch = |name: &str| -> TractResult<(InferenceModel, Vec<String>)> {
		let graph: &GraphProto = node.get_attr(name)?;
		let ParseResult { model, unresolved_inputs, .. } = ctx.parse_graph(graph)?;
		Ok((model, unresolved_inputs))
	};
	let (then_body, then_reads) = branch("then_branch")?;
	let (else_body, else_reads) = branch("else_branch")?;
	// The `If`'s inputs: the condition, then every value either branch reads, once each.
	let mut closures: Vec<String> = then_reads.iter().chain(&else_reads).cloned().collect();
	closures.sort();
	closures.dedup();
	let inputs = |reads: &[String]| -> Vec<usize> {
		reads.iter().map(|r| 1 + closures.iter().position(|c| c == r).unwrap_or(0)).collect()
	};
	let then_branch = Branch { body: then_body, inputs: inputs(&then_reads) };
	let else_branch = Branch { body: else_body, inputs: inputs(&else_reads) };
	let tract = If::new(
		then_branch.body.clone(),
		then_branch.inputs.clone(),
		else_branch.body.clone(),
		else_branch.inputs.clone(),
	);
	Ok((Box::new(TypedFromFacts { tract, then_branch, else_branch }), closures))
}

/// tract's `If` for the analysis; its branches typed from typed facts.
#[derive(Clone, Debug)]
pub(crate) struct TypedFromFacts {
	tract: If,
	then_branch: Branch,
	else_branch: Branch,
}

impl PartialEq for TypedFromFacts {
	fn eq(&self, _: &Self) -> bool {
		false
	}
}
impl Eq for TypedFromFacts {}

impl Op for TypedFromFacts {
	fn name(&self) -> StaticName {
		"If".into()
	}

	not_a_typed_op!();
}

impl EvalOp for TypedFromFacts {
	fn eval(&self, ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
		self.tract.eval(ctx, inputs)
	}

	fn eval_out_of_plan(&self, inputs: TVec<TValue>) -> TractResult<Option<TVec<TValue>>> {
		self.tract.eval_out_of_plan(inputs)
	}
}

impl InferenceOp for TypedFromFacts {
	fn infer_facts(
		&mut self,
		inputs: TVec<&InferenceFact>,
		outputs: TVec<&InferenceFact>,
		observed: TVec<&InferenceFact>,
	) -> TractResult<(TVec<InferenceFact>, TVec<InferenceFact>, TVec<InferenceFact>)> {
		self.tract.infer_facts(inputs, outputs, observed)
	}

	fn nboutputs(&self) -> TractResult<usize> {
		self.tract.nboutputs()
	}

	fn to_typed(
		&self,
		_source: &InferenceModel,
		node: &InferenceNode,
		target: &mut TypedModel,
		mapping: &HashMap<OutletId, OutletId>,
	) -> TractResult<TVec<OutletId>> {
		let (inputs, facts) = crate::typed_inputs(node, target, mapping)?;
		let then_body = self.then_branch.typed(&facts, &target.symbols)?;
		let else_body = self.else_branch.typed(&facts, &target.symbols)?;
		ensure!(
			then_body.outputs.len() == else_body.outputs.len(),
			"the If's branches give {} and {} outputs",
			then_body.outputs.len(),
			else_body.outputs.len()
		);
		let mut output_facts = tvec!();
		for ix in 0..then_body.outputs.len() {
			let (then_fact, else_fact) = (then_body.output_fact(ix)?, else_body.output_fact(ix)?);
			ensure!(
				then_fact.datum_type == else_fact.datum_type
					&& then_fact.rank() == else_fact.rank(),
				"the If's branches give {then_fact:?} and {else_fact:?} as output {ix}"
			);
			let dims: TVec<TDim> = then_fact
				.shape
				.iter()
				.zip(else_fact.shape.iter())
				.map(|(a, b)| {
					if a == b {
						a.clone()
					} else {
						target.symbols.new_with_prefix("branch").into()
					}
				})
				.collect();
			output_facts.push(then_fact.datum_type.fact(&*dims));
		}
		let op = TypedIf {
			then_plan: then_body.into_runnable()?,
			then_inputs: self.then_branch.inputs.clone(),
			else_plan: else_body.into_runnable()?,
			else_inputs: self.else_branch.inputs.clone(),
			output_facts,
		};
		target.wire_node(&node.name, op, &inputs)
	}

	as_op!();
}

/// An `If` with typed and optimised branches: runs the one its condition chooses.
#[derive(Clone)]
pub(crate) struct TypedIf {
	then_plan: std::sync::Arc<TypedRunnableModel>,
	then_inputs: Vec<usize>,
	else_plan: std::sync::Arc<TypedRunnableModel>,
	else_inputs: Vec<usize>,
	output_facts: TVec<TypedFact>,
}

impl std::fmt::Debug for TypedIf {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_struct("TypedIf").field("outputs", &self.output_facts).finish()
	}
}

impl PartialEq for TypedIf {
	fn eq(&self, _: &Self) -> bool {
		false
	}
}
impl Eq for TypedIf {}

impl Op for TypedIf {
	fn name(&self) -> StaticName {
		"If".into()
	}

	/// A dimension the branches disagree on is known when the `If` has run.
	fn mints_runtime_symbols(&self) -> bool {
		true
	}

	op_as_typed_op!();
}

impl EvalOp for TypedIf {
	// Evaluated in a plan only: its outputs' shapes may hold symbols only a run binds.
	not_out_of_plan!();

	fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
		ensure!(
			inputs[0].len() == 1,
			"an If's condition is one value, not {:?}",
			inputs[0].shape()
		);
		let cond = inputs[0].cast_to::<bool>()?.try_as_plain_ram()?.as_slice::<bool>()?[0];
		let (plan, mapping) = if cond {
			(&self.then_plan, &self.then_inputs)
		} else {
			(&self.else_plan, &self.else_inputs)
		};
		let inputs: TVec<TValue> = mapping.iter().map(|&ix| inputs[ix].clone()).collect();
		plan.spawn()?.run_plan_with_eval(inputs, crate::eval_node)
	}
}

impl TypedOp for TypedIf {
	fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
		Ok(self.output_facts.clone())
	}

	as_op!();
}
