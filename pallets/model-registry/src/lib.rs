//! # Model registry
//!
//! The integrity registry at the heart of modelchain. Weights stay off-chain, content-addressed; the
//! chain records who published what, derived from what, trained on which data, and which version was
//! live when.
//!
//! ## Terms
//! - **Model**: a named line of work with an owner, a task, an SPDX license, a model card, tags and a
//!   [`ScoreThreshold`] its versions must meet to become canonical.
//! - **Version**: an immutable [`Artifact`] (URI + SHA-256 + size + format) of a model, with its parent
//!   versions (a DAG of bounded fan-in: fine-tune, merge, aggregate), hyper-parameter digest, the datasets it
//!   was trained on, and free metrics.
//! - **Dataset**: a registered artifact of data (training data or a golden dataset for evaluation).
//! - **Canonical version**: the version a model's users should run. Every change is appended to the model's
//!   canonical history, so "which version was canonical at block N" is answered exactly, in O(log n).
//!
//! ## Lifecycle of a version
//! `Candidate → Validated{score} | Rejected{reason}` by an evaluation (the scoring pallet through the
//! [`ModelRegistry`] trait, or [`Pallet::report_evaluation`] by `EvaluationOrigin`); `Validated →
//! Canonical` by [`Pallet::set_canonical`] (`PromoteOrigin`: governance); `Canonical → Deprecated` when
//! another version becomes canonical; `Deprecated → Canonical` by [`Pallet::rollback`] (`RollbackOrigin`),
//! which returns to the previous canonical version: the last verified state.
//!
//! ## Deposits
//! Everything a user stores is paid for with a deposit held from them (fungible holds, reason
//! [`HoldReason::RegistryDeposit`]): `DepositBase + DepositPerByte × encoded size`. It is released, exactly,
//! when the record is removed. A model's deposit follows its owner on an ownership transfer (which the new
//! owner accepts).

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
mod types;
pub mod weights;

pub use modelchain_primitives::{
	Artifact, ArtifactFormat, ContentDigest, DatasetId, JobId, Metric, ModelId, ModelRegistry,
	RejectionReason, Score, ScoreJobs, Uri, VersionId, VersionStatus,
};
pub use types::*;
pub use weights::WeightInfo;

use frame_support::traits::fungible::Inspect;

