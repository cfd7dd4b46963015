//! The registry's logic: the `do_*` functions behind the calls, deposits, the queries behind the runtime
//! API, the [`ModelRegistry`] trait for other pallets, and the `try_state` invariants.

use crate::{pallet::*, types::*, BalanceOf, WeightInfo};
use alloc::{collections::BTreeSet, vec::Vec};
use codec::Encode;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision},
};
use frame_system::pallet_prelude::BlockNumberFor;
use modelchain_primitives::{
	check_uri, Artifact, ArtifactCheck, ArtifactError, ArtifactFormat, ContentDigest, DatasetId,
	DatasetView, JobId, JobOutcome, JobSpec, JobSubject, ModelId, ModelRegistry, ModelView,
	RejectionReason, Score, ScoreConsumer, ScoreJobs, ScoredVersion, Uri, VersionId, VersionStatus,
	VersionView,
};
use sp_runtime::{
	traits::{CheckedAdd, Saturating, Zero},
	DispatchResult,
};

impl<T: Config> From<ArtifactError> for Error<T> {
	fn from(e: ArtifactError) -> Self {
		match e {
			ArtifactError::BadUri => Error::<T>::BadUri,
			ArtifactError::ZeroDigest => Error::<T>::ZeroDigest,
			ArtifactError::EmptyFile => Error::<T>::EmptyArtifact,
		}
	}
}

/// Input validation: each turns raw bytes into the bounded, checked form, or says exactly what is wrong.
impl<T: Config> Pallet<T> {
	pub(crate) fn checked_name(name: Vec<u8>) -> Result<NameOf<T>, Error<T>> {
		let text = core::str::from_utf8(&name).map_err(|_| Error::<T>::BadName)?;
		ensure!(
			!text.trim().is_empty() && !text.chars().any(char::is_control),
			Error::<T>::BadName
		);
		name.try_into().map_err(|_| Error::<T>::NameTooLong)
	}

	pub(crate) fn checked_license(license: Vec<u8>) -> Result<LicenseOf<T>, Error<T>> {
		ensure!(
			!license.is_empty()
				&& license
					.iter()
					.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+')),
			Error::<T>::BadLicense
		);
		license.try_into().map_err(|_| Error::<T>::LicenseTooLong)
	}

	pub(crate) fn checked_uri(uri: Vec<u8>) -> Result<Uri, Error<T>> {
		let uri: Uri = uri.try_into().map_err(|_| Error::<T>::BadUri)?;
		check_uri(&uri)?;
		Ok(uri)
	}

	pub(crate) fn checked_tags(tags: Vec<Vec<u8>>) -> Result<TagsOf<T>, Error<T>> {
		ensure!(tags.len() <= T::MaxTags::get() as usize, Error::<T>::TooManyTags);
		let mut seen = BTreeSet::new();
		let mut checked = Vec::with_capacity(tags.len());
		for tag in tags {
			ensure!(!tag.is_empty() && tag.iter().all(u8::is_ascii_graphic), Error::<T>::BadTag);
			ensure!(seen.insert(tag.clone()), Error::<T>::DuplicateTag);
			checked.push(TagOf::<T>::try_from(tag).map_err(|_| Error::<T>::TagTooLong)?);
		}
		checked.try_into().map_err(|_| Error::<T>::TooManyTags)
	}

	fn checked_metrics(metrics: Vec<(Vec<u8>, i64)>) -> Result<MetricsOf<T>, Error<T>> {
		ensure!(metrics.len() <= T::MaxMetrics::get() as usize, Error::<T>::TooManyMetrics);
		let mut seen = BTreeSet::new();
		let mut checked = Vec::with_capacity(metrics.len());
		for (key, value) in metrics {
			ensure!(
				!key.is_empty() && key.iter().all(u8::is_ascii_graphic),
				Error::<T>::BadMetricKey
			);
			ensure!(seen.insert(key.clone()), Error::<T>::DuplicateMetric);
			let key = MetricKeyOf::<T>::try_from(key).map_err(|_| Error::<T>::MetricKeyTooLong)?;
			checked.push((key, value));
		}
		checked.try_into().map_err(|_| Error::<T>::TooManyMetrics)
	}
}

/// Deposits.
impl<T: Config> Pallet<T> {
	/// The deposit for a record of `bytes` encoded bytes.
	pub fn deposit_for(bytes: usize) -> BalanceOf<T> {
		let bytes: BalanceOf<T> = (bytes as u32).into();
		T::DepositBase::get().saturating_add(T::DepositPerByte::get().saturating_mul(bytes))
	}

	fn hold(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		T::Currency::hold(&HoldReason::RegistryDeposit.into(), who, amount)
	}

	fn release(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		T::Currency::release(&HoldReason::RegistryDeposit.into(), who, amount, Precision::Exact)
			.map(|_| ())
	}

