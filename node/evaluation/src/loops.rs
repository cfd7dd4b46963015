//! ONNX's `Loop`, which tract lacks: its body run once per iteration, as a tract model of its own.
//!
//! `nn.EmbeddingBag` (TorchScript's exporter: one iteration per bag, slicing the bag's indices at
//! data-dependent bounds), recurrent layers exported by tf2onnx and generation loops are written as a
//! `Loop`. Rewriting one as tract's `Scan` fails inside the `Scan` for exactly these bodies (a slice of a
//! data-dependent length, a scanned value read twice), so the engine runs the loop itself:
//! [`TypedLoop`] holds the body typed and optimised once, for the types and shapes of the values the
//! loop starts from, and each evaluation runs it as the specification says:
//!
//! ```text
//! i = 0; cond = cond_in (true when absent); v = v_initial
//! while (no trip count M or i < M) and (no condition or cond):
//!     cond, v, scan_outputs = body(i, cond, v, values of the enclosing graphs)
//!     i += 1
//! outputs: v (the loop-carried values' last), each scan output's values stacked on a new first axis
//! ```
//!
//! A loop-carried value may change its shape from one iteration to the next (a sequence grown by
//! `Concat`): the body is typed again with those dimensions symbolic. A loop with neither a trip count
//! nor a condition never ends and is refused; one that runs too long meets the evaluation's time limit,
//! as any costly model does.

use tract_onnx::{
	model::{OnnxOpRegister, ParseResult, ParsingContext},
	pb::{tensor_proto::DataType, type_proto, GraphProto, NodeProto, TensorShapeProto, TypeProto},
	tract_hir::{infer::*, internal::*, ops::unimpl::UnimplementedOp},
};

/// Registers `Loop` (tract has no builder for it) and [`ConcatFromScan`].
pub(crate) fn register(ops: &mut OnnxOpRegister) {
	ops.insert("Loop", parse);
	ops.insert("ConcatFromScan", parse_concat);
}

fn parse(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let mut graph: GraphProto = node.get_attr::<&GraphProto>("body")?.clone();
	let has_trip = node.input.first().is_some_and(|name| !name.is_empty());
	let has_cond = node.input.get(1).is_some_and(|name| !name.is_empty());
	ensure!(has_trip || has_cond, "a Loop with neither a trip count nor a condition never ends");
	let carried = node.input.len().saturating_sub(2);
	let declared = graph.input.len();
	ensure!(
		declared == 2 + carried,
		"the Loop's body takes {declared} inputs; it must take the iteration number, the condition \
		 and the {carried} loop-carried values"
	);
	let outputs = graph.output.len();
	ensure!(
		outputs > carried,
		"the Loop's body gives {outputs} outputs; it must give the condition and the {carried} \
		 loop-carried values first"
	);
	// ONNX lets a body's inputs leave their types to the loop's: the iteration number and condition
	// are scalars, a loop-carried value has its initial value's element type.
	for (ix, input) in graph.input.iter_mut().enumerate() {
		if matches!(input.r#type, Some(TypeProto { value: Some(_), .. })) {
			continue;
		}
		let elem_type = match ix {
			0 => Some(DataType::Int64 as i32),
			1 => Some(DataType::Bool as i32),
			_ => outer_element_type(ctx, &node.input[ix]),
		};
		let Some(elem_type) = elem_type else {
			let what = format!(
				"Loop carrying `{}`, a sequence or a value of no tensor type",
				node.input[ix]
			);
			let outputs = node.output.iter().filter(|o| !o.is_empty()).count();
			return Ok((UnimplementedOp::new(outputs, &what, &what).into(), vec![]));
		};
		let shape = (ix < 2).then(TensorShapeProto::default);
		input.r#type = Some(TypeProto {
			value: Some(type_proto::Value::TensorType(type_proto::Tensor { elem_type, shape })),
			..Default::default()
		});
	}
	let ParseResult { model: body, unresolved_inputs, .. } = ctx.parse_graph(&graph)?;
	let op = InferenceLoop {
		body,
		layout: Layout { has_trip, has_cond, carried, scans: outputs - 1 - carried },
		closures: unresolved_inputs.len(),
	};
	Ok((Box::new(op), unresolved_inputs))
}

