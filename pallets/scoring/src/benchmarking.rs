//! Benchmarks of every call, of the pool's authorization of commits and reveals, and of creating a job.

use super::*;
use crate::impls::*;
use frame_benchmarking::v2::*;
use frame_support::{
	pallet_prelude::{Authorize, TransactionSource},
	traits::{fungible::Mutate, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use modelchain_primitives::{
	AggregatePart, AggregationRule, Artifact, ArtifactCheck, ArtifactFormat, JobId, JobSpec,
	JobSubject, Metric, ScoreJobs, Verdict, MAX_AGGREGATE_PARTS, MAX_URI_LEN,
};
use sp_runtime::{Perbill, RuntimeAppPublic, Saturating};

const SALT: [u8; 32] = [7; 32];

/// An artifact with the longest URI.
fn artifact(fill: u8, format: ArtifactFormat) -> Artifact {
	let mut uri = b"https://".to_vec();
	uri.resize(MAX_URI_LEN as usize, b'a');
	Artifact { uri: BoundedVec::truncate_from(uri), digest: [fill; 32], size: u64::MAX, format }
}

fn spec() -> JobSpec {
	JobSpec {
		subject: JobSubject::Version(u64::MAX),
		model: artifact(1, ArtifactFormat::Onnx),
		golden: artifact(2, ArtifactFormat::Safetensors),
		metric: Metric::TopKAccuracy(u32::MAX),
		// The largest check: an aggregate of the most parts.
		check: ArtifactCheck::AggregateOf {
			base: artifact(3, ArtifactFormat::Onnx),
			rule: AggregationRule::TrimmedMean(Perbill::from_percent(10)),
			parts: BoundedVec::truncate_from(
				(0..MAX_AGGREGATE_PARTS)
					.map(|i| AggregatePart {
						artifact: artifact(4 + i as u8, ArtifactFormat::Onnx),
						weight: u64::MAX,
					})
					.collect(),
			),
		},
	}
}

/// Enough for a scorer's stake and the existential deposit (small: many scorers are funded).
fn funds<T: Config>() -> BalanceOf<T> {
	use frame_support::traits::fungible::Inspect;
	T::MinScorerStake::get()
		.saturating_mul(10u32.into())
		.saturating_add(T::Currency::minimum_balance())
}

/// A funded account registered as a scorer with a fresh key in the keystore.
fn scorer<T: Config>(index: u32) -> (T::AccountId, ScorerId) {
	let who: T::AccountId = account("scorer", index, 0);
	T::Currency::set_balance(&who, funds::<T>());
	let key = ScorerId::generate_pair(None);
	Pallet::<T>::do_register_scorer(who.clone(), key.clone(), T::MinScorerStake::get())
		.expect("registers");
	(who, key)
}

fn job<T: Config>() -> JobId {
	Pallet::<T>::create_job(spec()).expect("job created")
}

fn commit_of<T: Config>(job: JobId, key: &ScorerId) -> Call<T> {
	let commitment = commitment(job, key, &Verdict::Scored(1), &SALT);
	let signature = key.sign(&commit_payload(job, &commitment)).expect("key in keystore");
	Call::commit_score { job, commitment, scorer: key.clone(), signature }
}

fn reveal_of<T: Config>(job: JobId, key: &ScorerId) -> Call<T> {
	let signature =
		key.sign(&reveal_payload(job, &Verdict::Scored(1), &SALT)).expect("key in keystore");
	Call::reveal_score {
		job,
		verdict: Verdict::Scored(1),
		salt: SALT,
		scorer: key.clone(),
		signature,
	}
}

fn to_reveal_window<T: Config>(job: JobId) {
	let commit_end = Jobs::<T>::get(job).expect("open").commit_end;
	frame_system::Pallet::<T>::set_block_number(commit_end.saturating_add(1u32.into()));
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_scorer() {
		let who: T::AccountId = whitelisted_caller();
		T::Currency::set_balance(&who, funds::<T>());
		let key = ScorerId::generate_pair(None);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), key, T::MinScorerStake::get());
		assert!(Scorers::<T>::contains_key(&who));
	}

	/// Every open-job slot taken, none by a job the scorer committed to: leaving checks each.
	#[benchmark]
	fn unregister_scorer() {
		let (who, _) = scorer::<T>(0);
		for _ in 0..T::MaxOpenJobs::get() {
			job::<T>();
		}
		whitelist_account!(who);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(!Scorers::<T>::contains_key(&who));
	}

	#[benchmark]
	fn commit_score() {
		let (who, key) = scorer::<T>(0);
		let job = job::<T>();
		let Call::commit_score { commitment, signature, .. } = commit_of::<T>(job, &key) else {
			unreachable!()
		};
		#[extrinsic_call]
		_(RawOrigin::Authorized, job, commitment, key, signature);
		assert!(Participations::<T>::contains_key(job, &who));
	}

	#[benchmark]
	fn reveal_score() {
		let (who, key) = scorer::<T>(0);
		let job = job::<T>();
		Pallet::<T>::do_commit(job, commitment(job, &key, &Verdict::Scored(1), &SALT), key.clone())
			.expect("commits");
		to_reveal_window::<T>(job);
		let Call::reveal_score { signature, .. } = reveal_of::<T>(job, &key) else {
			unreachable!()
		};
		#[extrinsic_call]
		_(RawOrigin::Authorized, job, Verdict::Scored(1), SALT, key, signature);
		assert!(Participations::<T>::get(job, &who).expect("committed").revealed.is_some());
	}

	#[benchmark]
	fn authorize_commit_score() -> Result<(), BenchmarkError> {
		let (_, key) = scorer::<T>(0);
		let job = job::<T>();
		let call = commit_of::<T>(job, &key);
		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or("commits are authorizable")?
				.map_err(|_| "the commit is valid")?;
		}
		Ok(())
	}

	#[benchmark]
	fn authorize_reveal_score() -> Result<(), BenchmarkError> {
		let (_, key) = scorer::<T>(0);
		let job = job::<T>();
		Pallet::<T>::do_commit(job, commitment(job, &key, &Verdict::Scored(1), &SALT), key.clone())
			.expect("commits");
		to_reveal_window::<T>(job);
		let call = reveal_of::<T>(job, &key);
		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or("reveals are authorizable")?
				.map_err(|_| "the reveal is valid")?;
		}
		Ok(())
	}

	/// `c` scorers committed; one revealed and the others missed their reveal, the costlier
	/// assessment (it also counts the miss on the scorer's record).
	#[benchmark]
	fn conclude_job(c: Linear<1, { T::MaxScorers::get() }>) {
		// `c` scorers next to the chain spec's genesis scorers, which are bonded validators and
		// cannot leave: registered directly, past `MaxScorers` if need be.
		let job = job::<T>();
		let keys: alloc::vec::Vec<_> = (0..c)
			.map(|i| {
				let who: T::AccountId = account("scorer", i, 0);
				<Pallet<T> as modelchain_primitives::ScorerStakes<_, _>>::benchmark_scorer(
					&who,
					T::MinScorerStake::get(),
				);
				Scorers::<T>::get(&who).expect("registered").key
			})
			.collect();
		for key in &keys {
			Pallet::<T>::do_commit(
				job,
				commitment(job, key, &Verdict::Scored(1), &SALT),
				key.clone(),
			)
			.expect("commits");
		}
		to_reveal_window::<T>(job);
		Pallet::<T>::do_reveal(job, Verdict::Scored(1), SALT, keys[0].clone()).expect("reveals");
		let reveal_end = Jobs::<T>::get(job).expect("open").reveal_end;
		frame_system::Pallet::<T>::set_block_number(reveal_end.saturating_add(1u32.into()));
		let caller: T::AccountId = whitelisted_caller();
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), job);
		assert!(Results::<T>::contains_key(job));
	}

	/// With every other open-job slot taken.
	#[benchmark]
	fn create_job() {
		for _ in 1..T::MaxOpenJobs::get() {
			job::<T>();
		}
		let created;
		#[block]
		{
			created = Pallet::<T>::create_job(spec());
		}
		assert!(created.is_ok());
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::with_bonded_scorer(),
		crate::mock::Test
	);
}
