//! What the validator set needs from scoring, and what scoring asks of the validator set: a
//! validator's bond is its scorer stake.

/// Scorers' stake, as the validator set reads it: a validator's bond *is* its scorer stake.
/// Implemented by the scoring pallet.
pub trait ScorerStakes<AccountId, Balance> {
	/// The stake `who` holds as a registered scorer, if it is one.
	fn stake_of(who: &AccountId) -> Option<Balance>;

	/// Registers `who` as a scorer holding `stake` (funded by the caller): for other pallets'
	/// benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_scorer(who: &AccountId, stake: Balance);
}

/// Whether a scorer may withdraw its stake. Implemented by the validator set, which says no while the
/// scorer is a validator candidate, in the validator set, or unbonding.
pub trait StakeGuard<AccountId> {
	/// Whether `who` may take its stake back now.
	fn may_withdraw(who: &AccountId) -> bool;
	/// `who` took its stake back.
	fn withdrawn(who: &AccountId);
}

/// No validator set: stake is always free to leave.
impl<AccountId> StakeGuard<AccountId> for () {
	fn may_withdraw(_: &AccountId) -> bool {
		true
	}
	fn withdrawn(_: &AccountId) {}
}
