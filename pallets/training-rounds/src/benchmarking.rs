//! Benchmarks (frame-benchmarking v2) of every call and every scoring outcome, each at its worst case:
//! the most updates in the round, the most datasets per update, the longest URIs.

use super::*;
use crate::Pallet as TrainingRounds;
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{fungible::Mutate, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use modelchain_primitives::{
	AggregationRule, Artifact, ArtifactFormat, DatasetId, JobOutcome, Metric, ModelRegistry,
	RoundId, UpdateId, MAX_URI_LEN,
};
use sp_runtime::traits::Saturating;

const BASE_SCORE: u64 = 500_000_000;

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, T::MinStake::get().saturating_mul(1_000_000u32.into()));
	who
}

fn artifact(seed: u32) -> Artifact {
	let mut uri = b"https://".to_vec();
	uri.resize(MAX_URI_LEN as usize, b'a');
	let mut digest = [7u8; 32];
	digest[..4].copy_from_slice(&seed.to_le_bytes());
	Artifact {
		uri: BoundedVec::truncate_from(uri),
		digest,
		size: u64::MAX,
		format: ArtifactFormat::Onnx,
	}
}

/// Opens a round of `owner` taking `MaxUpdates` updates; its base scored when `scored`.
fn open<T: Config>(owner: &T::AccountId, scored: bool) -> RoundId {
	let (model, _) = T::Registry::benchmark_model(owner, BASE_SCORE);
	let golden = T::Registry::benchmark_dataset(owner, 1_000);
	let params = RoundParams {
		golden,
		metric: Metric::Accuracy,
		min_improvement: 1,
		tolerance: 0,
		rule: AggregationRule::FedAvg,
		stake: T::MinStake::get(),
		max_updates: T::MaxUpdates::get(),
		submission_blocks: T::MinWindow::get(),
		aggregation_blocks: T::MinWindow::get(),
	};
	let round = NextRoundId::<T>::get();
	TrainingRounds::<T>::do_open_round(owner.clone(), model, None, params, T::MinStake::get())
		.expect("the round opens");
	if scored {
		let BaseScore::Pending(job) = Rounds::<T>::get(round).unwrap().base_score else {
			panic!("the base is being scored")
		};
		TrainingRounds::<T>::on_base_scored(round, job, JobOutcome::Scored(BASE_SCORE));
	}
	round
}

/// `MaxUpdateDatasets` datasets, which every update of the benchmarks declares.
fn datasets<T: Config>(owner: &T::AccountId) -> Vec<DatasetId> {
	(0..T::MaxUpdateDatasets::get())
		.map(|_| T::Registry::benchmark_dataset(owner, 1_000_000))
		.collect()
}

/// Contributor `i`, joined to `round` with `datasets`.
fn joined<T: Config>(round: RoundId, i: u32, datasets: &[DatasetId]) -> T::AccountId {
	let who = funded::<T>("contributor", i);
	TrainingRounds::<T>::do_join_round(who.clone(), round, datasets.to_vec())
		.expect("the contributor joins");
	who
}

/// `n` updates of distinct contributors, submitted; when `score` is given, the submission window is
/// then over, their jobs opened, and each scored `score`.
fn updates<T: Config>(
	round: RoundId,
	n: u32,
	datasets: &[DatasetId],
	score: Option<u64>,
) -> Vec<UpdateId> {
	let ids: Vec<UpdateId> = (0..n)
		.map(|i| {
			let who = joined::<T>(round, i, datasets);
			TrainingRounds::<T>::do_submit_update(who.clone(), round, artifact(i), 1_000)
				.expect("the update is taken");
			ContributorUpdate::<T>::get(round, &who).unwrap()
		})
		.collect();
	if let Some(score) = score {
		go_past_submission::<T>(round);
		assert_eq!(TrainingRounds::<T>::start_round_scoring(round), (true, n));
		for id in &ids {
			let UpdateState::Scoring(job) = Updates::<T>::get(id).unwrap().state else {
				panic!("the update is being scored")
			};
			TrainingRounds::<T>::on_update_scored(*id, job, JobOutcome::Scored(score));
		}
	}
	ids
}