	/// Holds or releases the difference so that `who`'s deposit for a record goes from `old` to `new`.
	fn adjust_deposit(who: &T::AccountId, old: BalanceOf<T>, new: BalanceOf<T>) -> DispatchResult {
		if new > old {
			Self::hold(who, new.saturating_sub(old))
		} else {
			Self::release(who, old.saturating_sub(new))
		}
	}

	fn next_id<V: CheckedAdd + From<u8> + Copy>(current: V) -> Result<(V, V), Error<T>> {
		Ok((current, current.checked_add(&V::from(1u8)).ok_or(Error::<T>::Overflow)?))
	}
}

/// Models.
impl<T: Config> Pallet<T> {
	fn owned_model(who: &T::AccountId, id: ModelId) -> Result<Model<T>, DispatchError> {
		let model = Models::<T>::get(id).ok_or(Error::<T>::UnknownModel)?;
		ensure!(model.owner == *who, Error::<T>::NotOwner);
		Ok(model)
	}

	pub(crate) fn do_register_model(
		who: T::AccountId,
		name: Vec<u8>,
		task: TaskKind,
		license: Vec<u8>,
		card_uri: Vec<u8>,
		tags: Vec<Vec<u8>>,
		threshold: ScoreThreshold,
	) -> DispatchResult {
		let mut model = Model::<T> {
			owner: who.clone(),
			pending_owner: None,
			name: Self::checked_name(name)?,
			task,
			license: Self::checked_license(license)?,
			card_uri: Self::checked_uri(card_uri)?,
			tags: Self::checked_tags(tags)?,
			threshold,
			evaluation: None,
			state: ModelState::Active,
			canonical: None,
			version_count: 0,
			history_len: 0,
			deposit: Zero::zero(),
		};
		let (id, next) = Self::next_id(NextModelId::<T>::get())?;
		model.deposit = Self::deposit_for(model.encoded_size());
		Self::hold(&who, model.deposit)?;
		NextModelId::<T>::put(next);
		Self::deposit_event(Event::ModelRegistered {
			model: id,
			owner: who,
			deposit: model.deposit,
		});
		Models::<T>::insert(id, model);
		Ok(())
	}

	pub(crate) fn do_update_model(
		who: T::AccountId,
		id: ModelId,
		license: Vec<u8>,
		card_uri: Vec<u8>,
		tags: Vec<Vec<u8>>,
		threshold: ScoreThreshold,
	) -> DispatchResult {
		let mut model = Self::owned_model(&who, id)?;
		let old_deposit = model.deposit;
		model.license = Self::checked_license(license)?;
		model.card_uri = Self::checked_uri(card_uri)?;
		model.tags = Self::checked_tags(tags)?;
		if let Some(plan) = &model.evaluation {
			Self::check_direction(plan, &threshold)?;
		}
		model.threshold = threshold;
		model.deposit = Self::deposit_for(model.encoded_size());
		Self::adjust_deposit(&who, old_deposit, model.deposit)?;
		Self::deposit_event(Event::ModelUpdated { model: id, deposit: model.deposit });
		Models::<T>::insert(id, model);
		Ok(())
	}

	pub(crate) fn do_transfer_ownership(
		who: T::AccountId,
		id: ModelId,
		new_owner: Option<T::AccountId>,
	) -> DispatchResult {
		let mut model = Self::owned_model(&who, id)?;
		match &new_owner {
			Some(to) => Self::deposit_event(Event::OwnershipOffered { model: id, to: to.clone() }),
			None => Self::deposit_event(Event::OwnershipOfferWithdrawn { model: id }),
		}
		model.pending_owner = new_owner;
		Models::<T>::insert(id, model);
		Ok(())
	}

	pub(crate) fn do_accept_ownership(who: T::AccountId, id: ModelId) -> DispatchResult {
		let mut model = Models::<T>::get(id).ok_or(Error::<T>::UnknownModel)?;
		ensure!(model.pending_owner.as_ref() == Some(&who), Error::<T>::NotPendingOwner);
		// The new owner pays first: if they cannot, nothing changes.
		Self::hold(&who, model.deposit)?;
		Self::release(&model.owner, model.deposit)?;
		let from = core::mem::replace(&mut model.owner, who.clone());
		model.pending_owner = None;
		Models::<T>::insert(id, model);
		Self::deposit_event(Event::OwnershipTransferred { model: id, from, to: who });
		Ok(())
	}

	pub(crate) fn do_retire_model(who: T::AccountId, id: ModelId) -> DispatchResult {
		let mut model = Self::owned_model(&who, id)?;
		ensure!(model.state == ModelState::Active, Error::<T>::ModelRetired);
		model.state = ModelState::Retired;
		Models::<T>::insert(id, model);
		Self::deposit_event(Event::ModelRetired { model: id });
		Ok(())
	}