/// The element type the graphs around a `Loop` declare for the value `name` (the innermost first),
/// when it is a tensor.
fn outer_element_type(ctx: &ParsingContext, name: &str) -> Option<i32> {
	ctx.parent_graphs.iter().rev().find_map(|graph| {
		let declared = graph.input.iter().chain(&graph.value_info).chain(&graph.output);
		declared
			.filter(|v| v.name == name)
			.find_map(|v| match &v.r#type {
				Some(TypeProto { value: Some(type_proto::Value::TensorType(t)), .. }) => {
					Some(t.elem_type)
				},
				_ => None,
			})
			.or_else(|| graph.initializer.iter().find(|t| t.name == name).map(|t| t.data_type))
	})
}

/// What the inputs of a `Loop` node are: the trip count and the condition when given, the
/// loop-carried values' initial ones, then the values of the enclosing graphs the body reads.
#[derive(Clone, Copy, Debug)]
struct Layout {
	has_trip: bool,
	has_cond: bool,
	carried: usize,
	scans: usize,
}

impl Layout {
	/// The index of the first loop-carried value among the node's inputs.
	fn first_carried(&self) -> usize {
		usize::from(self.has_trip) + usize::from(self.has_cond)
	}

	/// The index of the first value of the enclosing graphs among the node's inputs.
	fn first_closure(&self) -> usize {
		self.first_carried() + self.carried
	}
}

/// The `Loop` as parsed, its body an inference model; typed as [`TypedLoop`].
#[derive(Clone, Debug)]
pub(crate) struct InferenceLoop {
	body: InferenceModel,
	layout: Layout,
	closures: usize,
}

impl PartialEq for InferenceLoop {
	fn eq(&self, _: &Self) -> bool {
		false
	}
}
impl Eq for InferenceLoop {}

impl InferenceLoop {
	/// The body with the facts of its inputs: the iteration number, the condition, the loop-carried
	/// values (`carried`) and the enclosing graphs' values (`closures`).
	fn body_with(
		&self,
		carried: impl IntoIterator<Item = InferenceFact>,
		closures: impl IntoIterator<Item = InferenceFact>,
	) -> TractResult<InferenceModel> {
		let mut body = self.body.clone();
		body.set_input_fact(0, InferenceFact::dt_shape(i64::datum_type(), TVec::<usize>::new()))?;
		body.set_input_fact(1, InferenceFact::dt_shape(bool::datum_type(), TVec::<usize>::new()))?;
		for (ix, fact) in carried.into_iter().chain(closures).enumerate() {
			body.set_input_fact(2 + ix, fact)?;
		}
		Ok(body)
	}

