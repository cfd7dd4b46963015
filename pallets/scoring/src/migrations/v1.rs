//! Storage version 0 → 1: the counters commits and reveals used to rewrite are gone.
//!
//! In v0 every commit rewrote the job's record (`Job::commits`, kilobytes with its spec) and the
//! scorer's (`Scorer::open_commitments`), and every reveal the job's again (`Job::reveals`). In v1 a
//! commit or a reveal writes only its `Participations` entry: the counts are derived from the
//! participations when a job concludes, and `unregister_scorer` checks the open jobs for the scorer's
//! participations. This migration drops the three fields from the stored records. Both maps are
//! bounded (`MaxScorers`, `MaxOpenJobs`), so it fits one block.

use crate::{BalanceOf, Config, Job, Jobs, Pallet, Scorer, ScorerId, Scorers};
use codec::{Decode, Encode};
use core::marker::PhantomData;
use frame_support::{
	migrations::VersionedMigration,
	traits::{Get, UncheckedOnRuntimeUpgrade},
	weights::Weight,
};
use frame_system::pallet_prelude::BlockNumberFor;
use modelchain_primitives::JobSpec;
use sp_runtime::Saturating;

/// A scorer's record in storage version 0.
#[derive(Encode, Decode)]
pub struct ScorerV0<Balance> {
	pub key: ScorerId,
	pub stake: Balance,
	pub open_commitments: u32,
	pub missed_reveals: u32,
}

/// A job's record in storage version 0.
#[derive(Encode, Decode)]
pub struct JobV0<BlockNumber> {
	pub spec: JobSpec,
	pub created: BlockNumber,
	pub commit_end: BlockNumber,
	pub reveal_end: BlockNumber,
	pub commits: u32,
	pub reveals: u32,
}

/// Rewrites every scorer and every open job without its counters. Use [`MigrateV0ToV1`], which runs
/// it only when the stored version is 0 and then sets it to 1.
pub struct InnerMigrateV0ToV1<T>(PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		let mut translated = 0u64;
		Scorers::<T>::translate::<ScorerV0<BalanceOf<T>>, _>(|_, old| {
			translated.saturating_inc();
			Some(Scorer { key: old.key, stake: old.stake, missed_reveals: old.missed_reveals })
		});
		Jobs::<T>::translate::<JobV0<BlockNumberFor<T>>, _>(|_, old| {
			translated.saturating_inc();
			Some(Job {
				spec: old.spec,
				created: old.created,
				commit_end: old.commit_end,
				reveal_end: old.reveal_end,
			})
		});
		// Each record is read and written once; the scorers' counter is read and written too.
		T::DbWeight::get().reads_writes(translated.saturating_add(1), translated.saturating_add(1))
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
		let counts = (Scorers::<T>::count(), Jobs::<T>::iter_keys().count() as u32);
		Ok(counts.encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let (scorers, jobs) = <(u32, u32)>::decode(&mut &state[..])
			.map_err(|_| "the pre-upgrade state does not decode")?;
		frame_support::ensure!(Scorers::<T>::iter().count() as u32 == scorers, "a scorer was lost");
		frame_support::ensure!(Jobs::<T>::iter().count() as u32 == jobs, "a job was lost");
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
