//! # Training rounds
//!
//! Federated training of a registered model by contributors who do not trust each other: compute
//! contributors submit updated weights with stake held, the validators score every update on a golden
//! dataset (through the scoring pallet), poisoned updates lose their stake, and the accepted ones are
//! combined into an aggregate that the validators recompute before it is published as a new version.
//!
//! ## Lifecycle of a round
//! 1. **Open** ([`Pallet::open_round`], the model's owner): a base version (the canonical one unless
//!    another validated version is named), a golden dataset and metric, the minimum improvement, the
//!    tolerance below the base, the stake per update, the most updates, the windows and the
//!    [`AggregationRule`]. A reward pot and the record's deposit are held from the opener. The base is
//!    scored on the round's golden dataset by the validators, so updates are compared with it under
//!    identical conditions.
//! 2. **Submit** ([`Pallet::submit_update`], anyone, during the submission window): an artifact of the
//!    base's ONNX graph with new weights, the sample count, and the registered datasets it was trained on
//!    (their owners are the update's data contributors). The stake and a deposit are held. One live
//!    update per account: submitting again replaces it (and scores the new one).
//! 3. **Judge**: each update is a scoring job whose check is "same graph as the base". With the base's
//!    score `b` and the update's `s`, in the metric's direction:
//!    - `s` better than `b` by at least `min_improvement` → **accepted**, stake released;
//!    - `s` worse than `b` by more than `tolerance`, or reported invalid → **slashed**: the stake goes to
//!      the round's pot or to `SlashedTo`, and the event says why;
//!    - otherwise → **rejected**, stake released;
//!    - nobody scored it, or the fault was the golden set's → **unscored**, stake released.
//! 4. **Aggregate** ([`Pallet::submit_aggregate`], anyone, once every update is judged and the submission
//!    window is over, until `aggregation_blocks` later): the aggregate's artifact, stake held. Its job
//!    asks every validator to recompute the aggregate of the accepted updates (ascending update id,
//!    weighted by samples) and compare it value by value, then score it. A verified aggregate is
//!    published in the registry as a validated `Aggregate` version whose parent is the base and whose
//!    datasets are the accepted updates' — the round ends `Aggregated`. A lying one is slashed, and
//!    another may be submitted while the window lasts.
//! 5. **Close** ([`Pallet::close_round`], anyone, once the aggregation window is over): without a verified
//!    aggregate, the best accepted update is published as a validated version — `BestUpdate` — or the
//!    round ends with `NoImprovement`.
//!
//! 6. **Settle**: when a round finishes (any outcome), its pot — the opener's funds plus the slashes it
//!    received — moves to the rewards account and is settled by [`Config::Rewards`]: accepted updates'
//!    contributors and their datasets' owners, pro rata to `(score − base) × samples`, and the
//!    validators who scored the round's jobs honestly. A round without a published result returns the
//!    pot, less the validators' share, to its opener. Every job that counted (the base's, each update's
//!    latest, each aggregate's) is noted with the rewards when it concludes.
//!
//! Every per-round loop runs over at most `MaxUpdates` updates; no hook iterates.
//!
//! ## Funds
//! Hold reasons: [`HoldReason::Pot`] (the opener's reward pot), [`HoldReason::Stake`] (updates and
//! aggregates being scored), [`HoldReason::Deposit`] (the round and update records). Slashed stake moves
//! with `transfer_on_hold`; nothing is minted or burnt here. The pot leaves the opener's hold when the
//! round finishes, for the rewards account. The round and update records stay, as the history of the
//! round (their deposits stay held with them).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
#[cfg(test)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

use frame_support::traits::fungible::Inspect;

/// The balance type of the currency stakes, pots and deposits are held in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// A round as this runtime stores it.
pub type RoundOf<T> = Round<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	frame_system::pallet_prelude::BlockNumberFor<T>,
>;
/// An update as this runtime stores it.
pub type UpdateOf<T> =
	Update<<T as frame_system::Config>::AccountId, BalanceOf<T>, <T as Config>::MaxUpdateDatasets>;
