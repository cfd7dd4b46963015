//! The rounds' logic: the `do_*` functions behind the calls, the judgement of scoring outcomes (the
//! [`ScoreConsumer`] implementation), holds and slashes, queries, and the `try_state` invariants.

use crate::{pallet::*, types::*, BalanceOf, RoundOf, RoundParamsOf, UpdateOf, WeightInfo};
use alloc::{collections::BTreeSet, vec::Vec};
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use modelchain_primitives::{
	AggregatePart, Artifact, ArtifactCheck, ArtifactFormat, Contribution, DatasetId, JobId,
	JobOutcome, JobSpec, JobSubject, ModelId, ModelRegistry, RoundId, RoundRewards,
	RoundSettlement, Score, ScoreConsumer, ScoreJobs, ScoredVersion, UpdateId, VersionId,
};
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchResult,
};

const LOG_TARGET: &str = "runtime::training-rounds";

/// How an update's score compares with the base's.
#[derive(PartialEq, Eq, Debug)]
enum Judgement {
	Accepted,
	Rejected,
	Poisoned,
}

impl<T: Config> Pallet<T> {
	fn now() -> BlockNumberFor<T> {
		frame_system::Pallet::<T>::block_number()
	}

	fn hold(reason: HoldReason, who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		T::Currency::hold(&reason.into(), who, amount)
	}

	fn release(reason: HoldReason, who: &T::AccountId, amount: BalanceOf<T>) {
		if amount.is_zero() {
			return;
		}
		if let Err(e) = T::Currency::release(&reason.into(), who, amount, Precision::BestEffort) {
			log::error!(target: LOG_TARGET, "cannot release {reason:?} of {who:?}: {e:?}");
		}
	}

	/// Moves `amount` of `who`'s held stake to where slashes go: into `round`'s pot (held from its
	/// opener; free to the opener once the round has finished) or to `SlashedTo`. Returns what moved
	/// and to whom.
	fn slash(
		round: &mut RoundOf<T>,
		who: &T::AccountId,
		amount: BalanceOf<T>,
	) -> (BalanceOf<T>, T::AccountId) {
		let (to, into_pot) = match T::SlashedTo::get() {
			Some(account) => (account, false),
			None => (round.opener.clone(), true),
		};
		let moved = T::Currency::transfer_on_hold(
			&HoldReason::Stake.into(),
			who,
			&to,
			amount,
			Precision::BestEffort,
			Restriction::Free,
			Fortitude::Force,
		)
		.unwrap_or_else(|e| {
			log::error!(target: LOG_TARGET, "cannot slash {who:?}: {e:?}");
			Zero::zero()
		});
		// A finished round's pot has been settled: a late slash (an update judged after the base was
		// found unscorable) stays with the opener, free, as the rest of such a round's pot did.
		if into_pot && round.state == RoundState::Open {
			match Self::hold(HoldReason::Pot, &to, moved) {
				Ok(()) => round.pot = round.pot.saturating_add(moved),
				Err(e) => log::error!(target: LOG_TARGET, "cannot add a slash to the pot: {e:?}"),
			}
		}
		(moved, to)
	}

	/// The round's updates in ascending id: the order aggregates combine them in.
	pub fn update_ids(round: RoundId) -> Vec<UpdateId> {
		let mut ids: Vec<UpdateId> = RoundUpdates::<T>::iter_key_prefix(round).collect();
		ids.sort_unstable();
		ids
	}

