//! # Scoring pallet
//!
//! Validators score artifacts on golden datasets, off chain, and the chain aggregates their verdicts
//! robustly. This is how a published model version becomes `Validated` (or `Rejected`) without anyone
//! having to trust the publisher or any single validator.
//!
//! ## Terms
//! - **Scorer**: an account that registered a *scoring key* (sr25519, key type `scor`, see [`crypto`])
//!   and holds at least [`Config::MinScorerStake`]. Its node has the key in its keystore and runs as a
//!   validator (`--validator`), so its offchain worker scores jobs.
//! - **Job**: one model artifact, one golden dataset artifact (both pinned by SHA-256) and one metric,
//!   created by another pallet through [`ScoreJobs`] (the registry does so for every version it
//!   publishes). A job has a **commit window** ([`Config::CommitWindow`] blocks from its creation) and
//!   then a **reveal window** ([`Config::RevealWindow`] blocks).
//! - **Verdict**: what a scorer found, a score in parts per billion or the reason the artifact is
//!   invalid ([`Verdict`]).
//!
//! ## Lifecycle of a job
//! 1. Created: [`Event::JobCreated`].
//! 2. In the commit window, each scorer's offchain worker asks its node to evaluate the job (the
//!    [`modelchain_primitives::host`] runtime interface: the node fetches the artifacts, checks their
//!    digests and evaluates them natively in a background worker, so no worker run waits), then submits
//!    [`Pallet::commit_score`]: `blake2_256((job, key, verdict, salt))` with a random salt kept in the
//!    node's offchain persistent storage. Nobody can copy a verdict they cannot see.
//! 3. In the reveal window it submits [`Pallet::reveal_score`] with the verdict and the salt; the chain
//!    checks them against the commitment.
//! 4. After the reveal window the job **concludes** (in `on_initialize`, at most
//!    [`Config::MaxConcludePerBlock`] jobs per block, or by anyone through [`Pallet::conclude_job`]):
//!    - if more than half of the revealed stake says *invalid*, the outcome is invalid, with the reason
//!      most of that stake gave;
//!    - otherwise the outcome is the **stake-weighted median** of the revealed scores: the smallest score
//!      such that the scorers at or below it hold at least half of the stake behind scores. A minority
//!      cannot move it, however extreme its scores;
//!    - no reveal at all: no quorum.
//!
//!    Each participant's assessment (its deviation from the median, agreement, or a missed reveal) is
//!    recorded in [`Participations`] for rewards and penalties, and the job's creator hears the outcome
//!    through [`ScoreConsumer`].
//!
//! ## Submission path
//! Commits and reveals are *general transactions authorized by the scoring key* (`#[pallet::authorize]`):
//! the call carries the key and its signature, the transaction pays no fee, and the pool accepts it only
//! from a registered scorer, inside the right window, once per job and phase (the `provides` tag is the
//! job and the key). Anyone else's attempt is an invalid transaction that never reaches a block.
//!
//! Commits are the most frequent transactions of the chain (every validator, every job), so each
//! writes exactly one small record, its [`Participations`] entry, and a reveal rewrites only that
//! entry: the job's record (whose spec can be kilobytes) is written once, when the job is created, and
//! the counts of commits and reveals are derived from the participations when the job concludes.
//!
//! ## Deposits and stake
//! A scorer's stake is held ([`HoldReason::ScorerStake`]) until it unregisters, which it can only do when
//! none of its commitments is still open.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod offchain;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

pub use impls::{aggregate, commit_payload, commitment, reveal_payload};
pub use types::*;
pub use weights::WeightInfo;

use frame_support::traits::fungible;
use sp_core::crypto::KeyTypeId;

/// The key type of scoring keys in a node's keystore (`author_insertKey("scor", …)`).
pub const KEY_TYPE: KeyTypeId = KeyTypeId(*b"scor");

/// Scoring keys: sr25519 under the [`KEY_TYPE`] key type.
pub mod crypto {
	use sp_application_crypto::{app_crypto, sr25519};
	app_crypto!(sr25519, super::KEY_TYPE);
}

