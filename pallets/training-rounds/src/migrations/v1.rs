//! Storage version 0 → 1: contributors join a round before they submit.
//!
//! In v0 `submit_update` held the stake, created the update's record and opened its scoring job at
//! once. In v1 `join_round` holds the stake and creates the record (without an artifact), and
//! `submit_update` only writes the artifact and the samples; the jobs open when the submission
//! window ends, for the rounds `RoundsEnding` lists at that block. This migration gives every stored
//! update its artifact as an `Option` and the samples it declared as what was available (v0 records
//! are all submitted), and lists each open round whose submission window has not ended in
//! `RoundsEnding`, so that contributors joining it after the upgrade are scored. v0 updates keep
//! their state: those being scored keep their jobs. `Updates` holds every round's updates, so this
//! runs over all of them in one block: a chain with many rounds would need a multi-block migration.

use crate::{
	BalanceOf, Config, Pallet, RoundState, Rounds, RoundsEnding, Update, UpdateState, Updates,
};
use codec::{Decode, Encode};
use core::marker::PhantomData;
use frame_support::{
	migrations::VersionedMigration,
	traits::{Get, UncheckedOnRuntimeUpgrade},
	weights::Weight,
	BoundedVec,
};
use modelchain_primitives::{Artifact, DatasetId, RoundId};
use sp_runtime::Saturating;

const LOG_TARGET: &str = "runtime::training-rounds";

/// An update's record in storage version 0.
#[derive(Encode, Decode)]
pub struct UpdateV0<AccountId, Balance, MaxDatasets: Get<u32>> {
	pub round: RoundId,
	pub contributor: AccountId,
	pub artifact: Artifact,
	pub samples: u64,
	pub datasets: BoundedVec<DatasetId, MaxDatasets>,
	pub stake: Balance,
	pub deposit: Balance,
	pub state: UpdateState,
}

/// Rewrites every update with its artifact as an `Option` and lists the open rounds still taking
/// updates in `RoundsEnding`. Use [`MigrateV0ToV1`], which runs it only when the stored version is 0
/// and then sets it to 1.
pub struct InnerMigrateV0ToV1<T>(PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		let (mut reads, mut writes) = (0u64, 0u64);
		Updates::<T>::translate::<UpdateV0<T::AccountId, BalanceOf<T>, T::MaxUpdateDatasets>, _>(
			|_, old| {
				reads.saturating_inc();
				writes.saturating_inc();
				Some(Update {
					round: old.round,
					contributor: old.contributor,
					artifact: Some(old.artifact),
					samples: old.samples,
					available: old.samples,
					datasets: old.datasets,
					stake: old.stake,
					deposit: old.deposit,
					state: old.state,
				})
			},
		);
		let now = frame_system::Pallet::<T>::block_number();
		for (id, round) in Rounds::<T>::iter() {
			reads.saturating_inc();
			if round.state != RoundState::Open || round.submission_end <= now {
				continue;
			}
			writes.saturating_inc();
			if RoundsEnding::<T>::try_mutate(round.submission_end, |ending| ending.try_push(id))
				.is_err()
			{
				log::error!(
					target: LOG_TARGET,
					"round {id}: more than MaxRoundsEnding rounds end in its block; contributors \
					 joining it after the upgrade will not be scored"
				);
			}
		}
		T::DbWeight::get().reads_writes(reads, writes)
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
		Ok((Updates::<T>::iter_keys().count() as u32).encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let updates =
			u32::decode(&mut &state[..]).map_err(|_| "the pre-upgrade state does not decode")?;
		frame_support::ensure!(
			Updates::<T>::iter().count() as u32 == updates,
			"an update was lost"
		);
		Pallet::<T>::do_try_state()
	}
}

/// The migration to list in the runtime's `Executive` migrations.
pub type MigrateV0ToV1<T> = VersionedMigration<
	0,
	1,
	InnerMigrateV0ToV1<T>,
	Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;