	pub(crate) fn do_open_round(
		who: T::AccountId,
		model_id: ModelId,
		base: Option<VersionId>,
		params: RoundParamsOf<T>,
		pot: BalanceOf<T>,
	) -> DispatchResult {
		let model = T::Registry::model(model_id).ok_or(Error::<T>::UnknownModel)?;
		ensure!(model.active, Error::<T>::ModelRetired);
		ensure!(model.owner == who, Error::<T>::NotModelOwner);
		let base = base.or(model.canonical).ok_or(Error::<T>::NoBaseVersion)?;
		let base_version = T::Registry::version(base).ok_or(Error::<T>::BadBaseVersion)?;
		ensure!(
			base_version.model == model_id
				&& base_version.status.score().is_some()
				&& base_version.artifact.format == ArtifactFormat::Onnx,
			Error::<T>::BadBaseVersion
		);
		let golden = T::Registry::dataset(params.golden).ok_or(Error::<T>::UnknownDataset)?;
		let window_ok = |w: BlockNumberFor<T>| w >= T::MinWindow::get() && w <= T::MaxWindow::get();
		ensure!(
			window_ok(params.submission_blocks) && window_ok(params.aggregation_blocks),
			Error::<T>::BadWindow
		);
		ensure!(
			params.max_updates >= 1 && params.max_updates <= T::MaxUpdates::get(),
			Error::<T>::BadMaxUpdates
		);
		ensure!(params.stake >= T::MinStake::get(), Error::<T>::StakeTooLow);
		ensure!(params.rule.is_valid(), Error::<T>::BadRule);

		let id = NextRoundId::<T>::get();
		NextRoundId::<T>::put(id.checked_add(1).ok_or(Error::<T>::Overflow)?);
		let now = Self::now();
		let submission_end = now.saturating_add(params.submission_blocks);
		RoundsEnding::<T>::try_mutate(submission_end, |ending| ending.try_push(id))
			.map_err(|_| Error::<T>::TooManyRoundsEnding)?;
		let deposit = T::RoundDeposit::get();
		Self::hold(HoldReason::Deposit, &who, deposit)?;
		Self::hold(HoldReason::Pot, &who, pot)?;
		let job = T::Scoring::create_job(JobSpec {
			subject: JobSubject::RoundBase(id),
			model: base_version.artifact.clone(),
			golden: golden.artifact.clone(),
			metric: params.metric,
			check: ArtifactCheck::None,
		})?;
		Rounds::<T>::insert(
			id,
			Round {
				model: model_id,
				base,
				base_artifact: base_version.artifact,
				base_score: BaseScore::Pending(job),
				opener: who.clone(),
				params,
				golden_artifact: golden.artifact,
				opened_at: now,
				submission_end,
				last_verdict_at: now,
				pot,
				deposit,
				updates: 0,
				pending: 0,
				accepted: 0,
				aggregate: None,
				state: RoundState::Open,
			},
		);
		Self::deposit_event(Event::RoundOpened {
			round: id,
			model: model_id,
			base,
			opener: who,
			pot,
			submission_end,
			job,
		});
		Ok(())
	}

	fn live_round(id: RoundId) -> Result<RoundOf<T>, DispatchError> {
		let round = Rounds::<T>::get(id).ok_or(Error::<T>::UnknownRound)?;
		ensure!(round.state == RoundState::Open, Error::<T>::RoundFinished);
		Ok(round)
	}

	fn checked_model(artifact: &Artifact) -> DispatchResult {
		ensure!(
			artifact.check().is_ok() && artifact.format == ArtifactFormat::Onnx,
			Error::<T>::BadArtifact
		);
		Ok(())
	}

	/// A contributor joins a round; returns how many of the round's other contributors it read.
	pub(crate) fn do_join_round(
		who: T::AccountId,
		round_id: RoundId,
		datasets: Vec<DatasetId>,
	) -> Result<u32, DispatchError> {
		let mut round = Self::live_round(round_id)?;
		ensure!(round.base_score != BaseScore::Unscorable, Error::<T>::BaseUnscorable);
		ensure!(Self::now() < round.submission_end, Error::<T>::SubmissionClosed);
		ensure!(!ContributorUpdate::<T>::contains_key(round_id, &who), Error::<T>::AlreadyJoined);
		ensure!(round.updates < round.params.max_updates, Error::<T>::TooManyUpdates);
		ensure!(
			!datasets.is_empty() && datasets.len() <= T::MaxUpdateDatasets::get() as usize,
			Error::<T>::BadDatasetCount
		);
		let unique: BTreeSet<_> = datasets.iter().copied().collect();
		ensure!(unique.len() == datasets.len(), Error::<T>::DuplicateDataset);
		let mut available = 0u64;
		for dataset in &datasets {
			let view = T::Registry::dataset(*dataset).ok_or(Error::<T>::UnknownDataset)?;
			available = available.saturating_add(view.samples);
		}
		let mut declared = unique;
		let mut others = 0u32;
		for id in RoundUpdates::<T>::iter_key_prefix(round_id) {
			others.saturating_inc();
			if let Some(update) = Updates::<T>::get(id) {
				declared.extend(update.datasets.iter().copied());
			}
		}
		ensure!(
			declared.len() <= T::MaxRoundDatasets::get() as usize,
			Error::<T>::TooManyRoundDatasets
		);

		let id = NextUpdateId::<T>::get();
		NextUpdateId::<T>::put(id.checked_add(1).ok_or(Error::<T>::Overflow)?);
		let (stake, deposit) = (round.params.stake, T::UpdateDeposit::get());
		Self::hold(HoldReason::Stake, &who, stake)?;
		Self::hold(HoldReason::Deposit, &who, deposit)?;
		let datasets: BoundedVec<DatasetId, T::MaxUpdateDatasets> =
			BoundedVec::truncate_from(datasets);
		RoundUpdates::<T>::insert(round_id, id, ());
		ContributorUpdate::<T>::insert(round_id, &who, id);
		Updates::<T>::insert(
			id,
			Update {
				round: round_id,
				contributor: who.clone(),
				artifact: None,
				samples: 0,
				available,
				datasets: datasets.clone(),
				stake,
				deposit,
				state: UpdateState::Joined,
			},
		);
		round.updates.saturating_inc();
		round.pending.saturating_inc();
		Rounds::<T>::insert(round_id, round);
		Self::deposit_event(Event::RoundJoined {
			round: round_id,
			update: id,
			contributor: who,
			datasets,
			stake,
		});
		Ok(others)
	}