	/// The loop typed for inputs of `facts`: the body typed and optimised for them, and the loop's
	/// output facts.
	fn typed(&self, facts: &[TypedFact], symbols: &SymbolScope) -> TractResult<TypedLoop> {
		let layout = self.layout;
		let closures: TVec<InferenceFact> =
			facts[layout.first_closure()..].iter().map(|f| f.clone().into()).collect();
		// A loop-carried value's initial value may be a constant; the body's input is not one.
		let mut carried: TVec<TypedFact> = facts[layout.first_carried()..layout.first_closure()]
			.iter()
			.map(|f| f.datum_type.fact(f.shape.clone()))
			.collect();
		let outer: Vec<Symbol> =
			facts.iter().flat_map(|f| f.shape.iter().flat_map(|d| d.symbols())).collect();
		// Which dimensions of each loop-carried value the body is typed for as symbols.
		let mut generalised: Vec<Vec<bool>> =
			carried.iter().map(|f| vec![false; f.rank()]).collect();
		let body = loop {
			let mut body =
				self.body_with(carried.iter().map(|f| f.clone().into()), closures.clone())?;
			body.symbols = symbols.clone();
			let body = crate::optimized(body)?;
			ensure!(
				body.outputs.len() == 1 + layout.carried + layout.scans,
				"the Loop's body gives {} outputs, {} expected",
				body.outputs.len(),
				1 + layout.carried + layout.scans
			);
			let mut changed = false;
			for (ix, fact) in carried.iter_mut().enumerate() {
				let out = body.output_fact(1 + ix)?;
				ensure!(
					same_type(out.datum_type, fact.datum_type),
					"loop-carried value {ix} starts as {:?} and the body gives {:?}",
					fact.datum_type,
					out.datum_type
				);
				ensure!(
					out.rank() == fact.rank(),
					"loop-carried value {ix} starts of rank {} and the body gives rank {}",
					fact.rank(),
					out.rank()
				);
				let mut dims: TVec<TDim> = fact.shape.iter().cloned().collect();
				for (axis, dim) in dims.iter_mut().enumerate() {
					if !generalised[ix][axis] && out.shape[axis] != *dim {
						*dim = symbols.new_with_prefix("loop_carried").into();
						generalised[ix][axis] = true;
						changed = true;
					}
				}
				*fact = fact.datum_type.fact(&*dims);
			}
			if !changed {
				break body;
			}
		};

		// What the loop gives: the loop-carried values (of their starting shape, but for the dimensions
		// that change), then the scan outputs (one more axis: the iterations). A dimension the body
		// computes is a new symbol, bound when the loop has run.
		let fresh = |dim: &TDim| -> TDim {
			if dim.symbols().iter().all(|s| outer.contains(s)) {
				dim.clone()
			} else {
				symbols.new_with_prefix("loop_output").into()
			}
		};
		let trip = layout
			.has_trip
			.then(|| facts[0].konst.as_ref().and_then(|k| k.cast_to_scalar::<i64>().ok()))
			.flatten();
		let length: TDim = match trip {
			Some(trip) if !layout.has_cond => trip.max(0).into(),
			_ => symbols.new_with_prefix("loop_iterations").into(),
		};
		let mut output_facts = tvec!();
		for fact in &carried {
			let dims: TVec<TDim> = fact.shape.iter().map(fresh).collect();
			output_facts.push(fact.datum_type.fact(&*dims));
		}
		let mut scan_facts = vec![];
		for ix in 0..layout.scans {
			let out = body.output_fact(1 + layout.carried + ix)?;
			let dims: TVec<TDim> =
				std::iter::once(length.clone()).chain(out.shape.iter().map(fresh)).collect();
			output_facts.push(out.datum_type.fact(&*dims));
			scan_facts.push(out.without_value());
		}
		let carried_types = carried.iter().map(|f| f.datum_type).collect();
		Ok(TypedLoop {
			plan: body.into_runnable()?,
			layout,
			carried_types,
			scan_facts,
			output_facts,
		})
	}
}

/// Whether values of `a` and `b` are the same numbers: tract computes shapes as `TDim`, which the
/// graph sees as int64.
fn same_type(a: DatumType, b: DatumType) -> bool {
	let number = |dt: DatumType| if dt == TDim::datum_type() { i64::datum_type() } else { dt };
	number(a) == number(b)
}

impl Op for InferenceLoop {
	fn name(&self) -> StaticName {
		"Loop".into()
	}

	not_a_typed_op!();
}

impl EvalOp for InferenceLoop {
	not_out_of_plan!();
}