	pub(crate) fn do_remove_model(who: T::AccountId, id: ModelId) -> DispatchResult {
		let model = Self::owned_model(&who, id)?;
		ensure!(model.state == ModelState::Retired, Error::<T>::ModelNotRetired);
		// Canonical and formerly canonical versions can never be removed, so a model without versions
		// has no canonical history and no rollback stack left to clear.
		ensure!(model.version_count == 0, Error::<T>::ModelHasVersions);
		Self::release(&who, model.deposit)?;
		if let Some(plan) = model.evaluation {
			Self::unreference(plan.golden);
		}
		Models::<T>::remove(id);
		Self::deposit_event(Event::ModelRemoved { model: id, deposit_released: model.deposit });
		Ok(())
	}
}

/// Versions.
impl<T: Config> Pallet<T> {
	#[allow(clippy::too_many_arguments)]
	pub(crate) fn do_publish_version(
		who: T::AccountId,
		model_id: ModelId,
		artifact: Artifact,
		kind: VersionKind,
		parents: Vec<VersionId>,
		hyperparams: Option<ContentDigest>,
		datasets: Vec<DatasetId>,
		metrics: Vec<(Vec<u8>, i64)>,
	) -> DispatchResult {
		let model = Self::owned_model(&who, model_id)?;
		let (id, mut version) = Self::insert_version(
			who,
			model_id,
			model,
			artifact,
			kind,
			parents,
			hyperparams,
			datasets,
			metrics,
		)?;
		let plan = Models::<T>::get(model_id).and_then(|m| m.evaluation);
		if let Some(plan) = plan {
			Self::start_scoring(id, &mut version, &plan)?;
		}
		Versions::<T>::insert(id, version);
		Ok(())
	}

	/// Checks and records a new `Candidate` version of `model` (whose record the caller read), holds
	/// its deposit, counts it in its parents and datasets and emits `VersionPublished`. The caller
	/// stores the returned version (after starting its scoring, or validating it).
	#[allow(clippy::too_many_arguments)]
	fn insert_version(
		who: T::AccountId,
		model_id: ModelId,
		mut model: Model<T>,
		artifact: Artifact,
		kind: VersionKind,
		parents: Vec<VersionId>,
		hyperparams: Option<ContentDigest>,
		datasets: Vec<DatasetId>,
		metrics: Vec<(Vec<u8>, i64)>,
	) -> Result<(VersionId, Version<T>), DispatchError> {
		ensure!(model.state == ModelState::Active, Error::<T>::ModelRetired);
		artifact.check().map_err(Error::<T>::from)?;

		ensure!(parents.len() <= T::MaxParents::get() as usize, Error::<T>::TooManyParents);
		ensure!(kind.fits(parents.len()), Error::<T>::ParentsDoNotMatchKind);
		let unique: BTreeSet<_> = parents.iter().collect();
		ensure!(unique.len() == parents.len(), Error::<T>::DuplicateParent);
		for parent in &parents {
			let parent = Versions::<T>::get(parent).ok_or(Error::<T>::UnknownParent)?;
			ensure!(parent.model == model_id, Error::<T>::ParentOfAnotherModel);
		}

		ensure!(
			datasets.len() <= T::MaxVersionDatasets::get() as usize,
			Error::<T>::TooManyDatasets
		);
		let unique: BTreeSet<_> = datasets.iter().collect();
		ensure!(unique.len() == datasets.len(), Error::<T>::DuplicateDataset);
		for dataset in &datasets {
			ensure!(Datasets::<T>::contains_key(dataset), Error::<T>::UnknownDataset);
		}
		let metrics = Self::checked_metrics(metrics)?;

		let (id, next) = Self::next_id(NextVersionId::<T>::get())?;
		let index = model.version_count;
		model.version_count = index.checked_add(1).ok_or(Error::<T>::Overflow)?;
		let mut version = Version::<T> {
			model: model_id,
			publisher: who.clone(),
			artifact,
			kind,
			parents: parents.try_into().map_err(|_| Error::<T>::TooManyParents)?,
			hyperparams,
			datasets: datasets.try_into().map_err(|_| Error::<T>::TooManyDatasets)?,
			metrics,
			status: VersionStatus::Candidate,
			scoring_job: None,
			published_at: frame_system::Pallet::<T>::block_number(),
			children: 0,
			index,
			deposit: Zero::zero(),
		};
		version.deposit = Self::deposit_for(version.encoded_size());
		Self::hold(&who, version.deposit)?;

		for parent in &version.parents {
			Versions::<T>::mutate(parent, |p| {
				if let Some(p) = p {
					p.children.saturating_inc();
				}
			});
		}
		for dataset in &version.datasets {
			Datasets::<T>::mutate(dataset, |d| {
				if let Some(d) = d {
					d.references.saturating_inc();
				}
			});
		}
		NextVersionId::<T>::put(next);
		ModelVersions::<T>::insert(model_id, index, id);
		Models::<T>::insert(model_id, model);
		Self::deposit_event(Event::VersionPublished {
			model: model_id,
			version: id,
			publisher: who,
			digest: version.artifact.digest,
			deposit: version.deposit,
		});
		Ok((id, version))
	}