	/// Takes a joined contributor's update, or its replacement: one record written.
	pub(crate) fn do_submit_update(
		who: T::AccountId,
		round_id: RoundId,
		artifact: Artifact,
		samples: u64,
	) -> DispatchResult {
		let round = Self::live_round(round_id)?;
		ensure!(Self::now() < round.submission_end, Error::<T>::SubmissionClosed);
		Self::checked_model(&artifact)?;
		let id = ContributorUpdate::<T>::get(round_id, &who).ok_or(Error::<T>::NotJoined)?;
		let mut update = Updates::<T>::get(id).ok_or(Error::<T>::NotJoined)?;
		let replaced = match update.state {
			UpdateState::Joined => false,
			UpdateState::Submitted => true,
			_ => return Err(Error::<T>::AlreadyScored.into()),
		};
		ensure!(samples > 0 && samples <= update.available, Error::<T>::BadSampleCount);
		let digest = artifact.digest;
		update.artifact = Some(artifact);
		update.samples = samples;
		update.state = UpdateState::Submitted;
		Updates::<T>::insert(id, update);
		Self::deposit_event(Event::UpdateSubmitted {
			round: round_id,
			update: id,
			contributor: who,
			samples,
			digest,
			replaced,
		});
		Ok(())
	}

	/// Queues the rounds whose submission window ends at `now`, then opens the scoring jobs of the
	/// queued rounds, first come first served, at most `MaxRoundsEnding` of them. A round whose jobs
	/// the scoring pallet cannot all take now (its open jobs are at their bound) stays first in the
	/// queue and is resumed in the next block. Returns the weight used.
	pub(crate) fn start_scoring(now: BlockNumberFor<T>) -> Weight {
		// Read, and cleared only when there is something (`take` would write in every block).
		let ending = RoundsEnding::<T>::get(now);
		if !ending.is_empty() {
			RoundsEnding::<T>::remove(now);
		}
		let mut weight = T::WeightInfo::queue_rounds(ending.len() as u32);
		let (mut head, mut tail) = ScoringQueueBounds::<T>::get();
		let before = (head, tail);
		for round in ending {
			ScoringQueue::<T>::insert(tail, round);
			tail = tail.wrapping_add(1);
		}
		let mut started = 0;
		while head != tail && started < T::MaxRoundsEnding::get() {
			started += 1;
			let Some(round) = ScoringQueue::<T>::get(head) else {
				head = head.wrapping_add(1);
				continue;
			};
			let (done, visited) = Self::start_round_scoring(round);
			weight.saturating_accrue(T::WeightInfo::start_round_scoring(visited));
			if !done {
				break;
			}
			ScoringQueue::<T>::remove(head);
			head = head.wrapping_add(1);
		}
		if (head, tail) != before {
			ScoringQueueBounds::<T>::put((head, tail));
		}
		weight
	}

