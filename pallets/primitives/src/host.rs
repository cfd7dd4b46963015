//! The bridge from the runtime's off-chain worker to the node's native evaluator.
//!
//! Evaluating a model in wasm would be slow and would copy whole artifacts into the runtime's memory, so
//! the runtime asks the node instead through the [`model_evaluation`] runtime interface (a host
//! function). The node answers from an [`Evaluator`] registered as an offchain-worker extension
//! ([`EvaluatorExt`]): it fetches the artifacts, verifies their digests, evaluates in a background worker,
//! and answers `Pending` until the result is ready, so no offchain-worker run ever waits for an
//! evaluation. A node without an evaluator answers [`EvaluationPoll::Unsupported`].
//!
//! Every executor that runs the runtime must register [`model_evaluation::HostFunctions`], because the
//! runtime imports the function even where it never calls it.

#[cfg(not(substrate_runtime))]
use sp_externalities::ExternalitiesExt;
use sp_runtime_interface::{
	pass_by::{AllocateAndReturnByCodec, PassFatPointerAndDecode},
	runtime_interface,
};

use crate::scoring::{EvaluationPoll, EvaluationRequest};

/// What a node provides to score models natively.
#[cfg(not(substrate_runtime))]
pub trait Evaluator: Send + Sync {
	/// Starts the evaluation of `request` if it is not known yet, and says where it stands. Must not
	/// block on the network or on the evaluation.
	fn poll(&self, request: &EvaluationRequest) -> EvaluationPoll;
}

#[cfg(not(substrate_runtime))]
sp_externalities::decl_extension! {
	/// The node's evaluator, registered for offchain-worker runs.
	pub struct EvaluatorExt(alloc::sync::Arc<dyn Evaluator>);
}

/// Model evaluation by the node, for offchain workers.
#[runtime_interface]
pub trait ModelEvaluation {
	/// Starts or looks up the evaluation of `request`: `Pending` until it is done, then `Done` with the
	/// verdict. `Unsupported` when the node runs no evaluator.
	fn poll(
		&mut self,
		request: PassFatPointerAndDecode<EvaluationRequest>,
	) -> AllocateAndReturnByCodec<EvaluationPoll> {
		match self.extension::<EvaluatorExt>() {
			Some(evaluator) => evaluator.poll(&request),
			None => EvaluationPoll::Unsupported,
		}
	}
}