impl InferenceOp for InferenceLoop {
	/// The outputs' element types and ranks, from the body analysed for the inputs' facts: enough for
	/// the operators after the loop; the shapes are known once typed.
	fn infer_facts(
		&mut self,
		inputs: TVec<&InferenceFact>,
		outputs: TVec<&InferenceFact>,
		observed: TVec<&InferenceFact>,
	) -> TractResult<(TVec<InferenceFact>, TVec<InferenceFact>, TVec<InferenceFact>)> {
		let layout = self.layout;
		let inputs: TVec<InferenceFact> = inputs.into_iter().cloned().collect();
		let mut outputs: TVec<InferenceFact> = outputs.into_iter().cloned().collect();
		let initial = &inputs[layout.first_carried()..layout.first_closure()];
		let closures = &inputs[layout.first_closure()..];
		// The body analysed for the loop-carried values' initial shapes (most keep them: the operators
		// after the loop then know more), else for their ranks only (a value that grows).
		let shaped = initial.iter().map(|f| {
			let mut fact = InferenceFact::default();
			fact.datum_type = f.datum_type.clone();
			fact.shape = f.shape.clone();
			fact
		});
		let ranked = initial.iter().map(|f| {
			let mut fact = InferenceFact::default();
			fact.datum_type = f.datum_type.clone();
			if let Some(rank) = f.shape.rank().concretize() {
				fact.shape = ShapeFactoid::closed(tvec!(GenericFactoid::Any; rank as usize));
			}
			fact
		});
		let mut body = self.body_with(shaped, closures.iter().cloned())?;
		if body.analyse(false).is_err() {
			body = self.body_with(ranked, closures.iter().cloned())?;
			body.analyse(false)?;
		}
		for ix in 0..layout.carried {
			let mut dt = body.output_fact(1 + ix)?.datum_type.clone();
			if let Some(t) = initial[ix].datum_type.concretize() {
				dt = GenericFactoid::Only(t);
			}
			outputs[ix].datum_type.unify_with_mut(&mut dt)?;
			if let Some(rank) = initial[ix].shape.rank().concretize() {
				outputs[ix]
					.shape
					.unify_with(&ShapeFactoid::closed(tvec!(GenericFactoid::Any; rank as usize)))?;
			}
		}
		for ix in 0..layout.scans {
			let out = body.output_fact(1 + layout.carried + ix)?;
			outputs[layout.carried + ix].datum_type.unify_with_mut(&mut out.datum_type.clone())?;
			if let Some(rank) = out.shape.rank().concretize() {
				outputs[layout.carried + ix].shape.unify_with(&ShapeFactoid::closed(
					tvec!(GenericFactoid::Any; rank as usize + 1),
				))?;
			}
		}
		Ok((inputs, outputs, observed.into_iter().cloned().collect()))
	}

	fn nboutputs(&self) -> TractResult<usize> {
		Ok(self.layout.carried + self.layout.scans)
	}

	fn to_typed(
		&self,
		_source: &InferenceModel,
		node: &InferenceNode,
		target: &mut TypedModel,
		mapping: &HashMap<OutletId, OutletId>,
	) -> TractResult<TVec<OutletId>> {
		let (inputs, facts) = crate::typed_inputs(node, target, mapping)?;
		ensure!(
			inputs.len() == self.layout.first_closure() + self.closures,
			"the Loop has {} inputs",
			inputs.len()
		);
		let op = self.typed(&facts, &target.symbols)?;
		target.wire_node(&node.name, op, &inputs)
	}

	as_op!();
}

/// A `Loop` whose body is typed and optimised: see the module's documentation.
#[derive(Clone)]
pub(crate) struct TypedLoop {
	plan: std::sync::Arc<TypedRunnableModel>,
	layout: Layout,
	/// The loop-carried values' types, as the body takes them.
	carried_types: Vec<DatumType>,
	/// The body's scan outputs' facts (the shape of an empty scan output's values).
	scan_facts: Vec<TypedFact>,
	output_facts: TVec<TypedFact>,
}

impl std::fmt::Debug for TypedLoop {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_struct("TypedLoop")
			.field("layout", &self.layout)
			.field("body_nodes", &self.plan.model().nodes.len())
			.finish()
	}
}

impl PartialEq for TypedLoop {
	fn eq(&self, _: &Self) -> bool {
		false
	}
}
impl Eq for TypedLoop {}

impl Op for TypedLoop {
	fn name(&self) -> StaticName {
		"Loop".into()
	}

	/// The number of iterations, and the shapes the body computes, are known when the loop has run.
	fn mints_runtime_symbols(&self) -> bool {
		true
	}

	op_as_typed_op!();
}

