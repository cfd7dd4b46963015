//! # Validator set
//!
//! Who authors blocks, finalises them and scores models: a set chosen each session from bonded
//! candidates, for `pallet-session`.
//!
//! ## Terms
//! - **Bond**: a validator's bond *is* its scorer stake, held by the scoring pallet
//!   ([`Config::Scorers`]). The stake that weighs a validator's verdicts is the stake it risks as a
//!   validator; there is no second deposit to manage.
//! - **Candidate**: a scorer with at least [`Config::MinBond`] and session keys set
//!   (`session.setKeys`, with the Aura, GRANDPA and scoring keys from `author_rotateKeys`) whose
//!   scoring key is the key it registered as a scorer, that called [`Pallet::join`]. A validator
//!   whose keys differ would author blocks but its node could never sign a score, so `join` refuses
//!   it and planning passes over a candidate whose keys changed since.
//! - **Validator set**: at each new session, the top [`Config::MaxValidators`] candidates by bond
//!   (ties: the lower account id). `pallet-session` applies the set planned for session `n` from session
//!   `n + 1`, so a new candidate authors from the session after next.
//!
//! ## Why the top N by bond
//! It is permissionless (anyone with stake can operate a validator, no governance vote per operator)
//! and sybil-resistant (a seat costs stake), and it uses the one stake scoring already weighs. Governance
//! keeps a brake: [`Config::RemoveOrigin`] (root, i.e. a root-track referendum) removes a candidate,
//! burning the part of its bond the referendum decides ([`Pallet::remove`]'s `slash`: 0 for an operator
//! that merely stopped, more for one that misbehaved). That is the stake a validator risks.
//!
//! ## Leaving
//! [`Pallet::leave`] (or [`Pallet::remove`]) drops the candidate from the next planned set; its bond
//! stays bonded for [`Config::UnbondSessions`] sessions (by then it has stopped validating), after which
//! the scoring pallet lets it unregister and releases the stake ([`StakeGuard`]).
//!
//! ## Sessions
//! A session lasts [`SessionLength`] blocks (set by the genesis preset: short on development
//! networks). The pallet is the session's `ShouldEndSession` and `SessionManager`. An empty candidate
//! list never empties the set: the current validators stay.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

pub use weights::WeightInfo;

use modelchain_primitives::{ScorerStakes, StakeGuard};
pub use sp_staking::SessionIndex;

/// The key a scorer registered with the scoring pallet ([`Config::Scorers`]).
pub type ScorerKeyOf<T> = <<T as Config>::Scorers as ScorerStakes<
	<T as frame_system::Config>::AccountId,
	<T as Config>::Balance,
>>::Key;

