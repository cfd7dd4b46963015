//! The scoring pallet's logic: scorers, commit–reveal, concluding jobs, the stake-weighted median, and
//! the [`ScoreJobs`] implementation.

use crate::*;
use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision},
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use modelchain_primitives::{
	ArtifactCheck, ArtifactFault, JobId, JobOutcome, JobSpec, Score, ScoreConsumer, ScoreJobs,
	Verdict,
};
use sp_core::H256;
use sp_runtime::{
	traits::{AtLeast32BitUnsigned, SaturatedConversion, Saturating, Zero},
	transaction_validity::{
		InvalidTransaction, TransactionSource, TransactionValidityWithRefund, ValidTransaction,
	},
	Perbill, RuntimeAppPublic,
};

/// The commitment a scorer with `key` submits for `verdict` on `job` with `salt`.
pub fn commitment(job: JobId, key: &ScorerId, verdict: &Verdict, salt: &[u8; 32]) -> H256 {
	H256(sp_io::hashing::blake2_256(&(job, key, verdict, salt).encode()))
}

/// What a scoring key signs to commit.
pub fn commit_payload(job: JobId, commitment: &H256) -> Vec<u8> {
	(b"mdl/commit", job, commitment).encode()
}

/// What a scoring key signs to reveal.
pub fn reveal_payload(job: JobId, verdict: &Verdict, salt: &[u8; 32]) -> Vec<u8> {
	(b"mdl/reveal", job, verdict, salt).encode()
}

/// Aggregates revealed verdicts, each weighted by its stake.
///
/// - More than half of the stake says invalid: invalid, with the reason that has the most stake (the
///   first in declaration order on a tie).
/// - Otherwise the lower stake-weighted median of the scores: the smallest score such that the scores at
///   or below it carry at least half of the stake behind scores. With equal stakes and an even count,
///   the lower of the two middle scores.
/// - No verdicts, or no stake: no quorum.
pub fn aggregate<B: AtLeast32BitUnsigned + Copy>(reveals: &[(Verdict, B)]) -> JobOutcome {
	let total = reveals.iter().fold(B::zero(), |sum, (_, stake)| sum.saturating_add(*stake));
	if total.is_zero() {
		return JobOutcome::NoQuorum;
	}
	let mut invalid = B::zero();
	let mut by_fault: Vec<(ArtifactFault, B)> = Vec::new();
	let mut scores: Vec<(Score, B)> = Vec::new();
	for (verdict, stake) in reveals {
		match verdict {
			Verdict::Invalid(fault) => {
				invalid = invalid.saturating_add(*stake);
				match by_fault.iter_mut().find(|(f, _)| f == fault) {
					Some((_, sum)) => *sum = sum.saturating_add(*stake),
					None => by_fault.push((*fault, *stake)),
				}
			},
			Verdict::Scored(score) => scores.push((*score, *stake)),
		}
	}
	let valid = total.saturating_sub(invalid);
	if invalid > valid || valid.is_zero() {
		// Most stake first; on a tie, the fault declared first.
		by_fault.sort_by(|(fa, a), (fb, b)| b.cmp(a).then((*fa as u8).cmp(&(*fb as u8))));
		let fault = by_fault.first().map(|(f, _)| *f).unwrap_or(ArtifactFault::InvalidModel);
		return JobOutcome::Invalid(fault);
	}
	scores.sort_by_key(|(score, _)| *score);
	let mut below = B::zero();
	for (score, stake) in &scores {
		below = below.saturating_add(*stake);
		// `below ≥ valid / 2` without losing the odd unit to integer division.
		if below.saturating_add(below) >= valid {
			return JobOutcome::Scored(*score);
		}
	}
	// Unreachable: the last score carries `below == valid`.
	scores.last().map(|(s, _)| JobOutcome::Scored(*s)).unwrap_or(JobOutcome::NoQuorum)
}

