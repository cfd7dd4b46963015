//! Storage migrations: records stored by an earlier version read back correctly after upgrade.

use super::*;
use crate::migrations::v1::{JobV0, MigrateV0ToV1, ScorerV0};
use frame_support::{
	assert_noop,
	storage::unhashed,
	traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
};

#[test]
fn v0_scorers_and_jobs_lose_their_counters() {
	ExtBuilder::build_and_execute(|| {
		let key = register(ALICE);
		let job = create_job(1);
		assert_ok!(commit(job, &key, Verdict::Scored(5), SALT));
		let scorer = Scorers::<Test>::get(ALICE).unwrap();
		let record = Jobs::<Test>::get(job).unwrap();
		let scorers = Scorers::<Test>::count();
		// Stored as version 0 stored them, with the counters a commit used to bump.
		unhashed::put(
			&Scorers::<Test>::hashed_key_for(ALICE),
			&ScorerV0 {
				key: key.clone(),
				stake: scorer.stake,
				open_commitments: 1,
				missed_reveals: 2,
			},
		);
		unhashed::put(
			&Jobs::<Test>::hashed_key_for(job),
			&JobV0 {
				spec: record.spec.clone(),
				created: record.created,
				commit_end: record.commit_end,
				reveal_end: record.reveal_end,
				commits: 1,
				reveals: 0,
			},
		);
		StorageVersion::new(0).put::<Scoring>();

		MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(Scoring::on_chain_storage_version(), 1);
		assert_eq!(
			Scorers::<Test>::get(ALICE),
			Some(Scorer { missed_reveals: 2, ..scorer.clone() })
		);
		assert_eq!(Jobs::<Test>::get(job), Some(record.clone()));
		assert_eq!(Scorers::<Test>::count(), scorers);

		// Run again, it does nothing: v1 records read as v0 ones would not decode, and be dropped.
		MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(
			Scorers::<Test>::get(ALICE),
			Some(Scorer { missed_reveals: 2, ..scorer.clone() })
		);
		assert_eq!(Jobs::<Test>::get(job), Some(record));
		// And the scorer still cannot leave while its commitment is open.
		assert_noop!(
			Scoring::unregister_scorer(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::ScorerBusy
		);
	});
}
