//! What the validator set needs from scoring, and what scoring asks of the validator set: a
//! validator's bond is its scorer stake.

use sp_runtime::Perbill;

/// Scorers' stake, as the validator set reads it: a validator's bond *is* its scorer stake.
/// Implemented by the scoring pallet.
pub trait ScorerStakes<AccountId, Balance> {
	/// The public key a scorer's node signs its commits and reveals with.
	type Key: PartialEq;

	/// The stake `who` holds as a registered scorer and the key it registered, if it is one.
	fn scorer_of(who: &AccountId) -> Option<(Balance, Self::Key)>;

	/// Burns `fraction` of `who`'s scorer stake (rounded down) as a penalty; returns the amount
	/// burned, 0 when `who` is not a scorer.
	fn slash(who: &AccountId, fraction: Perbill) -> Balance;

	/// Registers `who` as a scorer holding `stake` (funded by the caller): for other pallets'
	/// benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_scorer(who: &AccountId, stake: Balance);
}

/// The scoring key among an account's session keys (those `session.setKeys` set): the key its node
/// scores with once it validates. Implemented by the runtime over the session pallet.
pub trait SessionScoringKey<AccountId, Key> {
	/// `who`'s session scoring key, or `None` when it has no session keys.
	fn scoring_key(who: &AccountId) -> Option<Key>;
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
