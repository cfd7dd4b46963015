//! The rewards' records: why an account was credited, and the scorers' work in a round.

use crate::{BalanceOf, Config};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::*, BoundedVec};
use scale_info::TypeInfo;

/// Why an account was credited.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum RewardKind {
	/// Trained an accepted update.
	Compute,
	/// Owns a dataset an accepted update was trained on.
	Data,
	/// Scored the round's jobs honestly.
	Validator,
	/// Opened a round that published no result: what it did not pay out.
	Refund,
	/// The treasury's share of the emission, or what scorers forfeited.
	Treasury,
}

/// The scorers' work in one round: each honest scorer's stake summed over the round's jobs, and
/// everyone's (honest or not).
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
#[scale_info(skip_type_params(MaxScorers))]
pub struct RoundWork<AccountId, Balance, MaxScorers: Get<u32>> {
	pub honest: BoundedVec<(AccountId, Balance), MaxScorers>,
	/// Stake of every scorer that committed, summed over the jobs (the denominator).
	pub total: Balance,
	/// Jobs counted.
	pub jobs: u32,
}

impl<AccountId, Balance: Default, MaxScorers: Get<u32>> Default
	for RoundWork<AccountId, Balance, MaxScorers>
{
	fn default() -> Self {
		Self { honest: BoundedVec::new(), total: Balance::default(), jobs: 0 }
	}
}

/// The round work this runtime stores.
pub type RoundWorkOf<T> =
	RoundWork<<T as frame_system::Config>::AccountId, BalanceOf<T>, <T as Config>::MaxRoundScorers>;
