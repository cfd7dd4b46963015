//! The rounds' runtime API. The types it returns are the stored records, described in the metadata, so
//! polkadot.js calls it as `api.call.trainingRoundsApi.<method>(…)` with no custom types.

use alloc::vec::Vec;
use codec::Codec;
use modelchain_primitives::{RoundId, UpdateId};

sp_api::decl_runtime_apis! {
	/// Reads of training rounds. `Round` and `Update` are the pallet's `RoundOf<Runtime>` and
	/// `UpdateOf<Runtime>`.
	pub trait TrainingRoundsApi<Round, Update>
	where
		Round: Codec,
		Update: Codec,
	{
		/// A round.
		fn round(id: RoundId) -> Option<Round>;
		/// A round's updates with their ids, ascending (the order an aggregate combines them in),
		/// at most `MaxUpdates`.
		fn updates(round: RoundId) -> Vec<(UpdateId, Update)>;
	}
}
