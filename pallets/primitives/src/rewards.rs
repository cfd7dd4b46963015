//! What the rewards pallet needs from the others: who scored a job honestly (from scoring), and each
//! finished training round's pot and contributions (from training rounds).

use crate::{JobId, RoundId, Score};
use alloc::vec::Vec;
use frame_support::weights::Weight;

/// The scorers of concluded jobs, as the rewards see them. Implemented by the scoring pallet.
pub trait ScoringRecords<AccountId, Balance> {
	/// Every scorer that committed to the concluded `job`, with the stake its verdict weighed and
	/// whether it was honest: it revealed a score within `tolerance` of the job's median, or an
	/// *invalid* verdict when the outcome was invalid. A missed reveal, a larger deviation, or a verdict
	/// of the other kind is not honest. Empty for a job that is unknown or not concluded.
	fn assessed_scorers(job: JobId, tolerance: Score) -> Vec<(AccountId, Balance, bool)>;

	/// Records a concluded job in which each of `scorers` revealed the median score with its stake:
	/// for other pallets' benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_concluded_job(scorers: &[(AccountId, Balance)]) -> JobId;
}

/// One accepted update of a finished round, for its reward.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Contribution<AccountId> {
	/// Who trained it (the compute contributor).
	pub contributor: AccountId,
	/// Its improvement over the base in parts per billion, in the metric's direction.
	pub gain: Score,
	/// The training samples it declared.
	pub samples: u64,
	/// The owners of the datasets it declared, each with the dataset's registered samples.
	pub data: Vec<(AccountId, u64)>,
}

/// A finished training round, handed to the rewards for settlement.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RoundSettlement<AccountId, Balance> {
	pub round: RoundId,
	/// The round's pot (slashes included), already moved into the rewards account.
	pub pot: Balance,
	/// Who funded the pot; what the round did not earn returns to it.
	pub opener: AccountId,
	/// The accepted updates, when the round published a result; empty otherwise.
	pub contributions: Vec<Contribution<AccountId>>,
}

/// Pays training rounds' rewards. Implemented by the rewards pallet, used by training rounds.
pub trait RoundRewards<AccountId, Balance> {
	/// The account pots are moved into before [`Self::settle`].
	fn account() -> AccountId;
	/// Job `job` of `round` concluded: its honest scorers earn a part of the round's validator share.
	/// Returns the weight used.
	fn note_job(round: RoundId, job: JobId) -> Weight;
	/// The most [`Self::note_job`] costs.
	fn note_job_weight() -> Weight;
	/// Distributes a finished round's pot (already in [`Self::account`]) as rewards to claim.
	/// Returns the weight used.
	fn settle(settlement: RoundSettlement<AccountId, Balance>) -> Weight;
	/// The most [`Self::settle`] costs with `contributions` accepted updates declaring `datasets`
	/// datasets together.
	fn settle_weight(contributions: u32, datasets: u32) -> Weight;
}