fn go_past_windows<T: Config>(round: RoundId) {
	let r = Rounds::<T>::get(round).unwrap();
	frame_system::Pallet::<T>::set_block_number(r.submission_end.max(r.aggregation_end()));
}

fn go_past_submission<T: Config>(round: RoundId) {
	frame_system::Pallet::<T>::set_block_number(Rounds::<T>::get(round).unwrap().submission_end);
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn open_round() {
		let owner = funded::<T>("owner", 0);
		let (model, _) = T::Registry::benchmark_model(&owner, BASE_SCORE);
		let golden = T::Registry::benchmark_dataset(&owner, 1_000);
		let params = RoundParams {
			golden,
			metric: Metric::TopKAccuracy(5),
			min_improvement: 1,
			tolerance: 1,
			rule: AggregationRule::FedAvg,
			stake: T::MinStake::get(),
			max_updates: T::MaxUpdates::get(),
			submission_blocks: T::MaxWindow::get(),
			aggregation_blocks: T::MaxWindow::get(),
		};
		whitelist_account!(owner);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), model, None, params, T::MinStake::get());
		assert!(Rounds::<T>::contains_key(0));
	}

	/// A contributor joins next to `u` others, all declaring the most datasets.
	#[benchmark]
	fn join_round(u: Linear<0, { T::MaxUpdates::get() - 1 }>) {
		let owner = funded::<T>("owner", 0);
		let round = open::<T>(&owner, true);
		let datasets = datasets::<T>(&owner);
		for i in 0..u {
			joined::<T>(round, i, &datasets);
		}
		let who = funded::<T>("newcomer", 0);
		whitelist_account!(who);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), round, datasets);
		assert!(ContributorUpdate::<T>::contains_key(round, who));
	}

	/// A joined contributor submits its update (a replacement costs the same: one record written).
	#[benchmark]
	fn submit_update() {
		let owner = funded::<T>("owner", 0);
		let round = open::<T>(&owner, true);
		let datasets = datasets::<T>(&owner);
		let who = joined::<T>(round, 0, &datasets);
		whitelist_account!(who);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), round, artifact(u32::MAX), 1_000);
		let id = ContributorUpdate::<T>::get(round, &who).unwrap();
		assert_eq!(Updates::<T>::get(id).unwrap().state, UpdateState::Submitted);
	}

	/// The hook in a block where `r` rounds end their submission window: queued, and (having no
	/// contributors) their scoring started at once.
	#[benchmark]
	fn queue_rounds(r: Linear<0, { T::MaxRoundsEnding::get() }>) {
		let owner = funded::<T>("owner", 0);
		let rounds: Vec<RoundId> = (0..r).map(|_| open::<T>(&owner, true)).collect();
		let end = frame_system::Pallet::<T>::block_number().saturating_add(T::MinWindow::get());
		assert_eq!(RoundsEnding::<T>::get(end).len() as u32, r);
		frame_system::Pallet::<T>::set_block_number(end);
		#[block]
		{
			TrainingRounds::<T>::start_scoring(end);
		}
		let (head, tail) = ScoringQueueBounds::<T>::get();
		assert_eq!((head, tail), (r, r));
		assert!(rounds.iter().all(|id| Rounds::<T>::contains_key(id)));
	}

	/// The submission window of a round with `u` submitted updates is over: a scoring job opens
	/// for each.
	#[benchmark]
	fn start_round_scoring(u: Linear<0, { T::MaxUpdates::get() }>) {
		let owner = funded::<T>("owner", 0);
		let round = open::<T>(&owner, true);
		let datasets = datasets::<T>(&owner);
		let ids = updates::<T>(round, u, &datasets, None);
		go_past_submission::<T>(round);
		#[block]
		{
			TrainingRounds::<T>::start_round_scoring(round);
		}
		for id in ids {
			assert!(matches!(Updates::<T>::get(id).unwrap().state, UpdateState::Scoring(_)));
		}
	}

	/// An aggregate of `u` accepted updates.
	#[benchmark]
	fn submit_aggregate(u: Linear<1, { T::MaxUpdates::get() }>) {
		let owner = funded::<T>("owner", 0);
		let round = open::<T>(&owner, true);
		let datasets = datasets::<T>(&owner);
		updates::<T>(round, u, &datasets, Some(BASE_SCORE + 10));
		let who = funded::<T>("aggregator", 0);
		whitelist_account!(who);
		#[extrinsic_call]
		_(RawOrigin::Signed(who), round, artifact(u32::MAX));
		assert!(Rounds::<T>::get(round).unwrap().aggregate.is_some());
	}

	/// Closing with `u` accepted updates: the best is published.
	#[benchmark]
	fn close_round(u: Linear<1, { T::MaxUpdates::get() }>) {
		let owner = funded::<T>("owner", 0);
		let round = open::<T>(&owner, true);
		let datasets = datasets::<T>(&owner);
		updates::<T>(round, u, &datasets, Some(BASE_SCORE + 10));
		go_past_windows::<T>(round);
		whitelist_account!(owner);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), round);
		assert!(matches!(
			Rounds::<T>::get(round).unwrap().state,
			RoundState::Finished(RoundOutcome::BestUpdate(_))
		));
	}

	/// The base's score arrives while `u` scored updates wait for it.
	#[benchmark]
	fn base_scored(u: Linear<0, { T::MaxUpdates::get() }>) {
		let owner = funded::<T>("owner", 0);
		let round = open::<T>(&owner, false);
		let datasets = datasets::<T>(&owner);
		updates::<T>(round, u, &datasets, Some(BASE_SCORE + 10));
		let BaseScore::Pending(job) = Rounds::<T>::get(round).unwrap().base_score else {
			panic!("the base is being scored")
		};
		#[block]
		{
			TrainingRounds::<T>::on_base_scored(round, job, JobOutcome::Scored(BASE_SCORE));
		}
		assert_eq!(Rounds::<T>::get(round).unwrap().accepted, u);
	}

	/// An update's verdict, the costliest: slashed into the pot (a transfer and a hold).
	#[benchmark]
	fn update_scored() {
		let owner = funded::<T>("owner", 0);
		let round = open::<T>(&owner, true);
		let datasets = datasets::<T>(&owner);
		let id = updates::<T>(round, 1, &datasets, None)[0];
		go_past_submission::<T>(round);
		TrainingRounds::<T>::start_round_scoring(round);
		let UpdateState::Scoring(job) = Updates::<T>::get(id).unwrap().state else {
			panic!("the update is being scored")
		};
		#[block]
		{
			TrainingRounds::<T>::on_update_scored(id, job, JobOutcome::Scored(1));
		}
		assert!(matches!(Updates::<T>::get(id).unwrap().state, UpdateState::Slashed(_)));
	}

	/// A verified aggregate of `u` accepted updates is published (the registry's part is counted
	/// separately, by `publish_scored_weight`).
	#[benchmark]
	fn aggregate_scored(u: Linear<1, { T::MaxUpdates::get() }>) {
		let owner = funded::<T>("owner", 0);
		let round = open::<T>(&owner, true);
		let datasets = datasets::<T>(&owner);
		updates::<T>(round, u, &datasets, Some(BASE_SCORE + 10));
		let who = funded::<T>("aggregator", 0);
		TrainingRounds::<T>::do_submit_aggregate(who, round, artifact(u32::MAX))
			.expect("the aggregate is taken");
		let job = Rounds::<T>::get(round).unwrap().aggregate.unwrap().job;
		#[block]
		{
			TrainingRounds::<T>::on_aggregate_scored(
				round,
				job,
				JobOutcome::Scored(BASE_SCORE + 5),
			);
		}
		assert!(matches!(
			Rounds::<T>::get(round).unwrap().state,
			RoundState::Finished(RoundOutcome::Aggregated(_))
		));
	}

	impl_benchmark_test_suite!(TrainingRounds, crate::mock::ExtBuilder::build(), crate::mock::Test);
}