/// The scalar `value` as an i64 (a trip count may be a computed shape, a `TDim`).
fn scalar_i64(value: &Tensor) -> TractResult<i64> {
	ensure!(
		value.len() == 1,
		"a Loop's trip count must be a scalar, not of shape {:?}",
		value.shape()
	);
	Ok(value.cast_to::<i64>()?.try_as_plain_ram()?.as_slice::<i64>()?[0])
}

/// The scalar `value` as a bool.
fn scalar_bool(value: &Tensor) -> TractResult<bool> {
	ensure!(
		value.len() == 1,
		"a Loop's condition must be a scalar, not of shape {:?}",
		value.shape()
	);
	Ok(value.cast_to::<bool>()?.try_as_plain_ram()?.as_slice::<bool>()?[0])
}

impl EvalOp for TypedLoop {
	// Evaluated in a plan only: its outputs' shapes hold symbols only a run binds.
	not_out_of_plan!();

	fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
		let layout = self.layout;
		let trip = if layout.has_trip { Some(scalar_i64(&inputs[0])?) } else { None };
		let mut cond = if layout.has_cond {
			scalar_bool(&inputs[usize::from(layout.has_trip)])?
		} else {
			true
		};
		let mut carried: TVec<TValue> =
			inputs[layout.first_carried()..layout.first_closure()].iter().cloned().collect();
		let closures = &inputs[layout.first_closure()..];
		let mut scans: Vec<Vec<TValue>> = vec![vec![]; layout.scans];
		let mut iteration = 0i64;
		while trip.is_none_or(|trip| iteration < trip) && (!layout.has_cond || cond) {
			let mut body_inputs: TVec<TValue> =
				tvec!(tensor0(iteration).into_tvalue(), tensor0(cond).into_tvalue());
			body_inputs.extend(carried.iter().chain(closures).cloned());
			let mut outputs = self
				.plan
				.spawn()?
				.run_plan_with_eval(body_inputs, crate::eval_node)
				.with_context(|| format!("in iteration {iteration} of a Loop"))?
				.into_iter();
			let next = outputs.next().context("the Loop's body gave no condition")?;
			cond = scalar_bool(&next)?;
			// A value the body computes as a shape (`TDim`) is carried as the int64 it started as.
			carried = outputs
				.by_ref()
				.take(layout.carried)
				.zip(&self.carried_types)
				.map(|(value, dt)| {
					Ok(if value.datum_type() == *dt {
						value
					} else {
						value.cast_to_dt(*dt)?.into_owned().into_tvalue()
					})
				})
				.collect::<TractResult<_>>()?;
			for (scan, value) in scans.iter_mut().zip(outputs) {
				scan.push(value);
			}
			iteration += 1;
		}
		let mut results = carried;
		for (values, fact) in scans.iter().zip(&self.scan_facts) {
			let stacked = match values.first() {
				None => {
					// No iteration: no values, of the shape the body's output has when it is known.
					let shape: TVec<usize> = std::iter::once(0)
						.chain(fact.shape.iter().map(|d| d.to_usize().unwrap_or(0)))
						.collect();
					Tensor::zero_dt(fact.datum_type, &shape)?
				},
				Some(first) => {
					if let Some(other) = values.iter().find(|v| v.shape() != first.shape()) {
						bail!(
							"a Loop's scan output changes shape between iterations ({:?}, then {:?})",
							first.shape(),
							other.shape()
						);
					}
					let tensors: Vec<Tensor> = values
						.iter()
						.map(|v| {
							let mut t = (**v).clone();
							t.insert_axis(0)?;
							Ok(t)
						})
						.collect::<TractResult<_>>()?;
					Tensor::stack_tensors(0, &tensors)?
				},
			};
			results.push(stacked.into_tvalue());
		}
		Ok(results)
	}
}

impl TypedOp for TypedLoop {
	fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
		Ok(self.output_facts.clone())
	}

	as_op!();
}

