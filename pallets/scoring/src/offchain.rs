//! The scorer's offchain worker: on a validator node with a registered scoring key, it evaluates open
//! jobs through the node's evaluator and submits commits, then reveals.
//!
//! Per job, the node keeps a [`LocalScore`] in offchain **persistent** storage under
//! `mdl/scoring/<key>/<job>`: the verdict, the salt, and when each transaction was last submitted. It
//! is written once, when the evaluation is done, so every later run (on any fork) commits and reveals
//! the same verdict with the same salt, and a job is never evaluated twice. A [`StorageLock`] keeps two
//! worker runs (one per imported block) from working at the same time.
//!
//! A fetch failure may be temporary: a verdict of `Unavailable` (or an unusable golden set) is only
//! committed in the last third of the commit window; before that the node asks the evaluator again
//! (which retries the download).

use crate::{impls::*, *};
use codec::{Decode, Encode};
use frame_support::traits::Get;
use frame_system::{
	offchain::{CreateAuthorizedTransaction, SubmitTransaction},
	pallet_prelude::BlockNumberFor,
};
use modelchain_primitives::{
	host::model_evaluation, ArtifactFault, EvaluationPoll, EvaluationRequest, JobId, Verdict,
};
use sp_runtime::{
	offchain::{
		storage::StorageValueRef,
		storage_lock::{StorageLock, Time},
		Duration,
	},
	traits::Saturating,
	RuntimeAppPublic,
};

/// How long one worker run may hold the lock.
const LOCK_DEADLINE_MS: u64 = 20_000;
/// Blocks to wait before submitting the same transaction again (it may have been dropped).
const RESUBMIT_AFTER: u32 = 3;

/// What this node decided about one job, kept across worker runs.
#[derive(Clone, PartialEq, Eq, Encode, Decode, Debug)]
pub struct LocalScore<BlockNumber> {
	pub verdict: Verdict,
	pub salt: [u8; 32],
	pub committed_at: Option<BlockNumber>,
	pub revealed_at: Option<BlockNumber>,
}

/// The offchain-storage key of this node's record of `job` for `key`.
pub fn local_key(key: &ScorerId, job: JobId) -> alloc::vec::Vec<u8> {
	(b"mdl/scoring/", key, job).encode()
}

/// One worker run at block `now`.
pub fn run<T: Config>(now: BlockNumberFor<T>) {
	if !sp_io::offchain::is_validator() {
		return;
	}
	// The first local scoring key that is registered on chain.
	let Some(key) = ScorerId::all().into_iter().find(|k| ScorerAccounts::<T>::contains_key(k))
	else {
		return;
	};
	let mut lock = StorageLock::<Time>::with_deadline(
		b"mdl/scoring/lock",
		Duration::from_millis(LOCK_DEADLINE_MS),
	);
	let Ok(_guard) = lock.try_lock() else {
		log::debug!(target: "scoring", "another worker run is scoring");
		return;
	};
	for job in OpenJobs::<T>::get() {
		if let Some(record) = Jobs::<T>::get(job) {
			if let Err(e) = work_on::<T>(now, job, &record, &key) {
				log::warn!(target: "scoring", "job {job}: {e}");
			}
		}
	}
}

fn work_on<T: Config>(
	now: BlockNumberFor<T>,
	job: JobId,
	record: &Job<T>,
	key: &ScorerId,
) -> Result<(), &'static str> {
	let account = ScorerAccounts::<T>::get(key).ok_or("scoring key not registered")?;
	let participation = Participations::<T>::get(job, &account);
	let storage_key = local_key(key, job);
	let storage = StorageValueRef::persistent(&storage_key);
	let local =
		storage.get::<LocalScore<BlockNumberFor<T>>>().map_err(|_| "corrupt local record")?;
	let resubmit = |at: Option<BlockNumberFor<T>>| {
		at.is_none_or(|at| now >= at.saturating_add(RESUBMIT_AFTER.into()))
	};

	if now <= record.commit_end {
		if participation.is_some() {
			return Ok(());
		}
		let mut local = match local {
			Some(local) => local,
			None => {
				let Some(verdict) = evaluate::<T>(now, record)? else { return Ok(()) };
				let salt = sp_io::offchain::random_seed();
				LocalScore { verdict, salt, committed_at: None, revealed_at: None }
			},
		};
		if !resubmit(local.committed_at) {
			return Ok(());
		}
		let commitment = commitment(job, key, &local.verdict, &local.salt);
		let signature = key.sign(&commit_payload(job, &commitment)).ok_or("cannot sign")?;
		submit::<T>(Call::commit_score { job, commitment, scorer: key.clone(), signature })?;
		local.committed_at = Some(now);
		storage.set(&local);
		log::info!(target: "scoring", "job {job}: committed to {:?}", local.verdict);
	} else if now <= record.reveal_end {
		let Some(participation) = participation else { return Ok(()) };
		if participation.revealed.is_some() {
			return Ok(());
		}
		let mut local = local.ok_or("committed on chain, but the salt is lost")?;
		if !resubmit(local.revealed_at) {
			return Ok(());
		}
		let signature =
			key.sign(&reveal_payload(job, &local.verdict, &local.salt)).ok_or("cannot sign")?;
		submit::<T>(Call::reveal_score {
			job,
			verdict: local.verdict,
			salt: local.salt,
			scorer: key.clone(),
			signature,
		})?;
		local.revealed_at = Some(now);
		storage.set(&local);
		log::info!(target: "scoring", "job {job}: revealed {:?}", local.verdict);
	}
	Ok(())
}

/// The verdict on `record` once the node's evaluator has one worth committing now.
fn evaluate<T: Config>(
	now: BlockNumberFor<T>,
	record: &Job<T>,
) -> Result<Option<Verdict>, &'static str> {
	let request = EvaluationRequest {
		model: record.spec.model.clone(),
		golden: record.spec.golden.clone(),
		metric: record.spec.metric,
		check: record.spec.check.clone(),
	};
	match model_evaluation::poll(request) {
		EvaluationPoll::Unsupported => Err("this node runs no evaluator"),
		EvaluationPoll::Pending => Ok(None),
		EvaluationPoll::Done(
			verdict @ Verdict::Invalid(
				ArtifactFault::Unavailable
				| ArtifactFault::GoldenSetUnusable
				| ArtifactFault::ReferenceUnusable,
			),
		) => {
			// Perhaps temporary: commit it only in the last third of the commit window.
			let window = T::CommitWindow::get();
			let last_third = record.commit_end.saturating_sub(window / 3u32.into());
			Ok((now >= last_third).then_some(verdict))
		},
		EvaluationPoll::Done(verdict) => Ok(Some(verdict)),
	}
}

fn submit<T: Config>(call: Call<T>) -> Result<(), &'static str> {
	let xt =
		<T as CreateAuthorizedTransaction<Call<T>>>::create_authorized_transaction(call.into());
	SubmitTransaction::<T, Call<T>>::submit_transaction(xt).map_err(|_| "the pool refused it")
}