/// What a reveal that could be applied now reveals for: the scorer's account, the job, its commitment.
type RevealCheck<T> = (<T as frame_system::Config>::AccountId, Job<T>, Participation<T>);

impl<T: Config> Pallet<T> {
	pub(crate) fn do_register_scorer(
		who: T::AccountId,
		key: ScorerId,
		stake: BalanceOf<T>,
	) -> DispatchResult {
		ensure!(!Scorers::<T>::contains_key(&who), Error::<T>::AlreadyScorer);
		ensure!(!ScorerAccounts::<T>::contains_key(&key), Error::<T>::KeyInUse);
		ensure!(stake >= T::MinScorerStake::get(), Error::<T>::StakeTooLow);
		ensure!(Scorers::<T>::count() < T::MaxScorers::get(), Error::<T>::TooManyScorers);
		T::Currency::hold(&HoldReason::ScorerStake.into(), &who, stake)?;
		Scorers::<T>::insert(&who, Scorer { key: key.clone(), stake, missed_reveals: 0 });
		ScorerAccounts::<T>::insert(&key, &who);
		Self::deposit_event(Event::ScorerRegistered { scorer: who, key, stake });
		Ok(())
	}

	pub(crate) fn do_unregister_scorer(who: T::AccountId) -> DispatchResult {
		let scorer = Scorers::<T>::get(&who).ok_or(Error::<T>::NotScorer)?;
		ensure!(!Self::has_open_commitments(&who), Error::<T>::ScorerBusy);
		ensure!(
			<T::StakeGuard as modelchain_primitives::StakeGuard<_>>::may_withdraw(&who),
			Error::<T>::StakeBonded
		);
		T::Currency::release(
			&HoldReason::ScorerStake.into(),
			&who,
			scorer.stake,
			Precision::BestEffort,
		)?;
		Scorers::<T>::remove(&who);
		ScorerAccounts::<T>::remove(&scorer.key);
		<T::StakeGuard as modelchain_primitives::StakeGuard<_>>::withdrawn(&who);
		Self::deposit_event(Event::ScorerUnregistered { scorer: who, stake: scorer.stake });
		Ok(())
	}

	/// Whether `who` committed to a job that has not concluded (at most `MaxOpenJobs` reads: only
	/// leaving pays for it, so committing writes nothing to the scorer's record).
	pub(crate) fn has_open_commitments(who: &T::AccountId) -> bool {
		OpenJobs::<T>::get().iter().any(|job| Participations::<T>::contains_key(job, who))
	}

	/// Checks a commit could be applied now; shared by the pool's validation and the call.
	fn check_commit(job: JobId, key: &ScorerId) -> Result<(T::AccountId, Job<T>), Error<T>> {
		let who = ScorerAccounts::<T>::get(key).ok_or(Error::<T>::NotScorer)?;
		let record = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
		ensure!(
			frame_system::Pallet::<T>::block_number() <= record.commit_end,
			Error::<T>::CommitWindowClosed
		);
		ensure!(!Participations::<T>::contains_key(job, &who), Error::<T>::AlreadyCommitted);
		Ok((who, record))
	}