	/// Creates the scoring job of a candidate version.
	fn start_scoring(
		id: VersionId,
		version: &mut Version<T>,
		plan: &EvaluationPlan,
	) -> DispatchResult {
		let golden = Datasets::<T>::get(plan.golden).ok_or(Error::<T>::UnknownDataset)?;
		let job = T::Scoring::create_job(JobSpec {
			subject: JobSubject::Version(id),
			model: version.artifact.clone(),
			golden: golden.artifact,
			metric: plan.metric,
			check: ArtifactCheck::None,
		})?;
		version.scoring_job = Some(job);
		Self::deposit_event(Event::EvaluationRequested { version: id, job });
		Ok(())
	}

	pub(crate) fn do_request_evaluation(who: T::AccountId, id: VersionId) -> DispatchResult {
		let mut version = Versions::<T>::get(id).ok_or(Error::<T>::UnknownVersion)?;
		let model = Models::<T>::get(version.model).ok_or(Error::<T>::UnknownModel)?;
		ensure!(who == model.owner || who == version.publisher, Error::<T>::NotOwner);
		ensure!(version.status == VersionStatus::Candidate, Error::<T>::NotCandidate);
		ensure!(version.scoring_job.is_none(), Error::<T>::EvaluationPending);
		let plan = model.evaluation.ok_or(Error::<T>::NoEvaluationPlan)?;
		Self::start_scoring(id, &mut version, &plan)?;
		Versions::<T>::insert(id, version);
		Ok(())
	}

	/// What a scoring job concluded about a version: validated with the median score, rejected for
	/// the reason the stake majority gave, or still a candidate when nobody revealed.
	pub(crate) fn on_version_scored(id: VersionId, job: JobId, outcome: JobOutcome) {
		let Some(mut version) = Versions::<T>::get(id) else { return };
		// Only the job the version is waiting for counts (a governance report may have come first).
		if version.scoring_job != Some(job) {
			return;
		}
		version.scoring_job = None;
		Versions::<T>::insert(id, version);
		let result = match outcome {
			JobOutcome::Scored(score) => Self::do_mark_validated(id, score),
			JobOutcome::Invalid(fault) => Self::do_mark_rejected(id, fault.into()),
			JobOutcome::NoQuorum => {
				Self::deposit_event(Event::EvaluationInconclusive { version: id, job });
				Ok(())
			},
		};
		if let Err(e) = result {
			log::warn!(target: "runtime::model-registry", "version {id} after job {job}: {e:?}");
		}
	}

	/// Removes a version; returns how many parents and datasets it had (for the actual weight).
	pub(crate) fn do_remove_version(
		who: T::AccountId,
		id: VersionId,
	) -> Result<(u32, u32), DispatchError> {
		let version = Versions::<T>::get(id).ok_or(Error::<T>::UnknownVersion)?;
		ensure!(version.publisher == who, Error::<T>::NotOwner);
		ensure!(
			matches!(version.status, VersionStatus::Candidate | VersionStatus::Rejected { .. }),
			Error::<T>::VersionNotRemovable
		);
		ensure!(version.children == 0, Error::<T>::VersionHasChildren);
		let mut model = Models::<T>::get(version.model).ok_or(Error::<T>::UnknownModel)?;

		Self::release(&who, version.deposit)?;
		for parent in &version.parents {
			Versions::<T>::mutate(parent, |p| {
				if let Some(p) = p {
					p.children.saturating_dec();
				}
			});
		}
		for dataset in &version.datasets {
			Datasets::<T>::mutate(dataset, |d| {
				if let Some(d) = d {
					d.references.saturating_dec();
				}
			});
		}
		// Keep positions dense: the last version of the model moves into the gap.
		let last = model.version_count.saturating_sub(1);
		if version.index != last {
			if let Some(moved) = ModelVersions::<T>::get(version.model, last) {
				ModelVersions::<T>::insert(version.model, version.index, moved);
				Versions::<T>::mutate(moved, |v| {
					if let Some(v) = v {
						v.index = version.index;
					}
				});
			}
		}
		ModelVersions::<T>::remove(version.model, last);
		model.version_count = last;
		Models::<T>::insert(version.model, model);
		Versions::<T>::remove(id);
		Self::deposit_event(Event::VersionRemoved {
			model: version.model,
			version: id,
			deposit_released: version.deposit,
		});
		Ok((version.parents.len() as u32, version.datasets.len() as u32))
	}

	pub(crate) fn do_mark_validated(id: VersionId, score: Score) -> DispatchResult {
		Versions::<T>::try_mutate(id, |v| {
			let v = v.as_mut().ok_or(Error::<T>::UnknownVersion)?;
			ensure!(v.status == VersionStatus::Candidate, Error::<T>::NotCandidate);
			v.status = VersionStatus::Validated { score };
			v.scoring_job = None;
			Ok::<_, DispatchError>(())
		})?;
		Self::deposit_event(Event::VersionValidated { version: id, score });
		Ok(())
	}