	/// The submission window of `round_id` is over: opens a scoring job for each submitted update,
	/// and releases the stake of contributors who submitted nothing. In a round that finished early
	/// (its base was unscorable) submitted updates are released unscored. Returns whether every
	/// update was handled (`false`: the scoring pallet refused a job; the rest waits) and how many
	/// updates it read.
	pub(crate) fn start_round_scoring(round_id: RoundId) -> (bool, u32) {
		let Some(mut round) = Rounds::<T>::get(round_id) else { return (true, 0) };
		let open = round.state == RoundState::Open;
		let (mut visited, mut done, mut changed) = (0u32, true, false);
		for id in Self::update_ids(round_id) {
			visited.saturating_inc();
			let Some(mut update) = Updates::<T>::get(id) else { continue };
			let who = update.contributor.clone();
			match (update.state, update.artifact.clone()) {
				(UpdateState::Submitted, Some(artifact)) if open => {
					match T::Scoring::create_job(JobSpec {
						subject: JobSubject::Update(id),
						model: artifact,
						golden: round.golden_artifact.clone(),
						metric: round.params.metric,
						check: ArtifactCheck::SameGraphAs(round.base_artifact.clone()),
					}) {
						Ok(job) => {
							update.state = UpdateState::Scoring(job);
							Self::deposit_event(Event::UpdateScoringStarted {
								round: round_id,
								update: id,
								job,
							});
						},
						Err(e) => {
							log::warn!(
								target: LOG_TARGET,
								"round {round_id}: update {id} waits for scoring: {e:?}"
							);
							done = false;
							break;
						},
					}
				},
				(UpdateState::Submitted, _) => {
					Self::release(HoldReason::Stake, &who, update.stake);
					update.state = UpdateState::Unscored;
					round.pending.saturating_dec();
					changed = true;
					Self::deposit_event(Event::UpdateUnscored { round: round_id, update: id });
				},
				(UpdateState::Joined, _) => {
					Self::release(HoldReason::Stake, &who, update.stake);
					update.state = UpdateState::Lapsed;
					round.pending.saturating_dec();
					changed = true;
					Self::deposit_event(Event::UpdateLapsed { round: round_id, update: id });
				},
				_ => continue,
			}
			Updates::<T>::insert(id, update);
		}
		if changed {
			Rounds::<T>::insert(round_id, round);
		}
		(done, visited)
	}

	/// The accepted updates of a round, ascending by id.
	fn accepted(round: RoundId) -> Vec<(UpdateId, UpdateOf<T>)> {
		Self::update_ids(round)
			.into_iter()
			.filter_map(|id| Updates::<T>::get(id).map(|u| (id, u)))
			.filter(|(_, u)| matches!(u.state, UpdateState::Accepted(_)))
			.collect()
	}

	pub(crate) fn do_submit_aggregate(
		who: T::AccountId,
		round_id: RoundId,
		artifact: Artifact,
	) -> DispatchResult {
		let mut round = Self::live_round(round_id)?;
		Self::checked_model(&artifact)?;
		let now = Self::now();
		ensure!(
			matches!(round.base_score, BaseScore::Scored(_))
				&& now >= round.submission_end
				&& round.pending == 0,
			Error::<T>::NotAggregating
		);
		ensure!(now < round.aggregation_end(), Error::<T>::AggregationClosed);
		ensure!(round.accepted > 0, Error::<T>::NothingToAggregate);
		ensure!(round.aggregate.is_none(), Error::<T>::AggregatePending);

		let parts: Vec<AggregatePart> = Self::accepted(round_id)
			.into_iter()
			.filter_map(|(_, u)| Some(AggregatePart { artifact: u.artifact?, weight: u.samples }))
			.collect();
		let count = parts.len() as u32;
		let stake = round.params.stake;
		Self::hold(HoldReason::Stake, &who, stake)?;
		let job = T::Scoring::create_job(JobSpec {
			subject: JobSubject::Aggregate(round_id),
			model: artifact.clone(),
			golden: round.golden_artifact.clone(),
			metric: round.params.metric,
			check: ArtifactCheck::AggregateOf {
				base: round.base_artifact.clone(),
				rule: round.params.rule,
				// `MaxUpdates` is at most `MAX_AGGREGATE_PARTS` (integrity test).
				parts: BoundedVec::truncate_from(parts),
			},
		})?;
		let digest = artifact.digest;
		round.aggregate =
			Some(AggregateSubmission { submitter: who.clone(), artifact, stake, job });
		Rounds::<T>::insert(round_id, round);
		Self::deposit_event(Event::AggregateSubmitted {
			round: round_id,
			submitter: who,
			digest,
			parts: count,
			job,
		});
		Ok(())
	}

	/// Whether `score` beats `other` in the round's metric direction (ties are not better).
	fn better(round: &RoundOf<T>, score: Score, other: Score) -> bool {
		if round.params.metric.higher_is_better() {
			score > other
		} else {
			score < other
		}
	}

	pub(crate) fn do_close_round(round_id: RoundId) -> DispatchResult {
		let mut round = Self::live_round(round_id)?;
		let now = Self::now();
		ensure!(
			matches!(round.base_score, BaseScore::Scored(_))
				&& now >= round.submission_end
				&& round.pending == 0
				&& round.aggregate.is_none()
				&& (round.accepted == 0 || now >= round.aggregation_end()),
			Error::<T>::CannotCloseYet
		);
		let mut best: Option<(UpdateId, UpdateOf<T>, Artifact, Score)> = None;
		for (id, update) in Self::accepted(round_id) {
			let UpdateState::Accepted(score) = update.state else { continue };
			let Some(artifact) = update.artifact.clone() else { continue };
			if best.as_ref().is_none_or(|(_, _, _, s)| Self::better(&round, score, *s)) {
				best = Some((id, update, artifact, score));
			}
		}
		let outcome = match best {
			None => RoundOutcome::NoImprovement,
			Some((_, update, artifact, score)) => match T::Registry::publish_scored(ScoredVersion {
				publisher: update.contributor,
				model: round.model,
				artifact,
				parents: alloc::vec![round.base],
				datasets: update.datasets.into_inner(),
				score,
				aggregate: false,
			}) {
				Ok(version) => RoundOutcome::BestUpdate(version),
				Err(e) => {
					log::warn!(target: LOG_TARGET, "round {round_id}: cannot publish: {e:?}");
					RoundOutcome::NotPublished
				},
			},
		};
		Self::finish(round_id, &mut round, outcome);
		Rounds::<T>::insert(round_id, round);
		Ok(())
	}