/// Loops that collect one value per iteration in a sequence, written with a scan output instead.
///
/// tract has no sequence values. TorchScript writes a Python list appended to in a loop, and
/// torch.export `nn.EmbeddingBag`, as a sequence: `SequenceEmpty` before the loop, a loop-carried
/// sequence that each iteration extends with one `SequenceInsert` at its end, and a
/// `ConcatFromSequence` of the last one. That is a scan output of the inserted values: here the
/// loop-carried sequence is dropped, the inserted value becomes a scan output, and each
/// `ConcatFromSequence` of the sequence a [`ConcatFromScan`] of it. Other uses of sequences are left
/// as they are (an unsupported operator, named). Returns whether a loop was rewritten.
pub(crate) fn scanned_sequences(graph: &mut GraphProto) -> bool {
	let mut rewritten = false;
	for l in 0..graph.node.len() {
		if graph.node[l].op_type != "Loop" || !crate::is_standard(&graph.node[l]) {
			continue;
		}
		for k in (0..graph.node[l].input.len().saturating_sub(2)).rev() {
			rewritten |= scanned_sequence(graph, l, k).is_some();
		}
	}
	if rewritten {
		// The empty sequences nothing reads any more.
		let mut read = std::collections::BTreeSet::new();
		crate::read_by(graph, &mut read);
		graph
			.node
			.retain(|n| n.op_type != "SequenceEmpty" || n.output.iter().any(|o| read.contains(o)));
	}
	rewritten
}

/// The nodes of `graph` that read `name`, themselves or in their subgraphs.
fn readers(graph: &GraphProto, name: &str) -> Vec<usize> {
	(0..graph.node.len())
		.filter(|&i| {
			let node = &graph.node[i];
			let mut read = std::collections::BTreeSet::new();
			crate::subgraphs(node).for_each(|g| crate::read_by(g, &mut read));
			node.input.iter().any(|input| input == name) || read.contains(name)
		})
		.collect()
}

/// Rewrites loop-carried value `k` of the loop `graph.node[l]` as a scan output when it is a sequence
/// collected as [`scanned_sequences`] says; `None` (nothing changed) otherwise.
fn scanned_sequence(graph: &mut GraphProto, l: usize, k: usize) -> Option<()> {
	let node = &graph.node[l];
	let initial = node.input.get(2 + k)?.clone();
	let last = node.output.get(k).cloned().filter(|o| !o.is_empty());
	crate::producer(graph, &initial).filter(|p| p.op_type == "SequenceEmpty")?;
	let once = node.input.iter().filter(|i| **i == initial).count() == 1;
	if !once || readers(graph, &initial) != [l] {
		return None;
	}
	let concats = match &last {
		Some(last) => {
			if graph.output.iter().any(|o| o.name == *last) {
				return None;
			}
			let concats = readers(graph, last);
			let all_concats = concats.iter().all(|&c| {
				let concat = &graph.node[c];
				concat.op_type == "ConcatFromSequence" && concat.input == [last.clone()]
			});
			if !all_concats {
				return None;
			}
			concats
		},
		None => vec![],
	};
	let body = node.attribute.iter().find(|a| a.name == "body")?.g.as_ref()?;
	let carried = node.input.len() - 2;
	let scans = body.output.len().checked_sub(1 + carried)?;
	if node.output.len() != carried + scans {
		return None;
	}
	let sequence = body.input.get(2 + k)?.name.clone();
	let extended = body.output.get(1 + k)?.name.clone();
	let [insert] = readers(body, &sequence)[..] else { return None };
	let inserted = &body.node[insert];
	let only_output = body.output.iter().filter(|o| o.name == extended).count() == 1;
	if inserted.op_type != "SequenceInsert"
		|| inserted.input.len() != 2
		|| inserted.input[0] != sequence
		|| inserted.output != [extended.clone()]
		|| !only_output
		|| !readers(body, &extended).is_empty()
		|| body.output.iter().any(|o| o.name == sequence)
	{
		return None;
	}
	let value = inserted.input[1].clone();

	// The rewrite: the value as a scan output, the sequence no longer carried.
	let scanned = format!("{initial}.scanned");
	let node = &mut graph.node[l];
	node.input.remove(2 + k);
	node.output.remove(k);
	node.output.push(scanned.clone());
	let body = node.attribute.iter_mut().find(|a| a.name == "body")?.g.as_mut()?;
	body.input.remove(2 + k);
	body.output.remove(1 + k);
	body.node[insert] = NodeProto {
		op_type: "Identity".into(),
		name: format!("{scanned}.value"),
		input: vec![value],
		output: vec![scanned.clone()],
		..Default::default()
	};
	body.output
		.push(tract_onnx::pb::ValueInfoProto { name: scanned.clone(), ..Default::default() });
	for c in concats {
		let concat = &mut graph.node[c];
		concat.op_type = "ConcatFromScan".into();
		concat.input = vec![scanned.clone()];
	}
	Some(())
}