	/// Checks a reveal could be applied now; shared by the pool's validation and the call.
	fn check_reveal(
		job: JobId,
		verdict: &Verdict,
		salt: &[u8; 32],
		key: &ScorerId,
	) -> Result<RevealCheck<T>, Error<T>> {
		let who = ScorerAccounts::<T>::get(key).ok_or(Error::<T>::NotScorer)?;
		let record = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now > record.commit_end, Error::<T>::RevealTooEarly);
		ensure!(now <= record.reveal_end, Error::<T>::RevealTooLate);
		let participation = Participations::<T>::get(job, &who).ok_or(Error::<T>::NoCommitment)?;
		ensure!(participation.revealed.is_none(), Error::<T>::AlreadyRevealed);
		ensure!(
			participation.commitment == commitment(job, key, verdict, salt),
			Error::<T>::CommitmentMismatch
		);
		Ok((who, record, participation))
	}

	/// Pool validation of [`Pallet::commit_score`].
	pub(crate) fn authorize_commit(
		_source: TransactionSource,
		job: &JobId,
		commitment: &H256,
		scorer: &ScorerId,
		signature: &ScorerSignature,
	) -> TransactionValidityWithRefund {
		let (_, record) = Self::check_commit(*job, scorer).map_err(invalid)?;
		if !scorer.verify(&commit_payload(*job, commitment), signature) {
			return Err(InvalidTransaction::BadProof.into());
		}
		let now = frame_system::Pallet::<T>::block_number();
		Ok((
			Self::validity(b"commit", *job, scorer, record.commit_end.saturating_sub(now)),
			Weight::zero(),
		))
	}

	/// Pool validation of [`Pallet::reveal_score`].
	pub(crate) fn authorize_reveal(
		_source: TransactionSource,
		job: &JobId,
		verdict: &Verdict,
		salt: &[u8; 32],
		scorer: &ScorerId,
		signature: &ScorerSignature,
	) -> TransactionValidityWithRefund {
		let (_, record, _) = Self::check_reveal(*job, verdict, salt, scorer).map_err(invalid)?;
		if !scorer.verify(&reveal_payload(*job, verdict, salt), signature) {
			return Err(InvalidTransaction::BadProof.into());
		}
		let now = frame_system::Pallet::<T>::block_number();
		Ok((
			Self::validity(b"reveal", *job, scorer, record.reveal_end.saturating_sub(now)),
			Weight::zero(),
		))
	}

	/// One transaction per job, phase and key; valid until the window closes.
	fn validity(
		phase: &[u8],
		job: JobId,
		scorer: &ScorerId,
		blocks_left: BlockNumberFor<T>,
	) -> ValidTransaction {
		let longevity: u64 = blocks_left.saturated_into::<u64>().saturating_add(1);
		ValidTransaction::with_tag_prefix("ModelchainScoring")
			.priority(T::ScoringPriority::get())
			.and_provides((phase, job, scorer))
			.longevity(longevity)
			.propagate(true)
			.build()
			.unwrap_or_default()
	}

	pub(crate) fn do_commit(job: JobId, commitment: H256, key: ScorerId) -> DispatchResult {
		let (who, _) = Self::check_commit(job, &key)?;
		let stake = Scorers::<T>::get(&who).ok_or(Error::<T>::NotScorer)?.stake;
		Participations::<T>::insert(
			job,
			&who,
			Participation { commitment, stake, revealed: None, assessment: None },
		);
		Self::deposit_event(Event::ScoreCommitted { job, scorer: who });
		Ok(())
	}

	pub(crate) fn do_reveal(
		job: JobId,
		verdict: Verdict,
		salt: [u8; 32],
		key: ScorerId,
	) -> DispatchResult {
		let (who, _, mut participation) = Self::check_reveal(job, &verdict, &salt, &key)?;
		participation.revealed = Some(verdict);
		Participations::<T>::insert(job, &who, participation);
		Self::deposit_event(Event::ScoreRevealed { job, scorer: who, verdict });
		Ok(())
	}

	/// Concludes the jobs whose reveal window ended before `now`, at most `MaxConcludePerBlock`.
	pub(crate) fn conclude_due_jobs(now: BlockNumberFor<T>) -> Weight {
		let mut weight = T::DbWeight::get().reads(1);
		let open = OpenJobs::<T>::get();
		for job in open.iter().take(T::MaxConcludePerBlock::get() as usize) {
			weight.saturating_accrue(T::DbWeight::get().reads(1));
			let Some(record) = Jobs::<T>::get(job) else { continue };
			// Jobs are in the order their reveal windows end: the first one still open stops us.
			if record.reveal_end >= now {
				break;
			}
			weight.saturating_accrue(Self::conclude(*job, record));
		}
		weight
	}

	/// Aggregates `job`'s reveals, records every participant's assessment, and tells the consumer.
	/// Returns the weight used.
	pub(crate) fn conclude(job: JobId, record: Job<T>) -> Weight {
		let participants: Vec<(T::AccountId, Participation<T>)> =
			Participations::<T>::iter_prefix(job).collect();
		let reveals: Vec<(Verdict, BalanceOf<T>)> = participants
			.iter()
			.filter_map(|(_, p)| p.revealed.map(|verdict| (verdict, p.stake)))
			.collect();
		let commits = participants.len() as u32;
		let revealed = reveals.len() as u32;
		let outcome = aggregate(&reveals);
		let revealed_stake =
			reveals.iter().fold(BalanceOf::<T>::zero(), |sum, (_, s)| sum.saturating_add(*s));
		for (who, mut participation) in participants {
			let assessment = assess(participation.revealed, &outcome);
			participation.assessment = Some(assessment);
			Participations::<T>::insert(job, &who, participation);
			if assessment == Assessment::MissedReveal {
				Scorers::<T>::mutate(&who, |scorer| {
					if let Some(scorer) = scorer {
						scorer.missed_reveals.saturating_inc();
					}
				});
				Self::deposit_event(Event::RevealMissed { job, scorer: who });
			}
		}
		Jobs::<T>::remove(job);
		OpenJobs::<T>::mutate(|open| open.retain(|j| *j != job));
		let subject = record.spec.subject;
		Results::<T>::insert(
			job,
			JobResult {
				spec: record.spec,
				outcome,
				concluded: frame_system::Pallet::<T>::block_number(),
				commits,
				reveals: revealed,
				revealed_stake,
			},
		);
		Self::deposit_event(Event::JobConcluded { job, subject, outcome, reveals: revealed });
		let consumed = T::Consumer::job_concluded(job, subject, outcome);
		T::WeightInfo::conclude_job(commits).saturating_add(consumed)
	}

	/// Checks the pallet's invariants:
	/// - every scorer's key maps back to it, and every mapped key belongs to a scorer;
	/// - every scorer holds at least its recorded stake;
	/// - open jobs are exactly the jobs stored, in creation order, with ids below `NextJobId`;
	/// - everyone who committed to an open job is a registered scorer (none leaves before its jobs
	///   conclude);
	/// - a job is never both open and concluded.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::traits::fungible::InspectHold;
		for (who, scorer) in Scorers::<T>::iter() {
			ensure!(
				ScorerAccounts::<T>::get(&scorer.key).as_ref() == Some(&who),
				"a scorer's key does not map back to it"
			);
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::ScorerStake.into(), &who) >= scorer.stake,
				"a scorer holds less than its stake"
			);
		}
		for (key, who) in ScorerAccounts::<T>::iter() {
			ensure!(
				Scorers::<T>::get(&who).map(|s| s.key) == Some(key),
				"a mapped key belongs to no scorer"
			);
		}
		ensure!(Scorers::<T>::count() <= T::MaxScorers::get(), "more scorers than MaxScorers");
		let open = OpenJobs::<T>::get();
		ensure!(open.windows(2).all(|w| w[0] < w[1]), "open jobs are not in creation order");
		ensure!(Jobs::<T>::iter_keys().count() == open.len(), "open jobs and stored jobs differ");
		let next = NextJobId::<T>::get();
		for job in open.iter() {
			ensure!(Jobs::<T>::contains_key(job), "an open job is not stored");
			ensure!(*job < next, "a job id is not below NextJobId");
			ensure!(!Results::<T>::contains_key(job), "a job is both open and concluded");
			for who in Participations::<T>::iter_key_prefix(job) {
				ensure!(
					Scorers::<T>::contains_key(&who),
					"a scorer left while committed to an open job"
				);
			}
		}
		Ok(())
	}
}