	/// Ends a round with `outcome` and settles it: the pot moves from the opener's hold to the rewards
	/// account, and the rewards pay the accepted updates' contributors and data owners (when the round
	/// published a result) and the honest validators.
	fn finish(round_id: RoundId, round: &mut RoundOf<T>, outcome: RoundOutcome) {
		round.state = RoundState::Finished(outcome);
		Self::deposit_event(Event::RoundFinished { round: round_id, outcome });
		let pot = T::Currency::transfer_on_hold(
			&HoldReason::Pot.into(),
			&round.opener,
			&T::Rewards::account(),
			round.pot,
			Precision::BestEffort,
			Restriction::Free,
			Fortitude::Force,
		)
		.unwrap_or_else(|e| {
			log::error!(target: LOG_TARGET, "round {round_id}: cannot move the pot: {e:?}");
			Zero::zero()
		});
		let contributions = match (outcome, round.base_score) {
			(
				RoundOutcome::Aggregated(_) | RoundOutcome::BestUpdate(_),
				BaseScore::Scored(base),
			) => Self::accepted(round_id)
				.into_iter()
				.filter_map(|(_, update)| {
					let UpdateState::Accepted(score) = update.state else { return None };
					let gain = if round.params.metric.higher_is_better() {
						score.saturating_sub(base)
					} else {
						base.saturating_sub(score)
					};
					let data = update
						.datasets
						.iter()
						.filter_map(|id| T::Registry::dataset(*id).map(|d| (d.owner, d.samples)))
						.collect();
					Some(Contribution {
						contributor: update.contributor,
						gain,
						samples: update.samples,
						data,
					})
				})
				.collect(),
			_ => Vec::new(),
		};
		T::Rewards::settle(RoundSettlement {
			round: round_id,
			pot,
			opener: round.opener.clone(),
			contributions,
		});
	}

	/// The most settling a round costs: reading the accepted updates' datasets, and the rewards'
	/// settlement of the most contributions and datasets.
	pub(crate) fn settlement_weight() -> Weight {
		let (updates, datasets) = (T::MaxUpdates::get(), T::MaxUpdateDatasets::get());
		let declared = updates.saturating_mul(datasets);
		T::Rewards::settle_weight(updates, declared)
			.saturating_add(T::DbWeight::get().reads(declared.saturating_add(1) as u64))
	}

	/// Judges a scored update against the base: accepted, rejected or poisoned.
	fn judgement(round: &RoundOf<T>, score: Score, base: Score) -> Judgement {
		let (score, base) = (score as i128, base as i128);
		let gain = if round.params.metric.higher_is_better() { score - base } else { base - score };
		if gain >= round.params.min_improvement as i128 {
			Judgement::Accepted
		} else if gain < -(round.params.tolerance as i128) {
			Judgement::Poisoned
		} else {
			Judgement::Rejected
		}
	}