	pub(crate) fn do_mark_rejected(id: VersionId, reason: RejectionReason) -> DispatchResult {
		Versions::<T>::try_mutate(id, |v| {
			let v = v.as_mut().ok_or(Error::<T>::UnknownVersion)?;
			ensure!(v.status == VersionStatus::Candidate, Error::<T>::NotCandidate);
			v.status = VersionStatus::Rejected { reason };
			v.scoring_job = None;
			Ok::<_, DispatchError>(())
		})?;
		Self::deposit_event(Event::VersionRejected { version: id, reason });
		Ok(())
	}
}

/// Evaluation plans.
impl<T: Config> Pallet<T> {
	pub(crate) fn do_set_evaluation_plan(
		who: T::AccountId,
		id: ModelId,
		plan: Option<EvaluationPlan>,
	) -> DispatchResult {
		let mut model = Self::owned_model(&who, id)?;
		if let Some(plan) = &plan {
			let golden = Datasets::<T>::get(plan.golden).ok_or(Error::<T>::UnknownDataset)?;
			ensure!(
				golden.artifact.format == ArtifactFormat::Safetensors,
				Error::<T>::NotGoldenDataset
			);
			Self::check_direction(plan, &model.threshold)?;
			Datasets::<T>::mutate(plan.golden, |d| {
				if let Some(d) = d {
					d.references.saturating_inc();
				}
			});
		}
		if let Some(old) = core::mem::replace(&mut model.evaluation, plan) {
			Self::unreference(old.golden);
		}
		Models::<T>::insert(id, model);
		Self::deposit_event(Event::EvaluationPlanSet { model: id, plan });
		Ok(())
	}

	/// Accuracies are "higher is better" and need an `AtLeast` threshold; losses need `AtMost`.
	fn check_direction(plan: &EvaluationPlan, threshold: &ScoreThreshold) -> DispatchResult {
		let at_least = matches!(threshold, ScoreThreshold::AtLeast(_));
		ensure!(plan.metric.higher_is_better() == at_least, Error::<T>::MetricContradictsThreshold);
		Ok(())
	}

	fn unreference(dataset: DatasetId) {
		Datasets::<T>::mutate(dataset, |d| {
			if let Some(d) = d {
				d.references.saturating_dec();
			}
		});
	}
}

/// Datasets.
impl<T: Config> Pallet<T> {
	pub(crate) fn do_register_dataset(
		who: T::AccountId,
		artifact: Artifact,
		samples: u64,
		license: Vec<u8>,
		schema_uri: Option<Vec<u8>>,
	) -> DispatchResult {
		artifact.check().map_err(Error::<T>::from)?;
		ensure!(samples > 0, Error::<T>::ZeroSamples);
		let mut dataset = Dataset::<T> {
			owner: who.clone(),
			artifact,
			samples,
			license: Self::checked_license(license)?,
			schema_uri: schema_uri.map(Self::checked_uri).transpose()?,
			references: 0,
			deposit: Zero::zero(),
		};
		let (id, next) = Self::next_id(NextDatasetId::<T>::get())?;
		dataset.deposit = Self::deposit_for(dataset.encoded_size());
		Self::hold(&who, dataset.deposit)?;
		NextDatasetId::<T>::put(next);
		Self::deposit_event(Event::DatasetRegistered {
			dataset: id,
			owner: who,
			deposit: dataset.deposit,
		});
		Datasets::<T>::insert(id, dataset);
		Ok(())
	}

	pub(crate) fn do_remove_dataset(who: T::AccountId, id: DatasetId) -> DispatchResult {
		let dataset = Datasets::<T>::get(id).ok_or(Error::<T>::UnknownDataset)?;
		ensure!(dataset.owner == who, Error::<T>::NotOwner);
		ensure!(dataset.references == 0, Error::<T>::DatasetInUse);
		Self::release(&who, dataset.deposit)?;
		Datasets::<T>::remove(id);
		Self::deposit_event(Event::DatasetRemoved {
			dataset: id,
			deposit_released: dataset.deposit,
		});
		Ok(())
	}
}

/// The canonical version and its history.
impl<T: Config> Pallet<T> {
	/// Appends "`version` is canonical from now on" to the model's history. Two changes in one block
	/// leave one entry (the state at the end of the block), keeping the history strictly increasing.
	fn record_canonical(model_id: ModelId, model: &mut Model<T>, version: VersionId) {
		let change = CanonicalChange { since: frame_system::Pallet::<T>::block_number(), version };
		let last = model.history_len.checked_sub(1);
		let same_block = last
			.and_then(|i| CanonicalHistory::<T>::get(model_id, i))
			.is_some_and(|c| c.since == change.since);
		match (last, same_block) {
			(Some(i), true) => CanonicalHistory::<T>::insert(model_id, i, change),
			_ => {
				CanonicalHistory::<T>::insert(model_id, model.history_len, change);
				model.history_len.saturating_inc();
			},
		}
	}

	fn set_status(id: VersionId, status: VersionStatus) {
		Versions::<T>::mutate(id, |v| {
			if let Some(v) = v {
				v.status = status;
			}
		});
	}

