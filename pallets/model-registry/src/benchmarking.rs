//! Benchmarks (frame-benchmarking v2) of every call, each at its worst case: the longest names, URIs,
//! tags and metrics, the most parents and datasets, a full rollback stack.

use super::*;
use crate::Pallet as Registry;
use alloc::{string::ToString, vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, EnsureOrigin, Get};
use frame_system::RawOrigin;
use modelchain_primitives::{ArtifactFormat, MAX_URI_LEN};
use sp_runtime::traits::{Saturating, StaticLookup};

/// An account with enough to pay any number of deposits the benchmark needs.
fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	let plenty = Registry::<T>::deposit_for(1_000_000).saturating_mul(1_000u32.into());
	T::Currency::set_balance(&who, plenty);
	who
}

/// `len` printable bytes, distinct for distinct `seed`s.
fn text(len: u32, seed: u32) -> Vec<u8> {
	let mut out = vec![b'a'; len as usize];
	for (i, digit) in seed.to_string().bytes().enumerate().take(out.len()) {
		out[i] = digit;
	}
	out
}

fn longest_uri() -> Vec<u8> {
	let mut uri = b"https://".to_vec();
	uri.extend(text(MAX_URI_LEN - 8, 0));
	uri
}

fn artifact(seed: u32) -> Artifact {
	let mut digest = [1u8; 32];
	digest[..4].copy_from_slice(&seed.to_le_bytes());
	Artifact {
		uri: longest_uri().try_into().expect("exactly MAX_URI_LEN"),
		digest,
		size: u64::MAX,
		format: ArtifactFormat::Onnx,
	}
}

fn most_tags<T: Config>() -> Vec<Vec<u8>> {
	(0..T::MaxTags::get()).map(|i| text(T::MaxTagLen::get(), i)).collect()
}

fn most_metrics<T: Config>() -> Vec<(Vec<u8>, i64)> {
	(0..T::MaxMetrics::get()).map(|i| (text(T::MaxMetricKeyLen::get(), i), i64::MAX)).collect()
}

fn create_model<T: Config>(owner: &T::AccountId) -> ModelId {
	let id = NextModelId::<T>::get();
	Registry::<T>::do_register_model(
		owner.clone(),
		text(T::MaxNameLen::get(), 0),
		TaskKind::Classification,
		text(T::MaxLicenseLen::get(), 0),
		longest_uri(),
		most_tags::<T>(),
		ScoreThreshold::AtLeast(0),
	)
	.expect("model registers");
	id
}

/// For other pallets' benchmarks: an active model of `owner` whose canonical version scored `score`.
pub(crate) fn validated_model<T: Config>(
	owner: &T::AccountId,
	score: Score,
) -> (ModelId, VersionId) {
	let plenty = Registry::<T>::deposit_for(1_000_000).saturating_mul(1_000u32.into());
	T::Currency::mint_into(owner, plenty).expect("minting into a benchmark account works");
	let model = create_model::<T>(owner);
	let version = NextVersionId::<T>::get();
	Registry::<T>::do_publish_version(
		owner.clone(),
		model,
		artifact(version as u32),
		VersionKind::Initial,
		vec![],
		None,
		vec![],
		vec![],
	)
	.expect("version publishes");
	Registry::<T>::do_mark_validated(version, score).expect("a candidate validates");
	Registry::<T>::do_set_canonical(model, version).expect("a validated version becomes canonical");
	(model, version)
}

/// For other pallets' benchmarks: a dataset of `owner` with `samples` samples.
pub(crate) fn dataset_of<T: Config>(owner: &T::AccountId, samples: u64) -> DatasetId {
	let plenty = Registry::<T>::deposit_for(1_000_000).saturating_mul(10u32.into());
	T::Currency::mint_into(owner, plenty).expect("minting into a benchmark account works");
	let id = NextDatasetId::<T>::get();
	Registry::<T>::do_register_dataset(
		owner.clone(),
		artifact(1_000_000 + id as u32),
		samples,
		text(T::MaxLicenseLen::get(), 0),
		None,
	)
	.expect("dataset registers");
	id
}

fn create_dataset<T: Config>(owner: &T::AccountId, seed: u32) -> DatasetId {
	let id = NextDatasetId::<T>::get();
	Registry::<T>::do_register_dataset(
		owner.clone(),
		artifact(seed),
		u64::MAX,
		text(T::MaxLicenseLen::get(), seed),
		Some(longest_uri()),
	)
	.expect("dataset registers");
	id
}

fn golden_dataset<T: Config>(owner: &T::AccountId, seed: u32) -> DatasetId {
	let id = NextDatasetId::<T>::get();
	let mut golden = artifact(seed);
	golden.format = ArtifactFormat::Safetensors;
	Registry::<T>::do_register_dataset(owner.clone(), golden, u64::MAX, text(4, seed), None)
		.expect("dataset registers");
	id
}

