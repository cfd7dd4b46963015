//! The rewards' runtime API, called by polkadot.js as `api.call.rewardsApi.<method>(…)`.

use codec::Codec;

sp_api::decl_runtime_apis! {
	/// Reads of the rewards.
	pub trait RewardsApi<AccountId, Balance>
	where
		AccountId: Codec,
		Balance: Codec,
	{
		/// What `who` may claim now.
		fn pending(who: AccountId) -> Balance;
		/// The reserve that tops up rounds, and the total credited and not claimed yet.
		fn pool() -> (Balance, Balance);
		/// The rewards account.
		fn account() -> AccountId;
	}
}