fn parse_concat(
	_ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let axis = node.get_attr::<i64>("axis")?;
	let new_axis = node.get_attr_opt::<i64>("new_axis")?.unwrap_or(0) != 0;
	Ok((Box::new(ConcatFromScan { axis, new_axis }), vec![]))
}

/// `ConcatFromSequence` of a sequence collected as a loop's scan output (see [`scanned_sequences`]):
/// the values stacked on the scan's first axis are moved to `axis` (`new_axis`: `numpy.stack`) or
/// joined along it (`numpy.concatenate`).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(crate) struct ConcatFromScan {
	axis: i64,
	new_axis: bool,
}

impl ConcatFromScan {
	/// The axis of the output the iterations go to, for stacked values of rank `rank` (the scan's
	/// axis first).
	fn output_axis(&self, rank: usize) -> TractResult<usize> {
		// A value's rank, and the output's.
		let value_rank = rank.checked_sub(1).context("a scan output has the iterations' axis")?;
		let output_rank = if self.new_axis { value_rank + 1 } else { value_rank };
		let axis = if self.axis < 0 { self.axis + output_rank as i64 } else { self.axis };
		usize::try_from(axis).ok().filter(|a| *a < output_rank).with_context(|| {
			format!("ConcatFromSequence's axis {} is out of a rank of {output_rank}", self.axis)
		})
	}

	/// The output's shape for the stacked values' `shape`.
	fn output_shape<D: DimLike>(&self, shape: &[D]) -> TractResult<TVec<D>> {
		let axis = self.output_axis(shape.len())?;
		let mut output: TVec<D> = shape[1..].into();
		if self.new_axis {
			output.insert(axis, shape[0].clone());
		} else {
			output[axis] = output[axis].clone() * shape[0].clone();
		}
		Ok(output)
	}
}

impl Op for ConcatFromScan {
	fn name(&self) -> StaticName {
		"ConcatFromScan".into()
	}

	op_as_typed_op!();
}

impl EvalOp for ConcatFromScan {
	op_out_of_plan!();

	fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
		let stacked = args_1!(inputs).into_tensor();
		let shape = self.output_shape(stacked.shape())?;
		let axis = self.output_axis(stacked.rank())?;
		let moved = stacked.move_axis(0, axis)?;
		Ok(tvec!(moved.into_shape(&shape)?.into_tvalue()))
	}
}

impl InferenceOp for ConcatFromScan {
	fn infer_facts(
		&mut self,
		inputs: TVec<&InferenceFact>,
		outputs: TVec<&InferenceFact>,
		observed: TVec<&InferenceFact>,
	) -> TractResult<(TVec<InferenceFact>, TVec<InferenceFact>, TVec<InferenceFact>)> {
		let mut inputs: TVec<InferenceFact> = inputs.into_iter().cloned().collect();
		let mut outputs: TVec<InferenceFact> = outputs.into_iter().cloned().collect();
		outputs[0].datum_type.unify_with_mut(&mut inputs[0].datum_type)?;
		if let Some(rank) = inputs[0].shape.rank().concretize() {
			let rank = rank as usize - usize::from(!self.new_axis);
			outputs[0].shape.unify_with(&ShapeFactoid::closed(tvec!(GenericFactoid::Any; rank)))?;
		}
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

impl TypedOp for ConcatFromScan {
	fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
		let shape: TVec<TDim> = inputs[0].shape.iter().cloned().collect();
		Ok(tvec!(inputs[0].datum_type.fact(&*self.output_shape(&shape)?)))
	}

	as_op!();
}