/// Round parameters as this runtime takes them.
pub type RoundParamsOf<T> =
	RoundParams<BalanceOf<T>, frame_system::pallet_prelude::BlockNumberFor<T>>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Mutate, MutateHold},
	};
	use frame_system::pallet_prelude::*;
	use modelchain_primitives::{
		Artifact, DatasetId, JobId, ModelId, ModelRegistry, RoundId, RoundRewards, Score,
		ScoreJobs, UpdateId, VersionId, MAX_AGGREGATE_PARTS,
	};

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

		/// The currency stakes, pots and deposits are held in.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The model registry: models, base versions, datasets, and where results are published.
		type Registry: ModelRegistry<Self::AccountId>;

		/// Creates the scoring jobs of bases, updates and aggregates; outcomes come back through this
		/// pallet's `ScoreConsumer`.
		type Scoring: ScoreJobs;

		/// Pays the rewards of finished rounds: each round's pot is moved to its account and settled,
		/// and the scorers of each job that counted are noted for the validators' share.
		type Rewards: RoundRewards<Self::AccountId, BalanceOf<Self>>;

		/// Where slashed stake goes: `None` into the round's reward pot, `Some(account)` to that account
		/// (a treasury).
		type SlashedTo: Get<Option<Self::AccountId>>;

		/// Most updates in one round (at most `MAX_AGGREGATE_PARTS`, what one aggregate can name).
		#[pallet::constant]
		type MaxUpdates: Get<u32>;

		/// Most datasets one update declares.
		#[pallet::constant]
		type MaxUpdateDatasets: Get<u32>;

		/// Most distinct datasets the live updates of one round declare together (the published
		/// version lists them; at most the registry's `MaxVersionDatasets`).
		#[pallet::constant]
		type MaxRoundDatasets: Get<u32>;

		/// The least stake a round may ask of each update.
		#[pallet::constant]
		type MinStake: Get<BalanceOf<Self>>;

		/// Deposit held for a round's record.
		#[pallet::constant]
		type RoundDeposit: Get<BalanceOf<Self>>;

		/// Deposit held for an update's record.
		#[pallet::constant]
		type UpdateDeposit: Get<BalanceOf<Self>>;

		/// Shortest submission or aggregation window, in blocks (a scoring job needs its commit and
		/// reveal windows).
		#[pallet::constant]
		type MinWindow: Get<BlockNumberFor<Self>>;

		/// Longest submission or aggregation window, in blocks.
		#[pallet::constant]
		type MaxWindow: Get<BlockNumberFor<Self>>;

		/// Weights of this pallet's calls and scoring outcomes.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A round's reward pot, held from its opener.
		#[codec(index = 0)]
		Pot,
		/// An update's or aggregate's stake, held while it is scored.
		#[codec(index = 1)]
		Stake,
		/// The deposit for a round or update record.
		#[codec(index = 2)]
		Deposit,
	}

	/// The id the next round gets.
	#[pallet::storage]
	pub type NextRoundId<T> = StorageValue<_, RoundId, ValueQuery>;

	/// The id the next update gets (unique across rounds).
	#[pallet::storage]
	pub type NextUpdateId<T> = StorageValue<_, UpdateId, ValueQuery>;

	/// Rounds. Ids are sequential, not user-chosen, so the fast non-cryptographic hasher is safe.
	#[pallet::storage]
	pub type Rounds<T: Config> = StorageMap<_, Twox64Concat, RoundId, RoundOf<T>>;

	/// Updates, by their unique id.
	#[pallet::storage]
	pub type Updates<T: Config> = StorageMap<_, Twox64Concat, UpdateId, UpdateOf<T>>;

	/// The updates of each round, in ascending id (the order aggregates combine them in); at most
	/// `max_updates` per round.
	#[pallet::storage]
	pub type RoundUpdates<T> =
		StorageDoubleMap<_, Twox64Concat, RoundId, Twox64Concat, UpdateId, (), OptionQuery>;

	/// Each contributor's live update in a round. Account ids are chosen by users, hence the
	/// cryptographic hasher.
	#[pallet::storage]
	pub type ContributorUpdate<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		RoundId,
		Blake2_128Concat,
		T::AccountId,
		UpdateId,
		OptionQuery,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A round opened on `base`; the base is scored by `job`.
		RoundOpened {
			round: RoundId,
			model: ModelId,
			base: VersionId,
			opener: T::AccountId,
			pot: BalanceOf<T>,
			submission_end: BlockNumberFor<T>,
			job: JobId,
		},
		/// The base's score on the round's golden dataset arrived.
		BaseScored { round: RoundId, score: Score },
		/// The base could not be scored; the round finished without a result.
		BaseUnscorable { round: RoundId },
		/// An update was submitted (or `replaced` an earlier one of the same contributor) and is scored
		/// by `job`.
		UpdateSubmitted {
			round: RoundId,
			update: UpdateId,
			contributor: T::AccountId,
			samples: u64,
			stake: BalanceOf<T>,
			job: JobId,
			replaced: bool,
		},
		/// An update beat the base by at least the minimum improvement; its stake was released.
		UpdateAccepted { round: RoundId, update: UpdateId, score: Score },
		/// An update was valid but not better enough; its stake was released.
		UpdateRejected { round: RoundId, update: UpdateId, score: Score },
		/// An update was poisoned or invalid; `amount` of its stake was slashed to `to`.
		UpdateSlashed {
			round: RoundId,
			update: UpdateId,
			reason: SlashReason,
			amount: BalanceOf<T>,
			to: T::AccountId,
		},
		/// Nobody scored an update, or its failure was not its fault; its stake was released.
		UpdateUnscored { round: RoundId, update: UpdateId },
		/// An aggregate was submitted; the validators recompute and score it in `job`.
		AggregateSubmitted {
			round: RoundId,
			submitter: T::AccountId,
			digest: [u8; 32],
			parts: u32,
			job: JobId,
		},
		/// The aggregate matched and was scored; it was published as `version`, its stake released.
		AggregateVerified { round: RoundId, version: VersionId, score: Score },
		/// The aggregate was not the recomputed one (or otherwise invalid); `amount` was slashed to `to`.
		AggregateSlashed {
			round: RoundId,
			submitter: T::AccountId,
			reason: SlashReason,
			amount: BalanceOf<T>,
			to: T::AccountId,
		},
		/// Nobody scored the aggregate, or the failure was not its fault; its stake was released and
		/// another may be submitted.
		AggregateUnscored { round: RoundId },
		/// The aggregate was verified but the registry refused to publish it (e.g. the model was
		/// retired, or the submitter cannot pay the version's deposit); its stake was released and the
		/// round stays open for `close_round`.
		AggregateNotPublished { round: RoundId, error: DispatchError },
		/// A round finished.
		RoundFinished { round: RoundId, outcome: RoundOutcome },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No such round.
		UnknownRound,
		/// No such model.
		UnknownModel,
		/// The model is retired.
		ModelRetired,
		/// Only the model's owner opens rounds on it.
		NotModelOwner,
		/// The model has no canonical version and no base version was named.
		NoBaseVersion,
		/// The base version is unknown, of another model, or not validated.
		BadBaseVersion,
		/// The golden dataset is not registered.
		UnknownDataset,
		/// A window is shorter than `MinWindow` or longer than `MaxWindow`.
		BadWindow,
		/// `max_updates` is zero or above `MaxUpdates`.
		BadMaxUpdates,
		/// The stake per update is below `MinStake`.
		StakeTooLow,
		/// The trimmed mean's β is not below one half.
		BadRule,
		/// The round has finished.
		RoundFinished,
		/// The submission window is over.
		SubmissionClosed,
		/// The base could not be scored: the round takes nothing more.
		BaseUnscorable,
		/// The round has its most updates.
		TooManyUpdates,
		/// The artifact is malformed or not ONNX.
		BadArtifact,
		/// An update declares no samples, or more than its datasets hold together.
		BadSampleCount,
		/// An update declares no dataset, or more than `MaxUpdateDatasets`.
		BadDatasetCount,
		/// An update declares the same dataset twice.
		DuplicateDataset,
		/// The round's updates would declare more than `MaxRoundDatasets` distinct datasets.
		TooManyRoundDatasets,
		/// The aggregation window has not opened: the submission window or some update's scoring is
		/// not over, or the base's score has not arrived.
		NotAggregating,
		/// The aggregation window is over.
		AggregationClosed,
		/// No update was accepted: there is nothing to aggregate.
		NothingToAggregate,
		/// An aggregate is being scored.
		AggregatePending,
		/// The round cannot close yet: updates or an aggregate are being scored, or the aggregation
		/// window is still open.
		CannotCloseYet,
		/// An id counter is exhausted.
		Overflow,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				T::MaxUpdates::get() >= 1 && T::MaxUpdates::get() <= MAX_AGGREGATE_PARTS,
				"an aggregate names at most MAX_AGGREGATE_PARTS updates"
			);
			assert!(T::MaxUpdateDatasets::get() >= 1 && T::MaxRoundDatasets::get() >= 1);
			assert!(T::MinWindow::get() <= T::MaxWindow::get());
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Opens a training round on `model`, from `base` (its canonical version when `None`), and
		/// holds `pot` and the round's deposit from the caller. The base is scored on the round's
		/// golden dataset at once.
		///
		/// Origin: signed, the model's owner. Emits `RoundOpened`. Errors: `UnknownModel`,
		/// `ModelRetired`, `NotModelOwner`, `NoBaseVersion`, `BadBaseVersion`, `UnknownDataset`,
		/// `BadWindow`, `BadMaxUpdates`, `StakeTooLow`, `BadRule`, `Overflow`, the scoring pallet's
		/// errors, and the currency's when the pot or deposit cannot be held.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::open_round())]
		pub fn open_round(
			origin: OriginFor<T>,
			model: ModelId,
			base: Option<VersionId>,
			params: RoundParamsOf<T>,
			pot: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_open_round(who, model, base, params, pot)
		}

		/// Submits an update to `round` (or replaces the caller's earlier one while the submission
		/// window is open), holding the round's stake and an update deposit from the caller (once per
		/// round). The validators check it is the base's graph and score it. Charged for the round's
		/// other updates it actually reads, not for the most a round takes.
		///
		/// Origin: signed. Emits `UpdateSubmitted`. Errors: `UnknownRound`, `RoundFinished`,
		/// `BaseUnscorable`, `SubmissionClosed`, `BadArtifact`, `BadDatasetCount`, `DuplicateDataset`,
		/// `UnknownDataset`, `BadSampleCount`, `TooManyUpdates`, `TooManyRoundDatasets`, `Overflow`,
		/// the scoring pallet's errors, and the currency's when the stake cannot be held.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::submit_update(T::MaxUpdates::get()))]
		pub fn submit_update(
			origin: OriginFor<T>,
			round: RoundId,
			artifact: Artifact,
			samples: u64,
			datasets: Vec<DatasetId>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let others = Self::do_submit_update(who, round, artifact, samples, datasets)?;
			Ok(Some(T::WeightInfo::submit_update(others)).into())
		}

		/// Submits the aggregate of `round`'s accepted updates, holding the round's stake from the
		/// caller. The validators recompute the aggregate and score it.
		///
		/// Origin: signed. Emits `AggregateSubmitted`. Errors: `UnknownRound`, `RoundFinished`,
		/// `BadArtifact`, `NotAggregating`, `AggregationClosed`, `NothingToAggregate`,
		/// `AggregatePending`, the scoring pallet's errors, and the currency's when the stake cannot
		/// be held.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::submit_aggregate(T::MaxUpdates::get()))]
		pub fn submit_aggregate(
			origin: OriginFor<T>,
			round: RoundId,
			artifact: Artifact,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_submit_aggregate(who, round, artifact)
		}

		/// Finishes a round whose aggregation window is over without a verified aggregate: the best
		/// accepted update (highest score, then lowest id) is published as a validated version, or the
		/// round ends with no improvement.
		///
		/// Origin: signed, anyone. Emits `RoundFinished`, and the rewards pallet's settlement events.
		/// Errors: `UnknownRound`, `RoundFinished`, `CannotCloseYet`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::close_round(T::MaxUpdates::get())
			.saturating_add(Pallet::<T>::settlement_weight()))]
		pub fn close_round(origin: OriginFor<T>, round: RoundId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_close_round(round)
		}
	}
}