/// Sets up what the benchmarks need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId, Key> {
	/// Gives `who` session keys whose scoring key is `scoring`.
	fn register_keys(who: &AccountId, scoring: Key);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use modelchain_primitives::SessionScoringKey;
	use sp_runtime::{traits::AtLeast32BitUnsigned, Perbill};

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The balance bonds are counted in.
		type Balance: Parameter + Member + MaxEncodedLen + AtLeast32BitUnsigned + Copy;

		/// Scorers, their stake (a validator's bond) and their keys (the scoring pallet).
		type Scorers: ScorerStakes<Self::AccountId, Self::Balance>;

		/// The scoring key among an account's session keys (the session pallet's), checked against
		/// the key it registered as a scorer.
		type SessionKeys: SessionScoringKey<Self::AccountId, ScorerKeyOf<Self>>;

		/// Who may remove a candidate (governance).
		type RemoveOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The least bond of a candidate.
		#[pallet::constant]
		type MinBond: Get<Self::Balance>;

		/// Most candidates at once.
		#[pallet::constant]
		type MaxCandidates: Get<u32>;

		/// Most validators in a session.
		#[pallet::constant]
		type MaxValidators: Get<u32>;

		/// Sessions a leaving candidate's bond stays bonded.
		#[pallet::constant]
		type UnbondSessions: Get<SessionIndex>;

		/// Weights of this pallet's calls and of planning a session.
		type WeightInfo: WeightInfo;

		/// Gives benchmark accounts session keys.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId, ScorerKeyOf<Self>>;
	}

	/// Accounts that want to validate, in the order they joined.
	#[pallet::storage]
	pub type Candidates<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxCandidates>, ValueQuery>;

	/// The validator set planned at the last new session.
	#[pallet::storage]
	pub type Validators<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxValidators>, ValueQuery>;

	/// The index of the last planned session.
	#[pallet::storage]
	pub type PlannedSession<T> = StorageValue<_, SessionIndex, ValueQuery>;

	/// Candidates that left: the session from which their bond is free. Removed when they withdraw
	/// it or join again. Accounts are chosen by users, hence the cryptographic hasher.
	#[pallet::storage]
	pub type Unbonding<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, SessionIndex>;

	/// Blocks per session: an hour unless the genesis preset says otherwise.
	#[pallet::type_value]
	pub fn DefaultSessionLength<T: Config>() -> BlockNumberFor<T> {
		600u32.into()
	}

	/// Blocks per session.
	#[pallet::storage]
	pub type SessionLength<T: Config> =
		StorageValue<_, BlockNumberFor<T>, ValueQuery, DefaultSessionLength<T>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `who` became a candidate, bonded by its scorer stake `bond`.
		CandidateJoined { who: T::AccountId, bond: T::Balance },
		/// `who` stopped being a candidate; its bond is free from session `free_from`.
		CandidateLeft { who: T::AccountId, free_from: SessionIndex },
		/// Governance removed candidate `who` and burned `slashed` of its bond; the rest is free from
		/// session `free_from`.
		CandidateRemoved { who: T::AccountId, free_from: SessionIndex, slashed: T::Balance },
		/// The validator set of `session` was planned.
		ValidatorSetPlanned { session: SessionIndex, validators: Vec<T::AccountId> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is not a registered scorer.
		NotScorer,
		/// The scorer's stake is below `MinBond`.
		BondTooLow,
		/// The account has no session keys (`session.setKeys`).
		NoSessionKeys,
		/// The account is a candidate already.
		AlreadyCandidate,
		/// `MaxCandidates` candidates are registered.
		TooManyCandidates,
		/// The account is not a candidate.
		NotCandidate,
		/// The scoring key in the account's session keys is not the key it registered as a scorer:
		/// as a validator it would author blocks but never score. Set session keys whose scoring
		/// key is the registered one (or register with the session's).
		ScoringKeyMismatch,
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Candidates at genesis (registered scorers with session keys): the first validators.
		pub candidates: Vec<T::AccountId>,
		/// Blocks per session; an hour when `None`.
		pub session_length: Option<BlockNumberFor<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let candidates = BoundedVec::try_from(self.candidates.clone())
				.expect("genesis candidates fit MaxCandidates");
			Candidates::<T>::put(candidates);
			if let Some(length) = self.session_length {
				assert!(!length.is_zero(), "a session lasts at least one block");
				SessionLength::<T>::put(length);
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxValidators::get() > 0, "at least one validator");
			assert!(
				T::UnbondSessions::get() >= 2,
				"a leaving validator validates one more session"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight = <T as Config>::WeightInfo)]
	impl<T: Config> Pallet<T> {
		/// Makes the caller a validator candidate, bonded by its scorer stake; it validates from the
		/// session after next if its bond ranks among the top `MaxValidators`.
		///
		/// Origin: signed, a registered scorer with session keys whose scoring key is its scorer
		/// key. Emits [`Event::CandidateJoined`]. Errors: [`Error::NotScorer`],
		/// [`Error::BondTooLow`], [`Error::NoSessionKeys`], [`Error::ScoringKeyMismatch`],
		/// [`Error::AlreadyCandidate`], [`Error::TooManyCandidates`].
		#[pallet::call_index(0)]
		pub fn join(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_join(who)
		}

		/// Stops the caller being a candidate; its bond stays bonded for `UnbondSessions` sessions.
		///
		/// Origin: signed, a candidate. Emits [`Event::CandidateLeft`]. Errors:
		/// [`Error::NotCandidate`].
		#[pallet::call_index(1)]
		pub fn leave(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let free_from = Self::do_leave(&who)?;
			Self::deposit_event(Event::CandidateLeft { who, free_from });
			Ok(())
		}

		/// Removes candidate `who` (e.g. a misbehaving operator) and burns `slash` of its bond (its
		/// scorer stake, rounded down; `Perbill::zero()` burns nothing); the rest stays bonded for
		/// `UnbondSessions` sessions.
		///
		/// Origin: `RemoveOrigin`. Emits [`Event::CandidateRemoved`] (and the scoring pallet's
		/// `ScorerSlashed` when something was burned). Errors: [`Error::NotCandidate`].
		#[pallet::call_index(2)]
		pub fn remove(origin: OriginFor<T>, who: T::AccountId, slash: Perbill) -> DispatchResult {
			T::RemoveOrigin::ensure_origin(origin)?;
			let free_from = Self::do_leave(&who)?;
			let slashed = T::Scorers::slash(&who, slash);
			Self::deposit_event(Event::CandidateRemoved { who, free_from, slashed });
			Ok(())
		}
	}
}

/// A scorer's stake is bonded while it is a candidate, planned in the validator set, or unbonding.
impl<T: Config> StakeGuard<T::AccountId> for Pallet<T> {
	fn may_withdraw(who: &T::AccountId) -> bool {
		!Candidates::<T>::get().contains(who)
			&& !Validators::<T>::get().contains(who)
			&& Unbonding::<T>::get(who).is_none_or(|from| PlannedSession::<T>::get() >= from)
	}

	fn withdrawn(who: &T::AccountId) {
		Unbonding::<T>::remove(who);
	}
}