/// The balance type of the currency deposits are held in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Mutate, MutateHold},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::StaticLookup;

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

		/// The currency deposits are held in.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Deposit for any stored record, on top of the per-byte part.
		#[pallet::constant]
		type DepositBase: Get<BalanceOf<Self>>;

		/// Deposit per byte of a stored record.
		#[pallet::constant]
		type DepositPerByte: Get<BalanceOf<Self>>;

		/// Longest model name, in bytes.
		#[pallet::constant]
		type MaxNameLen: Get<u32>;

		/// Longest SPDX license identifier, in bytes.
		#[pallet::constant]
		type MaxLicenseLen: Get<u32>;

		/// Most tags on a model.
		#[pallet::constant]
		type MaxTags: Get<u32>;

		/// Longest tag, in bytes.
		#[pallet::constant]
		type MaxTagLen: Get<u32>;

		/// Most parents of a version (the fan-in of a merge or aggregate).
		#[pallet::constant]
		type MaxParents: Get<u32>;

		/// Most datasets a version may declare.
		#[pallet::constant]
		type MaxVersionDatasets: Get<u32>;

		/// Most metrics a version may carry.
		#[pallet::constant]
		type MaxMetrics: Get<u32>;

		/// Longest metric name, in bytes.
		#[pallet::constant]
		type MaxMetricKeyLen: Get<u32>;

		/// How many canonical versions back a rollback can go.
		#[pallet::constant]
		type MaxRollbackDepth: Get<u32>;

		/// Most ancestors the lineage query returns.
		#[pallet::constant]
		type MaxLineage: Get<u32>;

		/// Who makes a validated version canonical (governance's model-promotion track).
		type PromoteOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Who rolls a model back to its previous canonical version.
		type RollbackOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Who may record an evaluation's outcome directly (besides the scoring pallet, which records
		/// through the [`ModelRegistry`] trait).
		type EvaluationOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Creates the scoring job of every version published for a model with an evaluation plan
		/// (the scoring pallet); the outcome comes back through this pallet's `ScoreConsumer`.
		type Scoring: ScoreJobs;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit for a model, version or dataset record.
		#[codec(index = 0)]
		RegistryDeposit,
	}

	/// The id the next model gets.
	#[pallet::storage]
	pub type NextModelId<T> = StorageValue<_, ModelId, ValueQuery>;

	/// The id the next version gets (ids are unique across models).
	#[pallet::storage]
	pub type NextVersionId<T> = StorageValue<_, VersionId, ValueQuery>;

	/// The id the next dataset gets.
	#[pallet::storage]
	pub type NextDatasetId<T> = StorageValue<_, DatasetId, ValueQuery>;

	/// Models. Ids are sequential, not user-chosen, so the fast non-cryptographic hasher is safe.
	#[pallet::storage]
	pub type Models<T: Config> = StorageMap<_, Twox64Concat, ModelId, Model<T>>;

	/// Versions, by their unique id.
	#[pallet::storage]
	pub type Versions<T: Config> = StorageMap<_, Twox64Concat, VersionId, Version<T>>;

	/// The versions of each model by position `0 .. version_count` (removal moves the last one into
	/// the gap), for paged listing.
	#[pallet::storage]
	pub type ModelVersions<T> =
		StorageDoubleMap<_, Twox64Concat, ModelId, Twox64Concat, u32, VersionId>;

	/// Datasets.
	#[pallet::storage]
	pub type Datasets<T: Config> = StorageMap<_, Twox64Concat, DatasetId, Dataset<T>>;

	/// Each model's canonical history by position `0 .. history_len`, strictly increasing in block:
	/// what `canonical_at` binary-searches.
	#[pallet::storage]
	pub type CanonicalHistory<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		ModelId,
		Twox64Concat,
		u32,
		CanonicalChange<BlockNumberFor<T>>,
	>;

	/// The canonical versions a rollback returns to, most recent last (the current one is the last).
	#[pallet::storage]
	pub type RollbackStack<T: Config> = StorageMap<
		_,
		Twox64Concat,
		ModelId,
		BoundedVec<VersionId, T::MaxRollbackDepth>,
		ValueQuery,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A model was registered.
		ModelRegistered { model: ModelId, owner: T::AccountId, deposit: BalanceOf<T> },
		/// A model's metadata was updated.
		ModelUpdated { model: ModelId, deposit: BalanceOf<T> },
		/// The owner offered the model to `to`, who may accept it.
		OwnershipOffered { model: ModelId, to: T::AccountId },
		/// The owner withdrew an ownership offer.
		OwnershipOfferWithdrawn { model: ModelId },
		/// Ownership (and the model's deposit) moved from `from` to `to`.
		OwnershipTransferred { model: ModelId, from: T::AccountId, to: T::AccountId },
		/// The model was retired: it takes no new versions.
		ModelRetired { model: ModelId },
		/// A retired model without versions was removed; its deposit was released.
		ModelRemoved { model: ModelId, deposit_released: BalanceOf<T> },
		/// A version was published as a candidate.
		VersionPublished {
			model: ModelId,
			version: VersionId,
			publisher: T::AccountId,
			digest: ContentDigest,
			deposit: BalanceOf<T>,
		},
		/// A candidate or rejected version was removed; its deposit was released.
		VersionRemoved { model: ModelId, version: VersionId, deposit_released: BalanceOf<T> },
		/// A candidate version was evaluated and validated with `score`.
		VersionValidated { version: VersionId, score: Score },
		/// A candidate version was evaluated and rejected.
		VersionRejected { version: VersionId, reason: RejectionReason },
		/// A version became the model's canonical version.
		CanonicalVersionSet { model: ModelId, version: VersionId, previous: Option<VersionId> },
		/// A formerly canonical version was replaced and is now deprecated.
		VersionDeprecated { version: VersionId },
		/// The model was rolled back from canonical version `from` to its previous one, `to`.
		CanonicalVersionRolledBack { model: ModelId, from: VersionId, to: VersionId },
		/// A dataset was registered.
		DatasetRegistered { dataset: DatasetId, owner: T::AccountId, deposit: BalanceOf<T> },
		/// An unreferenced dataset was removed; its deposit was released.
		DatasetRemoved { dataset: DatasetId, deposit_released: BalanceOf<T> },
		/// The model's evaluation plan was set (or, with `None`, removed).
		EvaluationPlanSet { model: ModelId, plan: Option<EvaluationPlan> },
		/// The validators were asked to score a candidate version in scoring job `job`.
		EvaluationRequested { version: VersionId, job: JobId },
		/// The scoring job ended without any validator revealing a verdict; the version stays a
		/// candidate and its evaluation can be requested again.
		EvaluationInconclusive { version: VersionId, job: JobId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No model has this id.
		UnknownModel,
		/// No version has this id.
		UnknownVersion,
		/// No dataset has this id.
		UnknownDataset,
		/// Only the model's (or dataset's, or version's publisher's) account may do this.
		NotOwner,
		/// Only the account the model was offered to may accept it.
		NotPendingOwner,
		/// The name is empty, not UTF-8, or contains control characters.
		BadName,
		/// The name is longer than `MaxNameLen`.
		NameTooLong,
		/// The license is not an SPDX identifier (letters, digits, `.`, `-`, `+`; not empty).
		BadLicense,
		/// The license is longer than `MaxLicenseLen`.
		LicenseTooLong,
		/// A tag is empty, or not printable ASCII.
		BadTag,
		/// A tag is longer than `MaxTagLen`.
		TagTooLong,
		/// More than `MaxTags` tags, or a tag given twice.
		TooManyTags,
		/// The same tag was given twice.
		DuplicateTag,
		/// A URI is not `ipfs://<CID>`, `https://<host>…` or `http://<host>…`.
		BadUri,
		/// The artifact's digest is all zeroes: it was not computed.
		ZeroDigest,
		/// The artifact's size is zero.
		EmptyArtifact,
		/// The model is retired: no new versions or canonical versions.
		ModelRetired,
		/// Only a retired model can be removed.
		ModelNotRetired,
		/// A model with versions cannot be removed.
		ModelHasVersions,
		/// The number of parents does not fit the version kind (initial: 0, fine-tune: 1, merge: ≥ 2,
		/// aggregate: ≥ 1).
		ParentsDoNotMatchKind,
		/// More than `MaxParents` parents.
		TooManyParents,
		/// A parent was given twice.
		DuplicateParent,
		/// A parent version does not exist.
		UnknownParent,
		/// A parent version belongs to another model.
		ParentOfAnotherModel,
		/// More than `MaxVersionDatasets` datasets.
		TooManyDatasets,
		/// A dataset was given twice.
		DuplicateDataset,
		/// More than `MaxMetrics` metrics.
		TooManyMetrics,
		/// A metric name is empty or not printable ASCII.
		BadMetricKey,
		/// A metric name is longer than `MaxMetricKeyLen`.
		MetricKeyTooLong,
		/// A metric was given twice.
		DuplicateMetric,
		/// A dataset must have at least one sample.
		ZeroSamples,
		/// Only a candidate version can be evaluated.
		NotCandidate,
		/// The version is not validated (or formerly canonical), so it cannot become canonical.
		NotPromotable,
		/// The version's score does not meet the model's threshold.
		BelowThreshold,
		/// The version belongs to another model.
		VersionOfAnotherModel,
		/// The version is already canonical.
		AlreadyCanonical,
		/// There is no previous canonical version to roll back to.
		NothingToRollBack,
		/// Only a candidate or rejected version can be removed.
		VersionNotRemovable,
		/// Another version lists this one as a parent.
		VersionHasChildren,
		/// A version declares this dataset.
		DatasetInUse,
		/// An id counter is exhausted.
		Overflow,
		/// A golden dataset must be a safetensors file.
		NotGoldenDataset,
		/// The metric's direction contradicts the threshold's: accuracies need `AtLeast`, losses
		/// `AtMost`.
		MetricContradictsThreshold,
		/// The model has no evaluation plan.
		NoEvaluationPlan,
		/// The version is being scored already.
		EvaluationPending,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxRollbackDepth::get() >= 2, "a rollback needs two canonical versions");
			assert!(T::MaxParents::get() >= 2, "merges need at least two parents");
			assert!(T::MaxNameLen::get() > 0 && T::MaxLicenseLen::get() > 0);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers a model owned by the caller, holding its deposit.
		///
		/// Origin: signed. Emits `ModelRegistered`. Errors: `BadName`, `NameTooLong`, `BadLicense`,
		/// `LicenseTooLong`, `BadUri`, `BadTag`, `TagTooLong`, `TooManyTags`, `DuplicateTag`, `Overflow`,
		/// and the currency's error when the deposit cannot be held.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_model())]
		pub fn register_model(
			origin: OriginFor<T>,
			name: Vec<u8>,
			task: TaskKind,
			license: Vec<u8>,
			card_uri: Vec<u8>,
			tags: Vec<Vec<u8>>,
			threshold: ScoreThreshold,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register_model(who, name, task, license, card_uri, tags, threshold)
		}

		/// Replaces a model's license, card, tags and threshold; the deposit follows the new size.
		///
		/// Origin: the owner. Emits `ModelUpdated`. Errors: `UnknownModel`, `NotOwner`, and the
		/// validation errors of `register_model`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_model())]
		pub fn update_model(
			origin: OriginFor<T>,
			model: ModelId,
			license: Vec<u8>,
			card_uri: Vec<u8>,
			tags: Vec<Vec<u8>>,
			threshold: ScoreThreshold,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_update_model(who, model, license, card_uri, tags, threshold)
		}

		/// Offers the model to `new_owner` (who must accept), or withdraws the offer with `None`.
		///
		/// Origin: the owner. Emits `OwnershipOffered` or `OwnershipOfferWithdrawn`. Errors:
		/// `UnknownModel`, `NotOwner`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::transfer_ownership())]
		pub fn transfer_ownership(
			origin: OriginFor<T>,
			model: ModelId,
			new_owner: Option<<T::Lookup as StaticLookup>::Source>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let new_owner = new_owner.map(T::Lookup::lookup).transpose()?;
			Self::do_transfer_ownership(who, model, new_owner)
		}

		/// Accepts a model offered to the caller: its deposit is held from the caller and released to
		/// the previous owner.
		///
		/// Origin: the account the model was offered to. Emits `OwnershipTransferred`. Errors:
		/// `UnknownModel`, `NotPendingOwner`, and the currency's error when the deposit cannot be held.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::accept_ownership())]
		pub fn accept_ownership(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_accept_ownership(who, model)
		}

		/// Retires a model: no new versions or canonical versions; rollback still works.
		///
		/// Origin: the owner. Emits `ModelRetired`. Errors: `UnknownModel`, `NotOwner`, `ModelRetired`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::retire_model())]
		pub fn retire_model(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_retire_model(who, model)
		}

		/// Removes a retired model that has no versions, releasing its deposit.
		///
		/// Origin: the owner. Emits `ModelRemoved`. Errors: `UnknownModel`, `NotOwner`,
		/// `ModelNotRetired`, `ModelHasVersions`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::remove_model())]
		pub fn remove_model(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_remove_model(who, model)
		}

		/// Publishes a candidate version of a model. The artifact is immutable from then on. When the
		/// model has an evaluation plan, the version is scored by the validators right away.
		///
		/// Origin: the model's owner. Emits `VersionPublished` (and `EvaluationRequested` with a plan,
		/// or the scoring pallet's error, e.g. too many open jobs). Errors: `UnknownModel`, `NotOwner`,
		/// `ModelRetired`, `BadUri`, `ZeroDigest`, `EmptyArtifact`, `ParentsDoNotMatchKind`,
		/// `TooManyParents`, `DuplicateParent`, `UnknownParent`, `ParentOfAnotherModel`,
		/// `TooManyDatasets`, `DuplicateDataset`, `UnknownDataset`, `TooManyMetrics`, `BadMetricKey`,
		/// `MetricKeyTooLong`, `DuplicateMetric`, `Overflow`, and the currency's error when the deposit
		/// cannot be held.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::publish_version(parents.len() as u32, datasets.len() as u32)
			.saturating_add(T::Scoring::create_job_weight()))]
		#[allow(clippy::too_many_arguments)]
		pub fn publish_version(
			origin: OriginFor<T>,
			model: ModelId,
			artifact: Artifact,
			kind: VersionKind,
			parents: Vec<VersionId>,
			hyperparams: Option<ContentDigest>,
			datasets: Vec<DatasetId>,
			metrics: Vec<(Vec<u8>, i64)>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_publish_version(
				who,
				model,
				artifact,
				kind,
				parents,
				hyperparams,
				datasets,
				metrics,
			)
		}

		/// Removes a candidate or rejected version that no other version derives from, releasing its
		/// deposit.
		///
		/// Origin: the version's publisher. Emits `VersionRemoved`. Errors: `UnknownVersion`,
		/// `NotOwner`, `VersionNotRemovable`, `VersionHasChildren`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::remove_version(
			T::MaxParents::get(),
			T::MaxVersionDatasets::get()
		))]
		pub fn remove_version(
			origin: OriginFor<T>,
			version: VersionId,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let (parents, datasets) = Self::do_remove_version(who, version)?;
			Ok(Some(T::WeightInfo::remove_version(parents, datasets)).into())
		}

		/// Registers a dataset owned by the caller, holding its deposit.
		///
		/// Origin: signed. Emits `DatasetRegistered`. Errors: `BadUri`, `ZeroDigest`, `EmptyArtifact`,
		/// `ZeroSamples`, `BadLicense`, `LicenseTooLong`, `Overflow`, and the currency's error when the
		/// deposit cannot be held.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::register_dataset())]
		pub fn register_dataset(
			origin: OriginFor<T>,
			artifact: Artifact,
			samples: u64,
			license: Vec<u8>,
			schema_uri: Option<Vec<u8>>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register_dataset(who, artifact, samples, license, schema_uri)
		}

		/// Removes a dataset no version declares, releasing its deposit.
		///
		/// Origin: the owner. Emits `DatasetRemoved`. Errors: `UnknownDataset`, `NotOwner`,
		/// `DatasetInUse`.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::remove_dataset())]
		pub fn remove_dataset(origin: OriginFor<T>, dataset: DatasetId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_remove_dataset(who, dataset)
		}

		/// Records the outcome of a candidate version's evaluation.
		///
		/// Origin: `EvaluationOrigin`. Emits `VersionValidated` or `VersionRejected`. Errors:
		/// `UnknownVersion`, `NotCandidate`.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::report_evaluation())]
		pub fn report_evaluation(
			origin: OriginFor<T>,
			version: VersionId,
			outcome: EvaluationOutcome,
		) -> DispatchResult {
			T::EvaluationOrigin::ensure_origin(origin)?;
			match outcome {
				EvaluationOutcome::Validated(score) => Self::do_mark_validated(version, score),
				EvaluationOutcome::Rejected(reason) => Self::do_mark_rejected(version, reason),
			}
		}

		/// Makes a validated version (or a formerly canonical one) the model's canonical version. The
		/// previous canonical version is deprecated, and the change is appended to the history.
		///
		/// Origin: `PromoteOrigin`. Emits `CanonicalVersionSet` (and `VersionDeprecated`). Errors:
		/// `UnknownModel`, `UnknownVersion`, `VersionOfAnotherModel`, `ModelRetired`, `NotPromotable`,
		/// `BelowThreshold`, `AlreadyCanonical`.
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::set_canonical())]
		pub fn set_canonical(
			origin: OriginFor<T>,
			model: ModelId,
			version: VersionId,
		) -> DispatchResult {
			T::PromoteOrigin::ensure_origin(origin)?;
			Self::do_set_canonical(model, version)
		}

		/// Returns the model to its previous canonical version: the last verified state.
		///
		/// Origin: `RollbackOrigin`. Emits `CanonicalVersionRolledBack` and `VersionDeprecated`.
		/// Errors: `UnknownModel`, `NothingToRollBack`.
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::rollback())]
		pub fn rollback(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			T::RollbackOrigin::ensure_origin(origin)?;
			Self::do_rollback(model)
		}

		/// Sets how the model's versions are scored (`None` stops scoring new versions). The golden
		/// dataset is referenced, so it cannot be removed while the plan names it.
		///
		/// Origin: the model's owner. Emits `EvaluationPlanSet`. Errors: `UnknownModel`, `NotOwner`,
		/// `UnknownDataset`, `NotGoldenDataset`, `MetricContradictsThreshold`.
		#[pallet::call_index(13)]
		#[pallet::weight(T::WeightInfo::set_evaluation_plan())]
		pub fn set_evaluation_plan(
			origin: OriginFor<T>,
			model: ModelId,
			plan: Option<EvaluationPlan>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_evaluation_plan(who, model, plan)
		}

		/// Asks the validators to score a candidate version that has no open scoring job: one
		/// published before the model had a plan, or whose last job was inconclusive.
		///
		/// Origin: the model's owner or the version's publisher. Emits `EvaluationRequested`. Errors:
		/// `UnknownVersion`, `NotOwner`, `NotCandidate`, `EvaluationPending`, `NoEvaluationPlan`,
		/// and the scoring pallet's error.
		#[pallet::call_index(14)]
		#[pallet::weight(T::WeightInfo::request_evaluation()
			.saturating_add(T::Scoring::create_job_weight()))]
		pub fn request_evaluation(origin: OriginFor<T>, version: VersionId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_request_evaluation(who, version)
		}
	}
}