	/// Gives update `id` its verdict: releases or slashes its stake, counts it, emits the event.
	/// `verdict` is `Ok(score)` for a scored update (judged against the base when its score is
	/// known), or `Err(Some(reason))` to slash, `Err(None)` when it is nobody's fault.
	fn settle(
		round_id: RoundId,
		round: &mut RoundOf<T>,
		id: UpdateId,
		update: &mut UpdateOf<T>,
		verdict: Result<Score, Option<SlashReason>>,
	) {
		let verdict = match (verdict, round.base_score) {
			(Ok(score), BaseScore::Pending(_)) => {
				update.state = UpdateState::Scored(score);
				return;
			},
			(Ok(score), BaseScore::Scored(base)) => match Self::judgement(round, score, base) {
				Judgement::Accepted => Ok(Ok(score)),
				Judgement::Rejected => Ok(Err(score)),
				Judgement::Poisoned => Err(Some(SlashReason::BelowFloor(score))),
			},
			(Ok(_), BaseScore::Unscorable) => Err(None),
			(Err(reason), _) => Err(reason),
		};
		round.pending.saturating_dec();
		let who = update.contributor.clone();
		match verdict {
			Ok(Ok(score)) => {
				Self::release(HoldReason::Stake, &who, update.stake);
				update.state = UpdateState::Accepted(score);
				round.accepted.saturating_inc();
				Self::deposit_event(Event::UpdateAccepted { round: round_id, update: id, score });
			},
			Ok(Err(score)) => {
				Self::release(HoldReason::Stake, &who, update.stake);
				update.state = UpdateState::Rejected(score);
				Self::deposit_event(Event::UpdateRejected { round: round_id, update: id, score });
			},
			Err(Some(reason)) => {
				let (amount, to) = Self::slash(round, &who, update.stake);
				update.state = UpdateState::Slashed(reason);
				Self::deposit_event(Event::UpdateSlashed {
					round: round_id,
					update: id,
					reason,
					amount,
					to,
				});
			},
			Err(None) => {
				Self::release(HoldReason::Stake, &who, update.stake);
				update.state = UpdateState::Unscored;
				Self::deposit_event(Event::UpdateUnscored { round: round_id, update: id });
			},
		}
	}

	/// What a job's outcome means for whoever staked on the artifact: its score, a reason to slash,
	/// or neither.
	fn verdict_of(outcome: JobOutcome) -> Result<Score, Option<SlashReason>> {
		match outcome {
			JobOutcome::Scored(score) => Ok(score),
			JobOutcome::Invalid(fault) if fault.is_models_fault() => {
				Err(Some(SlashReason::Invalid(fault)))
			},
			JobOutcome::Invalid(_) | JobOutcome::NoQuorum => Err(None),
		}
	}

	/// The base's score arrived: judge the updates that waited for it. Returns how many were judged.
	pub(crate) fn on_base_scored(round_id: RoundId, job: JobId, outcome: JobOutcome) -> u32 {
		let Some(mut round) = Rounds::<T>::get(round_id) else { return 0 };
		if round.base_score != BaseScore::Pending(job) {
			return 0;
		}
		T::Rewards::note_job(round_id, job);
		match outcome {
			JobOutcome::Scored(score) => {
				round.base_score = BaseScore::Scored(score);
				Self::deposit_event(Event::BaseScored { round: round_id, score });
			},
			JobOutcome::Invalid(_) | JobOutcome::NoQuorum => {
				round.base_score = BaseScore::Unscorable;
				Self::deposit_event(Event::BaseUnscorable { round: round_id });
				Self::finish(round_id, &mut round, RoundOutcome::BaseUnscorable);
			},
		}
		let mut judged = 0;
		for id in Self::update_ids(round_id) {
			let Some(mut update) = Updates::<T>::get(id) else { continue };
			if let UpdateState::Scored(score) = update.state {
				Self::settle(round_id, &mut round, id, &mut update, Ok(score));
				Updates::<T>::insert(id, update);
				judged += 1;
			}
		}
		Rounds::<T>::insert(round_id, round);
		judged
	}

	pub(crate) fn on_update_scored(id: UpdateId, job: JobId, outcome: JobOutcome) {
		let Some(mut update) = Updates::<T>::get(id) else { return };
		// Only the job of the update's current artifact counts (it may have been replaced).
		if update.state != UpdateState::Scoring(job) {
			return;
		}
		let round_id = update.round;
		let Some(mut round) = Rounds::<T>::get(round_id) else { return };
		// A verdict after the round was settled (its base was unscorable) pays nobody.
		if round.state == RoundState::Open {
			T::Rewards::note_job(round_id, job);
		}
		round.last_verdict_at = Self::now();
		Self::settle(round_id, &mut round, id, &mut update, Self::verdict_of(outcome));
		Updates::<T>::insert(id, update);
		Rounds::<T>::insert(round_id, round);
	}