	/// Deprecates the canonical version `id` (keeping its score).
	fn deprecate(id: VersionId) {
		if let Some(score) = Versions::<T>::get(id).and_then(|v| v.status.score()) {
			Self::set_status(id, VersionStatus::Deprecated { score });
			Self::deposit_event(Event::VersionDeprecated { version: id });
		}
	}

	pub(crate) fn do_set_canonical(model_id: ModelId, id: VersionId) -> DispatchResult {
		let mut model = Models::<T>::get(model_id).ok_or(Error::<T>::UnknownModel)?;
		let version = Versions::<T>::get(id).ok_or(Error::<T>::UnknownVersion)?;
		ensure!(version.model == model_id, Error::<T>::VersionOfAnotherModel);
		ensure!(model.state == ModelState::Active, Error::<T>::ModelRetired);
		ensure!(model.canonical != Some(id), Error::<T>::AlreadyCanonical);
		let score = match version.status {
			VersionStatus::Validated { score } | VersionStatus::Deprecated { score } => score,
			_ => return Err(Error::<T>::NotPromotable.into()),
		};
		ensure!(model.threshold.is_met_by(score), Error::<T>::BelowThreshold);

		let previous = model.canonical.replace(id);
		if let Some(previous) = previous {
			Self::deprecate(previous);
		}
		Self::set_status(id, VersionStatus::Canonical { score });
		RollbackStack::<T>::mutate(model_id, |stack| {
			// A full stack forgets its oldest entry: rollbacks reach back `MaxRollbackDepth` versions.
			if stack.is_full() {
				stack.remove(0);
			}
			let _ = stack.try_push(id);
		});
		Self::record_canonical(model_id, &mut model, id);
		Models::<T>::insert(model_id, model);
		Self::deposit_event(Event::CanonicalVersionSet { model: model_id, version: id, previous });
		Ok(())
	}

	pub(crate) fn do_rollback(model_id: ModelId) -> DispatchResult {
		let mut model = Models::<T>::get(model_id).ok_or(Error::<T>::UnknownModel)?;
		let mut stack = RollbackStack::<T>::get(model_id);
		ensure!(stack.len() >= 2, Error::<T>::NothingToRollBack);
		let from = stack.pop().ok_or(Error::<T>::NothingToRollBack)?;
		let to = *stack.last().ok_or(Error::<T>::NothingToRollBack)?;
		let score = Versions::<T>::get(to)
			.and_then(|v| v.status.score())
			.ok_or(Error::<T>::NothingToRollBack)?;

		Self::deprecate(from);
		Self::set_status(to, VersionStatus::Canonical { score });
		model.canonical = Some(to);
		Self::record_canonical(model_id, &mut model, to);
		RollbackStack::<T>::insert(model_id, stack);
		Models::<T>::insert(model_id, model);
		Self::deposit_event(Event::CanonicalVersionRolledBack { model: model_id, from, to });
		Ok(())
	}
}

/// Queries, for the runtime API.
impl<T: Config> Pallet<T> {
	/// The version that was canonical at the end of block `at`, by binary search over the history.
	pub fn canonical_at(model_id: ModelId, at: BlockNumberFor<T>) -> Option<VersionId> {
		let len = Models::<T>::get(model_id)?.history_len;
		// Find the first entry that starts after `at`; the one before it is the answer.
		let (mut low, mut high) = (0u32, len);
		while low < high {
			let mid = low + (high - low) / 2;
			match CanonicalHistory::<T>::get(model_id, mid) {
				Some(change) if change.since <= at => low = mid + 1,
				_ => high = mid,
			}
		}
		low.checked_sub(1)
			.and_then(|i| CanonicalHistory::<T>::get(model_id, i))
			.map(|change| change.version)
	}

	/// The ancestors of a version, nearest first (breadth-first), each once, at most `MaxLineage`.
	pub fn lineage(id: VersionId) -> Vec<VersionId> {
		let max = T::MaxLineage::get() as usize;
		let mut seen = BTreeSet::new();
		let mut queue = alloc::collections::VecDeque::new();
		let mut out = Vec::new();
		if let Some(v) = Versions::<T>::get(id) {
			queue.extend(v.parents.iter().copied());
		}
		while let Some(next) = queue.pop_front() {
			if out.len() >= max {
				break;
			}
			if !seen.insert(next) {
				continue;
			}
			out.push(next);
			if let Some(v) = Versions::<T>::get(next) {
				queue.extend(v.parents.iter().copied());
			}
		}
		out
	}

	/// Up to `limit` (capped at 100) version ids of a model from position `offset`.
	pub fn versions_of(model_id: ModelId, offset: u32, limit: u32) -> Vec<VersionId> {
		let count = Models::<T>::get(model_id).map(|m| m.version_count).unwrap_or(0);
		let end = offset.saturating_add(limit.min(100)).min(count);
		(offset..end).filter_map(|i| ModelVersions::<T>::get(model_id, i)).collect()
	}