fn kind_for(parents: usize) -> VersionKind {
	match parents {
		0 => VersionKind::Initial,
		1 => VersionKind::FineTune,
		_ => VersionKind::Merge,
	}
}

fn create_version<T: Config>(
	owner: &T::AccountId,
	model: ModelId,
	parents: Vec<VersionId>,
	datasets: Vec<DatasetId>,
) -> VersionId {
	let id = NextVersionId::<T>::get();
	Registry::<T>::do_publish_version(
		owner.clone(),
		model,
		artifact(id as u32),
		kind_for(parents.len()),
		parents,
		Some([7; 32]),
		datasets,
		most_metrics::<T>(),
	)
	.expect("version publishes");
	id
}

fn validated_version<T: Config>(owner: &T::AccountId, model: ModelId, score: Score) -> VersionId {
	let id = create_version::<T>(owner, model, vec![], vec![]);
	Registry::<T>::do_mark_validated(id, score).expect("candidate");
	id
}

/// A model whose rollback stack is full of validated versions, the last one canonical.
fn model_with_full_stack<T: Config>(owner: &T::AccountId) -> ModelId {
	let model = create_model::<T>(owner);
	for i in 0..T::MaxRollbackDepth::get() {
		let v = validated_version::<T>(owner, model, 1_000 + i as u64);
		Registry::<T>::do_set_canonical(model, v).expect("promotable");
	}
	model
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_model() {
		let caller = funded::<T>("caller", 0);
		whitelist_account!(caller);
		#[extrinsic_call]
		_(
			RawOrigin::Signed(caller.clone()),
			text(T::MaxNameLen::get(), 1),
			TaskKind::Classification,
			text(T::MaxLicenseLen::get(), 1),
			longest_uri(),
			most_tags::<T>(),
			ScoreThreshold::AtLeast(1),
		);
		assert_eq!(Models::<T>::get(0).map(|m| m.owner), Some(caller));
	}

	#[benchmark]
	fn update_model() {
		let caller = funded::<T>("caller", 0);
		let model = create_model::<T>(&caller);
		whitelist_account!(caller);
		#[extrinsic_call]
		_(
			RawOrigin::Signed(caller),
			model,
			text(T::MaxLicenseLen::get(), 2),
			longest_uri(),
			most_tags::<T>().into_iter().rev().collect(),
			ScoreThreshold::AtMost(5),
		);
		assert_eq!(Models::<T>::get(model).map(|m| m.threshold), Some(ScoreThreshold::AtMost(5)));
	}

	#[benchmark]
	fn transfer_ownership() {
		let caller = funded::<T>("caller", 0);
		let to = funded::<T>("to", 0);
		let model = create_model::<T>(&caller);
		let lookup = T::Lookup::unlookup(to.clone());
		whitelist_account!(caller);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), model, Some(lookup));
		assert_eq!(Models::<T>::get(model).and_then(|m| m.pending_owner), Some(to));
	}

	#[benchmark]
	fn accept_ownership() {
		let owner = funded::<T>("owner", 0);
		let caller = funded::<T>("caller", 0);
		let model = create_model::<T>(&owner);
		Registry::<T>::do_transfer_ownership(owner, model, Some(caller.clone())).expect("owner");
		whitelist_account!(caller);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), model);
		assert_eq!(Models::<T>::get(model).map(|m| m.owner), Some(caller));
	}

	#[benchmark]
	fn retire_model() {
		let caller = funded::<T>("caller", 0);
		let model = create_model::<T>(&caller);
		whitelist_account!(caller);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), model);
		assert_eq!(Models::<T>::get(model).map(|m| m.state), Some(ModelState::Retired));
	}

	#[benchmark]
	fn remove_model() {
		let caller = funded::<T>("caller", 0);
		let model = create_model::<T>(&caller);
		Registry::<T>::do_retire_model(caller.clone(), model).expect("owner");
		whitelist_account!(caller);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), model);
		assert!(!Models::<T>::contains_key(model));
	}

	#[benchmark]
	fn publish_version(
		p: Linear<0, { T::MaxParents::get() }>,
		d: Linear<0, { T::MaxVersionDatasets::get() }>,
	) {
		let caller = funded::<T>("caller", 0);
		let model = create_model::<T>(&caller);
		let parents: Vec<_> =
			(0..p).map(|_| create_version::<T>(&caller, model, vec![], vec![])).collect();
		let datasets: Vec<_> = (0..d).map(|i| create_dataset::<T>(&caller, 100 + i)).collect();
		let id = NextVersionId::<T>::get();
		whitelist_account!(caller);
		#[extrinsic_call]
		_(
			RawOrigin::Signed(caller),
			model,
			artifact(999),
			kind_for(p as usize),
			parents,
			Some([3; 32]),
			datasets,
			most_metrics::<T>(),
		);
		assert!(Versions::<T>::contains_key(id));
	}

	#[benchmark]
	fn remove_version(
		p: Linear<0, { T::MaxParents::get() }>,
		d: Linear<0, { T::MaxVersionDatasets::get() }>,
	) {
		let caller = funded::<T>("caller", 0);
		let model = create_model::<T>(&caller);
		let parents: Vec<_> =
			(0..p).map(|_| create_version::<T>(&caller, model, vec![], vec![])).collect();
		let datasets: Vec<_> = (0..d).map(|i| create_dataset::<T>(&caller, 100 + i)).collect();
		let victim = create_version::<T>(&caller, model, parents, datasets);
		// A later version, so removal moves it into the gap (the costlier path).
		create_version::<T>(&caller, model, vec![], vec![]);
		whitelist_account!(caller);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), victim);
		assert!(!Versions::<T>::contains_key(victim));
	}

	#[benchmark]
	fn register_dataset() {
		let caller = funded::<T>("caller", 0);
		whitelist_account!(caller);
		#[extrinsic_call]
		_(
			RawOrigin::Signed(caller),
			artifact(5),
			u64::MAX,
			text(T::MaxLicenseLen::get(), 5),
			Some(longest_uri()),
		);
		assert!(Datasets::<T>::contains_key(0));
	}

	#[benchmark]
	fn remove_dataset() {
		let caller = funded::<T>("caller", 0);
		let dataset = create_dataset::<T>(&caller, 5);
		whitelist_account!(caller);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), dataset);
		assert!(!Datasets::<T>::contains_key(dataset));
	}

	#[benchmark]
	fn report_evaluation() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let model = create_model::<T>(&owner);
		let version = create_version::<T>(&owner, model, vec![], vec![]);
		let origin =
			T::EvaluationOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, version, EvaluationOutcome::Validated(10));
		assert_eq!(
			Versions::<T>::get(version).map(|v| v.status),
			Some(VersionStatus::Validated { score: 10 })
		);
		Ok(())
	}

	#[benchmark]
	fn set_canonical() -> Result<(), BenchmarkError> {
		// Worst case: a previous canonical version to deprecate and a full stack to shift.
		let owner = funded::<T>("owner", 0);
		let model = model_with_full_stack::<T>(&owner);
		let version = validated_version::<T>(&owner, model, 5_000);
		frame_system::Pallet::<T>::set_block_number(
			frame_system::Pallet::<T>::block_number() + 1u32.into(),
		);
		let origin =
			T::PromoteOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, model, version);
		assert_eq!(Models::<T>::get(model).and_then(|m| m.canonical), Some(version));
		Ok(())
	}

	#[benchmark]
	fn rollback() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let model = model_with_full_stack::<T>(&owner);
		frame_system::Pallet::<T>::set_block_number(
			frame_system::Pallet::<T>::block_number() + 1u32.into(),
		);
		let origin =
			T::RollbackOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let before = Models::<T>::get(model).and_then(|m| m.canonical);
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, model);
		assert_ne!(Models::<T>::get(model).and_then(|m| m.canonical), before);
		Ok(())
	}

	/// Worst case: a plan replaced, so one golden dataset is released and another referenced.
	#[benchmark]
	fn set_evaluation_plan() {
		let owner = funded::<T>("owner", 0);
		let model = create_model::<T>(&owner);
		let old = golden_dataset::<T>(&owner, 1);
		let new = golden_dataset::<T>(&owner, 2);
		Registry::<T>::do_set_evaluation_plan(
			owner.clone(),
			model,
			Some(EvaluationPlan { golden: old, metric: Metric::Accuracy }),
		)
		.expect("plan set");
		let plan = Some(EvaluationPlan { golden: new, metric: Metric::TopKAccuracy(5) });
		whitelist_account!(owner);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), model, plan);
		assert_eq!(Models::<T>::get(model).and_then(|m| m.evaluation), plan);
	}

	/// A candidate published before its model had a plan.
	#[benchmark]
	fn request_evaluation() {
		let owner = funded::<T>("owner", 0);
		let model = create_model::<T>(&owner);
		let version = create_version::<T>(&owner, model, vec![], vec![]);
		let golden = golden_dataset::<T>(&owner, 1);
		Registry::<T>::do_set_evaluation_plan(
			owner.clone(),
			model,
			Some(EvaluationPlan { golden, metric: Metric::Accuracy }),
		)
		.expect("plan set");
		whitelist_account!(owner);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), version);
	}

	impl_benchmark_test_suite!(Registry, crate::mock::ExtBuilder::build(), crate::mock::Test);
}
