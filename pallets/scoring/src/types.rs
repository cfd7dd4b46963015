//! Storage records of the scoring pallet.

use crate::{BalanceOf, Config};
use codec::{Decode, Encode, MaxEncodedLen};
use frame_support::{CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use modelchain_primitives::{JobOutcome, JobSpec, Score, Verdict};
use scale_info::TypeInfo;
use sp_core::H256;

/// A registered scorer: a validator operator with a scoring key and stake held.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Scorer<T: Config> {
	/// The key its node signs commits and reveals with (key type `scor`).
	pub key: crate::ScorerId,
	/// Held from the scorer's account; weighs its verdicts.
	pub stake: BalanceOf<T>,
	/// Jobs it committed to and never revealed.
	pub missed_reveals: u32,
}

/// A scoring job: one artifact, one golden dataset, one metric, and its windows. Written once, when
/// the job is created: commits and reveals are `Participations`, so a commit or a reveal writes one
/// small record and never rewrites this one (whose spec can be kilobytes).
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Job<T: Config> {
	pub spec: JobSpec,
	pub created: BlockNumberFor<T>,
	/// Commits are accepted up to and including this block.
	pub commit_end: BlockNumberFor<T>,
	/// Reveals are accepted after `commit_end` up to and including this block; the job concludes after.
	pub reveal_end: BlockNumberFor<T>,
}

/// One scorer's part in one job: its commitment, then its revealed verdict, then how far it was from
/// the result.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Participation<T: Config> {
	/// `blake2_256((job, scorer key, verdict, salt))`.
	pub commitment: H256,
	/// The scorer's stake when it committed: the weight of its verdict.
	pub stake: BalanceOf<T>,
	/// The verdict, once revealed.
	pub revealed: Option<Verdict>,
	/// Set when the job concludes.
	pub assessment: Option<Assessment>,
}

/// How a scorer's reveal compared with the job's result (recorded for rewards and penalties).
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, MaxEncodedLen, TypeInfo, Debug)]
pub enum Assessment {
	/// Revealed a score; `deviation` is its distance from the median (0 when the result is not a score).
	Scored { deviation: Score },
	/// Revealed the same kind of verdict as the result (invalid when invalid).
	Agreed,
	/// Revealed invalid when the result is a score, or a score when the result is invalid.
	Disagreed,
	/// Committed and never revealed.
	MissedReveal,
}

/// A concluded job.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct JobResult<T: Config> {
	pub spec: JobSpec,
	pub outcome: JobOutcome,
	pub concluded: BlockNumberFor<T>,
	pub commits: u32,
	pub reveals: u32,
	/// Stake behind the revealed verdicts.
	pub revealed_stake: BalanceOf<T>,
}