/// How a participant's reveal (or its absence) compares with the outcome.
fn assess(revealed: Option<Verdict>, outcome: &JobOutcome) -> Assessment {
	match (revealed, outcome) {
		(None, _) => Assessment::MissedReveal,
		(Some(Verdict::Scored(score)), JobOutcome::Scored(median)) => {
			Assessment::Scored { deviation: score.abs_diff(*median) }
		},
		(Some(Verdict::Invalid(_)), JobOutcome::Invalid(_)) => Assessment::Agreed,
		(Some(_), _) => Assessment::Disagreed,
	}
}

/// A dispatch error as the invalid transaction the pool reports.
fn invalid<T: Config>(error: Error<T>) -> TransactionValidityError {
	let code = match error {
		Error::<T>::NotScorer => return InvalidTransaction::BadSigner.into(),
		Error::<T>::CommitWindowClosed
		| Error::<T>::RevealTooLate
		| Error::<T>::AlreadyCommitted
		| Error::<T>::AlreadyRevealed
		| Error::<T>::UnknownJob => return InvalidTransaction::Stale.into(),
		Error::<T>::RevealTooEarly => return InvalidTransaction::Future.into(),
		Error::<T>::CommitmentMismatch => 1,
		Error::<T>::NoCommitment => 2,
		_ => 0,
	};
	InvalidTransaction::Custom(code).into()
}