	pub fn model_details(id: ModelId) -> Option<ModelDetails<T::AccountId, BalanceOf<T>>> {
		Models::<T>::get(id).map(|m| ModelDetails {
			id,
			owner: m.owner,
			pending_owner: m.pending_owner,
			name: m.name.into_inner(),
			task: m.task,
			license: m.license.into_inner(),
			card_uri: m.card_uri.into_inner(),
			tags: m.tags.into_iter().map(|t| t.into_inner()).collect(),
			threshold: m.threshold,
			evaluation: m.evaluation,
			state: m.state,
			canonical: m.canonical,
			version_count: m.version_count,
			deposit: m.deposit,
		})
	}

	pub fn version_details(
		id: VersionId,
	) -> Option<VersionDetails<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		Versions::<T>::get(id).map(|v| VersionDetails {
			id,
			model: v.model,
			publisher: v.publisher,
			artifact: v.artifact,
			kind: v.kind,
			parents: v.parents.into_inner(),
			hyperparams: v.hyperparams,
			datasets: v.datasets.into_inner(),
			metrics: v.metrics.into_iter().map(|(k, value)| (k.into_inner(), value)).collect(),
			status: v.status,
			scoring_job: v.scoring_job,
			published_at: v.published_at,
			deposit: v.deposit,
		})
	}

	pub fn dataset_details(id: DatasetId) -> Option<DatasetDetails<T::AccountId, BalanceOf<T>>> {
		Datasets::<T>::get(id).map(|d| DatasetDetails {
			id,
			owner: d.owner,
			artifact: d.artifact,
			samples: d.samples,
			license: d.license.into_inner(),
			schema_uri: d.schema_uri.map(|u| u.into_inner()),
			references: d.references,
			deposit: d.deposit,
		})
	}
}

impl<T: Config> ModelRegistry<T::AccountId> for Pallet<T> {
	fn model(id: ModelId) -> Option<ModelView<T::AccountId>> {
		Models::<T>::get(id).map(|m| ModelView {
			owner: m.owner,
			active: m.state == ModelState::Active,
			canonical: m.canonical,
		})
	}

	fn version(id: VersionId) -> Option<VersionView<T::AccountId>> {
		Versions::<T>::get(id).map(|v| VersionView {
			model: v.model,
			publisher: v.publisher,
			artifact: v.artifact,
			status: v.status,
		})
	}

	fn dataset(id: DatasetId) -> Option<DatasetView<T::AccountId>> {
		Datasets::<T>::get(id).map(|d| DatasetView {
			owner: d.owner,
			artifact: d.artifact,
			samples: d.samples,
		})
	}

	fn mark_validated(id: VersionId, score: Score) -> DispatchResult {
		Self::do_mark_validated(id, score)
	}

	fn mark_rejected(id: VersionId, reason: RejectionReason) -> DispatchResult {
		Self::do_mark_rejected(id, reason)
	}

	fn publish_scored(v: ScoredVersion<T::AccountId>) -> Result<VersionId, DispatchError> {
		let model = Models::<T>::get(v.model).ok_or(Error::<T>::UnknownModel)?;
		let kind = if v.aggregate { VersionKind::Aggregate } else { VersionKind::FineTune };
		let (id, version) = Self::insert_version(
			v.publisher,
			v.model,
			model,
			v.artifact,
			kind,
			v.parents,
			None,
			v.datasets,
			Vec::new(),
		)?;
		Versions::<T>::insert(id, version);
		Self::do_mark_validated(id, v.score)?;
		Ok(id)
	}