	pub(crate) fn on_aggregate_scored(round_id: RoundId, job: JobId, outcome: JobOutcome) {
		let Some(mut round) = Rounds::<T>::get(round_id) else { return };
		let Some(aggregate) = round.aggregate.take_if(|a| a.job == job) else { return };
		T::Rewards::note_job(round_id, job);
		let who = aggregate.submitter.clone();
		match Self::verdict_of(outcome) {
			Ok(score) => {
				Self::release(HoldReason::Stake, &who, aggregate.stake);
				let mut datasets = BTreeSet::new();
				for (_, update) in Self::accepted(round_id) {
					datasets.extend(update.datasets);
				}
				match T::Registry::publish_scored(ScoredVersion {
					publisher: who,
					model: round.model,
					artifact: aggregate.artifact,
					parents: alloc::vec![round.base],
					datasets: datasets.into_iter().collect(),
					score,
					aggregate: true,
				}) {
					Ok(version) => {
						Self::deposit_event(Event::AggregateVerified {
							round: round_id,
							version,
							score,
						});
						Self::finish(round_id, &mut round, RoundOutcome::Aggregated(version));
					},
					Err(error) => {
						log::warn!(target: LOG_TARGET, "round {round_id}: cannot publish: {error:?}");
						Self::deposit_event(Event::AggregateNotPublished {
							round: round_id,
							error,
						});
					},
				}
			},
			Err(Some(reason)) => {
				let (amount, to) = Self::slash(&mut round, &who, aggregate.stake);
				Self::deposit_event(Event::AggregateSlashed {
					round: round_id,
					submitter: who,
					reason,
					amount,
					to,
				});
			},
			Err(None) => {
				Self::release(HoldReason::Stake, &who, aggregate.stake);
				Self::deposit_event(Event::AggregateUnscored { round: round_id });
			},
		}
		Rounds::<T>::insert(round_id, round);
	}

	/// A round's updates (ascending id), for the runtime API.
	pub fn updates_of(id: RoundId) -> Vec<(UpdateId, UpdateOf<T>)> {
		Self::update_ids(id)
			.into_iter()
			.filter_map(|u| Updates::<T>::get(u).map(|update| (u, update)))
			.collect()
	}
}

/// The rounds hear the outcome of the jobs they created: bases, updates and aggregates.
impl<T: Config> ScoreConsumer for Pallet<T> {
	fn job_concluded(job: JobId, subject: JobSubject, outcome: JobOutcome) -> Weight {
		match subject {
			JobSubject::RoundBase(round) => {
				let judged = Self::on_base_scored(round, job, outcome);
				Self::base_scored_weight(judged)
			},
			JobSubject::Update(id) => {
				Self::on_update_scored(id, job, outcome);
				Self::update_scored_weight()
			},
			JobSubject::Aggregate(round) => {
				Self::on_aggregate_scored(round, job, outcome);
				Self::aggregate_scored_weight()
			},
			// Registry versions: not ours.
			JobSubject::Version(_) => Weight::zero(),
		}
	}

	fn job_concluded_weight() -> Weight {
		Self::base_scored_weight(T::MaxUpdates::get())
			.max(Self::update_scored_weight())
			.max(Self::aggregate_scored_weight())
	}
}

/// What hearing each kind of outcome costs, with the rewards' share of it.
impl<T: Config> Pallet<T> {
	/// The base's score judges `judged` waiting updates; an unscorable base settles the round.
	fn base_scored_weight(judged: u32) -> Weight {
		T::WeightInfo::base_scored(judged)
			.saturating_add(T::Rewards::note_job_weight())
			.saturating_add(T::Rewards::settle_weight(0, 0))
	}

	fn update_scored_weight() -> Weight {
		T::WeightInfo::update_scored().saturating_add(T::Rewards::note_job_weight())
	}

	/// A verified aggregate is published and settles the round.
	fn aggregate_scored_weight() -> Weight {
		T::WeightInfo::aggregate_scored(T::MaxUpdates::get())
			.saturating_add(T::Registry::publish_scored_weight())
			.saturating_add(T::Rewards::note_job_weight())
			.saturating_add(Self::settlement_weight())
	}
}