impl<T: Config> ScoreJobs for Pallet<T> {
	fn create_job(spec: JobSpec) -> Result<JobId, DispatchError> {
		let references_ok = match &spec.check {
			ArtifactCheck::None => true,
			ArtifactCheck::SameGraphAs(base) => base.check().is_ok(),
			ArtifactCheck::AggregateOf { base, rule, parts } => {
				base.check().is_ok()
					&& rule.is_valid()
					&& !parts.is_empty()
					&& parts.iter().all(|p| p.artifact.check().is_ok())
			},
		};
		ensure!(
			references_ok && spec.model.check().is_ok() && spec.golden.check().is_ok(),
			Error::<T>::BadArtifact
		);
		let job = NextJobId::<T>::get();
		OpenJobs::<T>::try_mutate(|open| open.try_push(job))
			.map_err(|_| Error::<T>::TooManyOpenJobs)?;
		NextJobId::<T>::put(job.saturating_add(1));
		let created = frame_system::Pallet::<T>::block_number();
		let commit_end = created.saturating_add(T::CommitWindow::get());
		let reveal_end = commit_end.saturating_add(T::RevealWindow::get());
		let subject = spec.subject;
		Jobs::<T>::insert(job, Job { spec, created, commit_end, reveal_end });
		Self::deposit_event(Event::JobCreated { job, subject, commit_end, reveal_end });
		Ok(job)
	}

	fn create_job_weight() -> Weight {
		T::WeightInfo::create_job()
	}
}

/// The rewards read who scored a concluded job, and who did so honestly.
impl<T: Config> modelchain_primitives::ScoringRecords<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn assessed_scorers(job: JobId, tolerance: Score) -> Vec<(T::AccountId, BalanceOf<T>, bool)> {
		if !Results::<T>::contains_key(job) {
			return Vec::new();
		}
		Participations::<T>::iter_prefix(job)
			.map(|(who, p)| {
				let honest = match p.assessment {
					Some(Assessment::Scored { deviation }) => deviation <= tolerance,
					Some(Assessment::Agreed) => true,
					Some(Assessment::Disagreed | Assessment::MissedReveal) | None => false,
				};
				(who, p.stake, honest)
			})
			.collect()
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_concluded_job(scorers: &[(T::AccountId, BalanceOf<T>)]) -> JobId {
		use modelchain_primitives::{Artifact, ArtifactFormat, JobSubject, Metric};
		let artifact = |format| Artifact {
			uri: BoundedVec::truncate_from(b"https://bench".to_vec()),
			digest: [1; 32],
			size: 1,
			format,
		};
		let job = NextJobId::<T>::get();
		NextJobId::<T>::put(job.saturating_add(1));
		let mut revealed_stake = BalanceOf::<T>::zero();
		for (who, stake) in scorers {
			revealed_stake = revealed_stake.saturating_add(*stake);
			Participations::<T>::insert(
				job,
				who,
				Participation {
					commitment: H256::zero(),
					stake: *stake,
					revealed: Some(Verdict::Scored(1)),
					assessment: Some(Assessment::Scored { deviation: 0 }),
				},
			);
		}
		Results::<T>::insert(
			job,
			JobResult {
				spec: JobSpec {
					subject: JobSubject::Version(0),
					model: artifact(ArtifactFormat::Onnx),
					golden: artifact(ArtifactFormat::Safetensors),
					metric: Metric::TopKAccuracy(1),
					check: ArtifactCheck::None,
				},
				outcome: JobOutcome::Scored(1),
				concluded: frame_system::Pallet::<T>::block_number(),
				commits: scorers.len() as u32,
				reveals: scorers.len() as u32,
				revealed_stake,
			},
		);
		job
	}
}

