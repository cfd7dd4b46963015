//! The registry's runtime API. Every type it returns is in the metadata, so polkadot.js calls it as
//! `api.call.modelRegistryApi.<method>(…)` with no custom types.

use crate::types::{DatasetDetails, ModelDetails, VersionDetails};
use alloc::vec::Vec;
use codec::Codec;
use modelchain_primitives::{DatasetId, ModelId, VersionId};

sp_api::decl_runtime_apis! {
	/// Reads of the model registry.
	pub trait ModelRegistryApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// A model.
		fn model(id: ModelId) -> Option<ModelDetails<AccountId, Balance>>;
		/// A version.
		fn version(id: VersionId) -> Option<VersionDetails<AccountId, Balance, BlockNumber>>;
		/// A dataset.
		fn dataset(id: DatasetId) -> Option<DatasetDetails<AccountId, Balance>>;
		/// The version that was canonical at the end of block `at` (`None` before the first one), in
		/// O(log n) over the model's canonical history.
		fn canonical_at(model: ModelId, at: BlockNumber) -> Option<VersionId>;
		/// The ancestors of a version, nearest first, each once, at most `MaxLineage`.
		fn lineage(version: VersionId) -> Vec<VersionId>;
		/// Up to `limit` (at most 100) version ids of a model, from position `offset`.
		fn versions(model: ModelId, offset: u32, limit: u32) -> Vec<VersionId>;
	}
}
