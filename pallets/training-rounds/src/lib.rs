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
//! 2. **Join** ([`Pallet::join_round`], anyone, during the submission window): the registered datasets
//!    the contributor trains on (their owners are its data contributors). The round's stake and an
//!    update deposit are held, once per contributor and round; the round takes at most `max_updates`
//!    contributors.
//! 3. **Submit** ([`Pallet::submit_update`], a contributor who joined, during the submission window):
//!    an artifact of the base's ONNX graph with new weights, and the samples used. Submitting again
//!    replaces it. Submitting writes one record and holds nothing: the stake is already held.
//! 4. **Judge**: when the submission window ends, each submitted update becomes a scoring job whose
//!    check is "same graph as the base" (through a first-come queue of rounds, at most
//!    `MaxRoundsEnding` rounds a block, waiting while the scoring pallet has no room for more jobs);
//!    a contributor who submitted nothing gets its stake back (`Lapsed`). Only the last artifact of
//!    each contributor is scored. With the base's score `b` and the update's `s`, in the metric's
//!    direction:
//!    - `s` better than `b` by at least `min_improvement` → **accepted**, stake released;
//!    - `s` worse than `b` by more than `tolerance`, or reported invalid → **slashed**: the stake goes to
//!      the round's pot or to `SlashedTo`, and the event says why;
//!    - otherwise → **rejected**, stake released;
//!    - nobody scored it, or the fault was the golden set's → **unscored**, stake released.
//! 5. **Aggregate** ([`Pallet::submit_aggregate`], anyone, once every update is judged and the submission
//!    window is over, until `aggregation_blocks` later): the aggregate's artifact, stake held. Its job
//!    asks every validator to recompute the aggregate of the accepted updates (ascending update id,
//!    weighted by samples) and compare it value by value, then score it. A verified aggregate is
//!    published in the registry as a validated `Aggregate` version whose parent is the base and whose
//!    datasets are the accepted updates' — the round ends `Aggregated`. A lying one is slashed, and
//!    another may be submitted while the window lasts.
//! 6. **Close** ([`Pallet::close_round`], anyone, once the aggregation window is over): without a verified
//!    aggregate, the best accepted update is published as a validated version — `BestUpdate` — or the
//!    round ends with `NoImprovement`.
//!
//! 7. **Settle**: when a round finishes (any outcome), its pot — the opener's funds plus the slashes it
//!    received — moves to the rewards account and is settled by [`Config::Rewards`]: accepted updates'
//!    contributors and their datasets' owners, pro rata to `(score − base) × samples`, and the
//!    validators who scored the round's jobs honestly. A round without a published result returns the
//!    pot, less the validators' share, to its opener. Every job that counted (the base's, each update's
//!    latest, each aggregate's) is noted with the rewards when it concludes.
//!
//! Every per-round loop runs over at most `MaxUpdates` updates. The one hook, `on_initialize`, queues
//! the rounds whose submission window ends in the block (at most `MaxRoundsEnding`, a bound
//! `open_round` enforces) and opens the scoring jobs of at most `MaxRoundsEnding` queued rounds.
//!
//! ## Funds
//! Hold reasons: [`HoldReason::Pot`] (the opener's reward pot), [`HoldReason::Stake`] (contributors
//! from joining until their update's verdict, and aggregates being scored), [`HoldReason::Deposit`]
//! (the round and update records). Slashed stake moves with `transfer_on_hold`; nothing is minted or burnt here. The pot leaves the opener's hold when the
//! round finishes, for the rewards account. The round and update records stay, as the history of the
//! round (their deposits stay held with them).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
pub mod migrations;
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
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

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

		/// Most updates (contributors) in one round (at most `MAX_AGGREGATE_PARTS`, what one
		/// aggregate can name).
		#[pallet::constant]
		type MaxUpdates: Get<u32>;

		/// Most datasets one contributor declares.
		#[pallet::constant]
		type MaxUpdateDatasets: Get<u32>;

		/// Most distinct datasets the contributors of one round declare together (the published
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

		/// Most rounds whose submission windows end in one block (`open_round` refuses more), and
		/// most queued rounds whose scoring jobs are opened in one block.
		#[pallet::constant]
		type MaxRoundsEnding: Get<u32>;

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
		/// A contributor's stake, held from joining until its update's verdict; an aggregate's,
		/// while it is scored.
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

	/// Each contributor's update in a round (the contributors who joined). Account ids are chosen by
	/// users, hence the cryptographic hasher.
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

	/// The rounds whose submission window ends at a block: queued for scoring in that block's
	/// `on_initialize`.
	#[pallet::storage]
	pub type RoundsEnding<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<RoundId, T::MaxRoundsEnding>,
		ValueQuery,
	>;

	/// Rounds whose submission window is over and whose submitted updates still need scoring jobs,
	/// by their place in the queue (first come, first served; see `ScoringQueueBounds`).
	#[pallet::storage]
	pub type ScoringQueue<T> = StorageMap<_, Twox64Concat, u32, RoundId, OptionQuery>;

	/// The queue's first place and the place the next round takes (`head == tail`: empty).
	#[pallet::storage]
	pub type ScoringQueueBounds<T> = StorageValue<_, (u32, u32), ValueQuery>;

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
		/// A contributor joined a round, with `stake` and a deposit held, to train on `datasets`;
		/// its update will be `update`.
		RoundJoined {
			round: RoundId,
			update: UpdateId,
			contributor: T::AccountId,
			datasets: BoundedVec<DatasetId, T::MaxUpdateDatasets>,
			stake: BalanceOf<T>,
		},
		/// An update was submitted (or `replaced` the contributor's earlier one); it is scored when
		/// the submission window ends.
		UpdateSubmitted {
			round: RoundId,
			update: UpdateId,
			contributor: T::AccountId,
			samples: u64,
			digest: [u8; 32],
			replaced: bool,
		},
		/// The submission window ended: the update is scored by `job`.
		UpdateScoringStarted { round: RoundId, update: UpdateId, job: JobId },
		/// The contributor submitted nothing before the submission window ended; its stake was
		/// released.
		UpdateLapsed { round: RoundId, update: UpdateId },
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
		/// The round has its most contributors.
		TooManyUpdates,
		/// The caller has already joined the round.
		AlreadyJoined,
		/// The caller has not joined the round.
		NotJoined,
		/// The caller's update is being scored or has been judged (an update of a round that was
		/// in its submission window when the runtime was upgraded to joining): it can no longer be
		/// replaced.
		AlreadyScored,
		/// `MaxRoundsEnding` rounds already end their submission window in that block: choose
		/// another `submission_blocks`.
		TooManyRoundsEnding,
		/// The artifact is malformed or not ONNX.
		BadArtifact,
		/// An update declares no samples, or more than the datasets declared when joining hold
		/// together.
		BadSampleCount,
		/// A contributor declares no dataset, or more than `MaxUpdateDatasets`.
		BadDatasetCount,
		/// A contributor declares the same dataset twice.
		DuplicateDataset,
		/// The round's contributors would declare more than `MaxRoundDatasets` distinct datasets.
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
			assert!(T::MaxRoundsEnding::get() >= 1);
		}

		/// Queues the rounds whose submission window ends now, and opens the scoring jobs of the
		/// first queued rounds.
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::start_scoring(now)
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
		/// `BadWindow`, `BadMaxUpdates`, `StakeTooLow`, `BadRule`, `TooManyRoundsEnding`,
		/// `Overflow`, the scoring pallet's
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

		/// Joins `round` as a compute contributor training on `datasets` (registered datasets: their
		/// owners are the update's data contributors), holding the round's stake and an update deposit
		/// from the caller. The caller then submits its update with `submit_update`. Charged for the
		/// round's other contributors it reads (their datasets count against `MaxRoundDatasets`), not
		/// for the most a round takes.
		///
		/// Origin: signed. Emits `RoundJoined`. Errors: `UnknownRound`, `RoundFinished`,
		/// `BaseUnscorable`, `SubmissionClosed`, `AlreadyJoined`, `TooManyUpdates`,
		/// `BadDatasetCount`, `DuplicateDataset`, `UnknownDataset`, `TooManyRoundDatasets`,
		/// `Overflow`, and the currency's when the stake or deposit cannot be held.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::join_round(T::MaxUpdates::get().saturating_sub(1)))]
		pub fn join_round(
			origin: OriginFor<T>,
			round: RoundId,
			datasets: Vec<DatasetId>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let others = Self::do_join_round(who, round, datasets)?;
			Ok(Some(T::WeightInfo::join_round(others)).into())
		}

		/// Submits the caller's update to `round`, which it has joined: `artifact`, the base's ONNX
		/// graph with new weights, trained on `samples` samples of the datasets it declared. Replaces
		/// the caller's earlier update while the submission window is open; the last one is scored
		/// when the window ends.
		///
		/// Origin: signed, a contributor of the round. Emits `UpdateSubmitted`. Errors:
		/// `UnknownRound`, `RoundFinished`, `SubmissionClosed`, `BadArtifact`, `NotJoined`,
		/// `AlreadyScored`, `BadSampleCount`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::submit_update())]
		pub fn submit_update(
			origin: OriginFor<T>,
			round: RoundId,
			artifact: Artifact,
			samples: u64,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_submit_update(who, round, artifact, samples)
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