/// The validator set reads a validator's bond: its scorer stake.
impl<T: Config> modelchain_primitives::ScorerStakes<T::AccountId, BalanceOf<T>> for Pallet<T> {
	type Key = ScorerId;

	fn scorer_of(who: &T::AccountId) -> Option<(BalanceOf<T>, ScorerId)> {
		Scorers::<T>::get(who).map(|scorer| (scorer.stake, scorer.key))
	}

	/// Burns from the held stake (as much as is held, if less) and lowers the recorded stake by
	/// what was burned, so the stake still weighs the scorer's verdicts as held.
	fn slash(who: &T::AccountId, fraction: Perbill) -> BalanceOf<T> {
		let Some(mut scorer) = Scorers::<T>::get(who) else { return Zero::zero() };
		let amount = fraction.mul_floor(scorer.stake);
		if amount.is_zero() {
			return Zero::zero();
		}
		let burned = T::Currency::burn_held(
			&HoldReason::ScorerStake.into(),
			who,
			amount,
			Precision::BestEffort,
			Fortitude::Force,
		)
		.unwrap_or_default();
		scorer.stake = scorer.stake.saturating_sub(burned);
		Scorers::<T>::insert(who, scorer);
		Self::deposit_event(Event::ScorerSlashed { scorer: who.clone(), amount: burned });
		burned
	}

	/// Registers directly, past `MaxScorers` if need be: other pallets' benchmarks fill their own
	/// bounds on a genesis that already has scorers.
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_scorer(who: &T::AccountId, stake: BalanceOf<T>) {
		use frame_support::traits::fungible::{Inspect, Mutate};
		let funds =
			stake.saturating_add(T::Currency::minimum_balance()).saturating_mul(2u32.into());
		T::Currency::set_balance(who, funds);
		T::Currency::hold(&HoldReason::ScorerStake.into(), who, stake).expect("funded");
		let key = ScorerId::generate_pair(None);
		Scorers::<T>::insert(who, Scorer { key: key.clone(), stake, missed_reveals: 0 });
		ScorerAccounts::<T>::insert(&key, who);
	}
}

/// The scoring key is a session key: sessions carry it, and the node's keystore holds it
/// (`author_rotateKeys`). A scorer registers the key it signs with (`register_scorer`); the session
/// itself needs nothing from this pallet.
impl<T: Config> frame_support::traits::OneSessionHandler<T::AccountId> for Pallet<T> {
	type Key = ScorerId;

	fn on_genesis_session<'a, I>(_: I)
	where
		I: 'a + Iterator<Item = (&'a T::AccountId, Self::Key)>,
	{
	}

	fn on_new_session<'a, I>(_: bool, _: I, _: I)
	where
		I: 'a + Iterator<Item = (&'a T::AccountId, Self::Key)>,
	{
	}

	fn on_disabled(_: u32) {}
}