	fn publish_scored_weight() -> Weight {
		let max = <T as Config>::WeightInfo::publish_version(
			T::MaxParents::get(),
			T::MaxVersionDatasets::get(),
		);
		max.saturating_add(<T as Config>::WeightInfo::report_evaluation())
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_model(owner: &T::AccountId, score: Score) -> (ModelId, VersionId) {
		crate::benchmarking::validated_model::<T>(owner, score)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_dataset(owner: &T::AccountId, samples: u64) -> DatasetId {
		crate::benchmarking::dataset_of::<T>(owner, samples)
	}
}

/// The registry hears the outcome of its versions' scoring jobs.
impl<T: Config> ScoreConsumer for Pallet<T> {
	fn job_concluded(job: JobId, subject: JobSubject, outcome: JobOutcome) -> Weight {
		match subject {
			JobSubject::Version(id) => {
				Self::on_version_scored(id, job, outcome);
				Self::job_concluded_weight()
			},
			// Jobs of training rounds: not the registry's.
			JobSubject::RoundBase(_) | JobSubject::Update(_) | JobSubject::Aggregate(_) => {
				Weight::zero()
			},
		}
	}

	fn job_concluded_weight() -> Weight {
		<T as Config>::WeightInfo::report_evaluation()
	}
}

/// Invariants, checked by `try_state` (and after every unit test, also of the pallets built on the
/// registry, hence `std`).
#[cfg(any(feature = "try-runtime", feature = "std", test))]
impl<T: Config> Pallet<T> {
	/// - every version's model exists, its parents exist, belong to the same model and have a lower id
	///   (so the lineage is a DAG), and `children` counts exactly the versions listing it as a parent;
	/// - every model's `version_count` equals its versions, and `ModelVersions` maps its positions
	///   `0 .. version_count` onto exactly those versions, consistently with each version's `index`;
	/// - every dataset's `references` counts exactly the versions declaring it and the evaluation plans
	///   naming it; only candidates have a scoring job;
	/// - a model's canonical version exists, is `Canonical`, belongs to it and is the top of its rollback
	///   stack; every `Canonical` version is some model's canonical version;
	/// - each canonical history is strictly increasing in block number and ends with the canonical version;
	/// - the deposits held from each account under `RegistryDeposit` equal the sum of the deposits its
	///   records note;
	/// - no id is at or beyond its `Next*Id` counter.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let mut children: BTreeMap<VersionId, u32> = BTreeMap::new();
		let mut references: BTreeMap<DatasetId, u32> = BTreeMap::new();
		let mut per_model: BTreeMap<ModelId, u32> = BTreeMap::new();
		let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut add = |who: &T::AccountId, amount: BalanceOf<T>| {
			let entry = deposits.entry(who.clone()).or_insert_with(Zero::zero);
			*entry = entry.saturating_add(amount);
		};

		for (id, v) in Versions::<T>::iter() {
			ensure!(id < NextVersionId::<T>::get(), "version id beyond the counter");
			ensure!(Models::<T>::contains_key(v.model), "version of a missing model");
			for parent in &v.parents {
				let p = Versions::<T>::get(parent).ok_or("missing parent")?;
				ensure!(p.model == v.model, "parent of another model");
				ensure!(*parent < id, "parent newer than its child");
				*children.entry(*parent).or_default() += 1;
			}
			for d in &v.datasets {
				ensure!(Datasets::<T>::contains_key(d), "missing dataset");
				*references.entry(*d).or_default() += 1;
			}
			ensure!(
				v.scoring_job.is_none() || v.status == VersionStatus::Candidate,
				"a scoring job on a version that is not a candidate"
			);
			ensure!(
				ModelVersions::<T>::get(v.model, v.index) == Some(id),
				"version index does not map back to the version"
			);
			*per_model.entry(v.model).or_default() += 1;
			if let VersionStatus::Canonical { .. } = v.status {
				let model = Models::<T>::get(v.model).ok_or("missing model")?;
				ensure!(model.canonical == Some(id), "a Canonical version that is not canonical");
			}
			add(&v.publisher, v.deposit);
		}
		for (id, v) in Versions::<T>::iter() {
			ensure!(children.get(&id).copied().unwrap_or(0) == v.children, "children count off");
		}
		for (_, m) in Models::<T>::iter() {
			if let Some(plan) = m.evaluation {
				ensure!(Datasets::<T>::contains_key(plan.golden), "missing golden dataset");
				*references.entry(plan.golden).or_default() += 1;
			}
		}
		for (id, d) in Datasets::<T>::iter() {
			ensure!(id < NextDatasetId::<T>::get(), "dataset id beyond the counter");
			ensure!(references.get(&id).copied().unwrap_or(0) == d.references, "references off");
			add(&d.owner, d.deposit);
		}
		for (id, m) in Models::<T>::iter() {
			ensure!(id < NextModelId::<T>::get(), "model id beyond the counter");
			ensure!(
				per_model.get(&id).copied().unwrap_or(0) == m.version_count,
				"version count off"
			);
			ensure!(
				ModelVersions::<T>::iter_prefix(id).count() as u32 == m.version_count,
				"ModelVersions has stale positions"
			);
			let mut previous: Option<BlockNumberFor<T>> = None;
			let mut last = None;
			for i in 0..m.history_len {
				let change =
					CanonicalHistory::<T>::get(id, i).ok_or("hole in the canonical history")?;
				ensure!(
					previous.is_none_or(|p| p < change.since),
					"history not strictly increasing"
				);
				previous = Some(change.since);
				last = Some(change.version);
			}
			ensure!(last == m.canonical, "history does not end with the canonical version");
			if let Some(c) = m.canonical {
				let v = Versions::<T>::get(c).ok_or("missing canonical version")?;
				ensure!(v.model == id, "canonical version of another model");
				ensure!(
					matches!(v.status, VersionStatus::Canonical { .. }),
					"canonical not Canonical"
				);
				ensure!(
					RollbackStack::<T>::get(id).last() == Some(&c),
					"rollback stack top is off"
				);
			}
			add(&m.owner, m.deposit);
		}
		for (who, expected) in deposits {
			let held = T::Currency::balance_on_hold(&HoldReason::RegistryDeposit.into(), &who);
			ensure!(held == expected, "held deposit differs from the recorded deposits");
		}
		Ok(())
	}
}