/// A scorer's public scoring key.
pub type ScorerId = crypto::Public;
/// A signature by a scoring key.
pub type ScorerSignature = crypto::Signature;

/// The scoring key is one of a validator's session keys (`author_rotateKeys` generates it).
impl<T: Config> sp_runtime::BoundToRuntimeAppPublic for Pallet<T> {
	type Public = ScorerId;
}

pub(crate) type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate, MutateHold},
	};
	use frame_system::pallet_prelude::*;
	use modelchain_primitives::{JobId, JobOutcome, JobSubject, ScoreConsumer, Verdict};
	use sp_core::H256;
	use sp_runtime::traits::Zero;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config:
		frame_system::Config + frame_system::offchain::CreateAuthorizedTransaction<Call<Self>>
	{
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// Holds scorers' stake.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Least stake a scorer holds (at least 1: stake weighs verdicts).
		#[pallet::constant]
		type MinScorerStake: Get<BalanceOf<Self>>;

		/// Most registered scorers (bounds the work of concluding a job).
		#[pallet::constant]
		type MaxScorers: Get<u32>;

		/// Blocks, from a job's creation, in which scorers commit.
		#[pallet::constant]
		type CommitWindow: Get<BlockNumberFor<Self>>;

		/// Blocks, after the commit window, in which scorers reveal.
		#[pallet::constant]
		type RevealWindow: Get<BlockNumberFor<Self>>;

		/// Most jobs open at once; creating more fails until some conclude.
		#[pallet::constant]
		type MaxOpenJobs: Get<u32>;

		/// Most jobs concluded in one block's `on_initialize` (the rest wait, or `conclude_job`).
		#[pallet::constant]
		type MaxConcludePerBlock: Get<u32>;

		/// Priority of commit and reveal transactions in the pool.
		#[pallet::constant]
		type ScoringPriority: Get<TransactionPriority>;

		/// Hears each job's outcome (the registry, training rounds).
		type Consumer: ScoreConsumer;

		/// Says whether a scorer may take its stake back: not while that stake is its validator bond
		/// (the validator set).
		type StakeGuard: modelchain_primitives::StakeGuard<Self::AccountId>;

		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A scorer's stake.
		ScorerStake,
	}

	/// Registered scorers by account.
	#[pallet::storage]
	pub type Scorers<T: Config> = CountedStorageMap<_, Blake2_128Concat, T::AccountId, Scorer<T>>;

	/// The account of each registered scoring key.
	#[pallet::storage]
	pub type ScorerAccounts<T: Config> = StorageMap<_, Blake2_128Concat, ScorerId, T::AccountId>;

	/// The id the next job gets.
	#[pallet::storage]
	pub type NextJobId<T: Config> = StorageValue<_, JobId, ValueQuery>;

	/// Jobs not concluded yet. (Job ids are sequential, chosen by the chain: `Twox64Concat` is safe.)
	#[pallet::storage]
	pub type Jobs<T: Config> = StorageMap<_, Twox64Concat, JobId, Job<T>>;

	/// Open jobs in creation order, which is also the order their reveal windows end in.
	#[pallet::storage]
	pub type OpenJobs<T: Config> = StorageValue<_, BoundedVec<JobId, T::MaxOpenJobs>, ValueQuery>;

	/// Each scorer's commitment, reveal and assessment in each job.
	#[pallet::storage]
	pub type Participations<T: Config> =
		StorageDoubleMap<_, Twox64Concat, JobId, Blake2_128Concat, T::AccountId, Participation<T>>;

	/// Concluded jobs.
	#[pallet::storage]
	pub type Results<T: Config> = StorageMap<_, Twox64Concat, JobId, JobResult<T>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An account registered as a scorer with `key`, holding `stake`.
		ScorerRegistered { scorer: T::AccountId, key: ScorerId, stake: BalanceOf<T> },
		/// A scorer left; its stake was released.
		ScorerUnregistered { scorer: T::AccountId, stake: BalanceOf<T> },
		/// A job was created; commits are accepted until `commit_end`, reveals until `reveal_end`.
		JobCreated {
			job: JobId,
			subject: JobSubject,
			commit_end: BlockNumberFor<T>,
			reveal_end: BlockNumberFor<T>,
		},
		/// A scorer committed to a verdict on a job.
		ScoreCommitted { job: JobId, scorer: T::AccountId },
		/// A scorer revealed its verdict on a job.
		ScoreRevealed { job: JobId, scorer: T::AccountId, verdict: Verdict },
		/// A scorer committed to a job and did not reveal in time.
		RevealMissed { job: JobId, scorer: T::AccountId },
		/// A job concluded with `outcome` from `reveals` reveals.
		JobConcluded { job: JobId, subject: JobSubject, outcome: JobOutcome, reveals: u32 },
		/// `amount` of a scorer's stake was burned as a penalty (governance removed it as a
		/// validator); its stake is lower by as much.
		ScorerSlashed { scorer: T::AccountId, amount: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is a scorer already.
		AlreadyScorer,
		/// Another scorer registered this key.
		KeyInUse,
		/// The stake is below `MinScorerStake`.
		StakeTooLow,
		/// `MaxScorers` scorers are registered.
		TooManyScorers,
		/// The account, or the key, is not a registered scorer.
		NotScorer,
		/// The scorer has commitments in jobs that have not concluded.
		ScorerBusy,
		/// No open job has this id.
		UnknownJob,
		/// The job's commit window has closed.
		CommitWindowClosed,
		/// The scorer has committed to this job already.
		AlreadyCommitted,
		/// The job's reveal window has not opened yet.
		RevealTooEarly,
		/// The job's reveal window has closed.
		RevealTooLate,
		/// The scorer did not commit to this job.
		NoCommitment,
		/// The scorer has revealed its verdict on this job already.
		AlreadyRevealed,
		/// The verdict and salt do not hash to the commitment (a wrong salt, or a changed verdict).
		CommitmentMismatch,
		/// `MaxOpenJobs` jobs are open.
		TooManyOpenJobs,
		/// The job's reveal window has not ended yet.
		JobStillOpen,
		/// The job's model, golden dataset or reference artifacts are malformed, or its aggregation
		/// rule is unusable.
		BadArtifact,
		/// The scorer's stake is its validator bond: it is a candidate, a validator, or unbonding.
		StakeBonded,
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Scorers registered at genesis: account, scoring key, stake (held from the account).
		pub scorers: alloc::vec::Vec<(T::AccountId, ScorerId, BalanceOf<T>)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (who, key, stake) in &self.scorers {
				Pallet::<T>::do_register_scorer(who.clone(), key.clone(), *stake)
					.expect("genesis scorers are valid and funded");
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::conclude_due_jobs(now)
		}

		fn offchain_worker(now: BlockNumberFor<T>) {
			offchain::run::<T>(now);
		}

		fn integrity_test() {
			assert!(
				!T::MinScorerStake::get().is_zero(),
				"stake weighs verdicts: MinScorerStake ≥ 1"
			);
			assert!(!T::CommitWindow::get().is_zero(), "CommitWindow must be at least one block");
			assert!(!T::RevealWindow::get().is_zero(), "RevealWindow must be at least one block");
			assert!(T::MaxConcludePerBlock::get() > 0, "MaxConcludePerBlock must be at least 1");
			assert!(T::MaxScorers::get() > 0, "MaxScorers must be at least 1");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight = <T as Config>::WeightInfo)]
	impl<T: Config> Pallet<T> {
		/// Registers the caller as a scorer whose node signs with `key`, holding `stake`.
		///
		/// Origin: signed. Emits [`Event::ScorerRegistered`]. Errors: [`Error::AlreadyScorer`],
		/// [`Error::KeyInUse`], [`Error::StakeTooLow`], [`Error::TooManyScorers`], or the hold's error
		/// when the balance is short.
		#[pallet::call_index(0)]
		pub fn register_scorer(
			origin: OriginFor<T>,
			key: ScorerId,
			stake: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register_scorer(who, key, stake)
		}

		/// Unregisters the caller and releases its stake.
		///
		/// Origin: a signed scorer. Emits [`Event::ScorerUnregistered`]. Errors: [`Error::NotScorer`],
		/// [`Error::ScorerBusy`] while any of its commitments is in a job that has not concluded,
		/// [`Error::StakeBonded`] while its stake is a validator's bond.
		#[pallet::call_index(1)]
		pub fn unregister_scorer(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_unregister_scorer(who)
		}

		/// Commits the scorer with key `scorer` to a verdict on `job`: `commitment` is
		/// `blake2_256(SCALE((job, scorer, verdict, salt)))`.
		///
		/// Origin: a general transaction authorized by `signature`, the scoring key's signature over
		/// `SCALE((b"mdl/commit", job, commitment))`; the transaction pays no fee. Emits
		/// [`Event::ScoreCommitted`]. Errors (also as invalid transactions): [`Error::NotScorer`],
		/// [`Error::UnknownJob`], [`Error::CommitWindowClosed`], [`Error::AlreadyCommitted`]. A
		/// signature that is not the scoring key's is refused before dispatch, as
		/// `InvalidTransaction::BadProof`.
		#[pallet::call_index(2)]
		#[pallet::authorize(Pallet::<T>::authorize_commit)]
		#[pallet::weight_of_authorize(<T as Config>::WeightInfo::authorize_commit_score())]
		pub fn commit_score(
			origin: OriginFor<T>,
			job: JobId,
			commitment: H256,
			scorer: ScorerId,
			signature: ScorerSignature,
		) -> DispatchResult {
			ensure_authorized(origin)?;
			let _ = signature;
			Self::do_commit(job, commitment, scorer)
		}

		/// Reveals the verdict the scorer with key `scorer` committed to on `job`, with its salt.
		///
		/// Origin: a general transaction authorized by `signature`, the scoring key's signature over
		/// `SCALE((b"mdl/reveal", job, verdict, salt))`. Emits [`Event::ScoreRevealed`]. Errors (also as
		/// invalid transactions): [`Error::NotScorer`], [`Error::UnknownJob`], [`Error::RevealTooEarly`],
		/// [`Error::RevealTooLate`], [`Error::NoCommitment`], [`Error::AlreadyRevealed`],
		/// [`Error::CommitmentMismatch`]; a forged signature as `InvalidTransaction::BadProof`.
		#[pallet::call_index(3)]
		#[pallet::authorize(Pallet::<T>::authorize_reveal)]
		#[pallet::weight_of_authorize(<T as Config>::WeightInfo::authorize_reveal_score())]
		pub fn reveal_score(
			origin: OriginFor<T>,
			job: JobId,
			verdict: Verdict,
			salt: [u8; 32],
			scorer: ScorerId,
			signature: ScorerSignature,
		) -> DispatchResult {
			ensure_authorized(origin)?;
			let _ = signature;
			Self::do_reveal(job, verdict, salt, scorer)
		}

		/// Concludes `job`, whose reveal window has ended, now rather than when `on_initialize` reaches
		/// it.
		///
		/// Origin: signed, anyone. Emits [`Event::JobConcluded`] (and [`Event::RevealMissed`] per missed
		/// reveal). Errors: [`Error::UnknownJob`], [`Error::JobStillOpen`].
		#[pallet::call_index(4)]
		#[pallet::weight(<T as Config>::WeightInfo::conclude_job(T::MaxScorers::get())
			.saturating_add(<T::Consumer as ScoreConsumer>::job_concluded_weight()))]
		pub fn conclude_job(origin: OriginFor<T>, job: JobId) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let record = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
			ensure!(
				frame_system::Pallet::<T>::block_number() > record.reveal_end,
				Error::<T>::JobStillOpen
			);
			let weight = Self::conclude(job, record);
			Ok(Some(weight).into())
		}
	}
}