/// Invariants, checked by `try_state` (and after every unit test).
#[cfg(any(feature = "try-runtime", test))]
impl<T: Config> Pallet<T> {
	/// - each round's `updates`, `pending` and `accepted` count exactly its updates, those in
	///   holding stake (`Joined`, `Submitted`, `Scoring`, `Scored`), and those `Accepted`;
	///   `updates ≤ max_updates`; every update of a round is listed in `RoundUpdates` and
	///   `ContributorUpdate` under its round and contributor; an update has an artifact exactly when
	///   it was submitted (not `Joined` or `Lapsed`), and declares at most the samples available;
	/// - a round with `Joined` or `Submitted` updates waits in `RoundsEnding` at its submission end or
	///   in the scoring queue; every round in either exists, and `RoundsEnding` lists a round only at
	///   its submission end; the queue holds exactly the places from its head to its tail;
	/// - only an open round with a scored base has an aggregate being scored, and updates wait in
	///   `Scored` only while the base's score is pending;
	/// - the stake held from each account equals the stakes of its updates holding stake
	///   plus those of the aggregates it has being scored; the pot held equals the pots of the open
	///   rounds it opened (a finished round's pot went to the rewards); the deposit held equals its rounds' and updates' deposits;
	/// - no id is at or beyond its `Next*Id` counter.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let mut stakes: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut pots: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let add = |map: &mut BTreeMap<T::AccountId, BalanceOf<T>>, who: &T::AccountId, v| {
			let entry = map.entry(who.clone()).or_insert_with(Zero::zero);
			*entry = entry.saturating_add(v);
		};
		let (head, tail) = ScoringQueueBounds::<T>::get();
		let mut queued = BTreeSet::new();
		let mut place = head;
		while place != tail {
			queued.insert(ScoringQueue::<T>::get(place).ok_or("a hole in the scoring queue")?);
			place = place.wrapping_add(1);
		}
		ensure!(
			ScoringQueue::<T>::iter().count() == tail.wrapping_sub(head) as usize,
			"a scoring queue entry outside the queue's bounds"
		);
		for (end, rounds) in RoundsEnding::<T>::iter() {
			for id in rounds {
				let round = Rounds::<T>::get(id).ok_or("a round ending that does not exist")?;
				ensure!(
					round.submission_end == end,
					"a round listed at another block than its end"
				);
			}
		}
		for id in &queued {
			ensure!(Rounds::<T>::contains_key(id), "a queued round that does not exist");
		}
		for (id, round) in Rounds::<T>::iter() {
			ensure!(id < NextRoundId::<T>::get(), "a round id beyond the counter");
			let (mut updates, mut pending, mut accepted) = (0u32, 0u32, 0u32);
			for uid in RoundUpdates::<T>::iter_key_prefix(id) {
				let update = Updates::<T>::get(uid).ok_or("a listed update does not exist")?;
				ensure!(update.round == id, "an update listed under another round");
				ensure!(
					ContributorUpdate::<T>::get(id, &update.contributor) == Some(uid),
					"an update is not its contributor's live update"
				);
				updates += 1;
				if update.state.holds_stake() {
					pending += 1;
					add(&mut stakes, &update.contributor, update.stake);
				}
				if matches!(update.state, UpdateState::Accepted(_)) {
					accepted += 1;
				}
				let submitted = !matches!(update.state, UpdateState::Joined | UpdateState::Lapsed);
				ensure!(
					update.artifact.is_some() == submitted,
					"an update's artifact does not match its state"
				);
				ensure!(update.samples <= update.available, "more samples than available");
				if matches!(update.state, UpdateState::Joined | UpdateState::Submitted) {
					ensure!(
						queued.contains(&id)
							|| RoundsEnding::<T>::get(round.submission_end).contains(&id),
						"a round with updates to score is not queued"
					);
				}
				if matches!(update.state, UpdateState::Scored(_)) {
					ensure!(
						matches!(round.base_score, BaseScore::Pending(_)),
						"an update waits for a base score that is known"
					);
				}
				add(&mut deposits, &update.contributor, update.deposit);
			}
			ensure!(updates == round.updates, "round.updates is not its update count");
			ensure!(pending == round.pending, "round.pending is not its pending count");
			ensure!(accepted == round.accepted, "round.accepted is not its accepted count");
			ensure!(updates <= round.params.max_updates, "more updates than max_updates");
			if let Some(aggregate) = &round.aggregate {
				ensure!(
					round.state == RoundState::Open
						&& matches!(round.base_score, BaseScore::Scored(_)),
					"an aggregate in a round that cannot take one"
				);
				add(&mut stakes, &aggregate.submitter, aggregate.stake);
			}
			if round.state == RoundState::Open {
				add(&mut pots, &round.opener, round.pot);
			}
			add(&mut deposits, &round.opener, round.deposit);
		}
		for (uid, update) in Updates::<T>::iter() {
			ensure!(uid < NextUpdateId::<T>::get(), "an update id beyond the counter");
			ensure!(
				RoundUpdates::<T>::contains_key(update.round, uid),
				"an update missing from its round's list"
			);
		}
		let accounts: BTreeSet<T::AccountId> =
			stakes.keys().chain(pots.keys()).chain(deposits.keys()).cloned().collect();
		for who in accounts {
			let held = |reason: HoldReason| T::Currency::balance_on_hold(&reason.into(), &who);
			let expect = |map: &BTreeMap<T::AccountId, BalanceOf<T>>| {
				map.get(&who).copied().unwrap_or_else(Zero::zero)
			};
			ensure!(
				held(HoldReason::Stake) == expect(&stakes),
				"held stake is not the live stakes"
			);
			ensure!(held(HoldReason::Pot) == expect(&pots), "held pot is not the rounds' pots");
			ensure!(
				held(HoldReason::Deposit) == expect(&deposits),
				"held deposit is not the records' deposits"
			);
		}
		Ok(())
	}
}
