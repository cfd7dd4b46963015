//! Storage migrations: records stored by an earlier version read back correctly after upgrade.

use super::*;
use crate::migrations::v1::{MigrateV0ToV1, UpdateV0};
use frame_support::{
	assert_noop,
	storage::unhashed,
	traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
};
use modelchain_primitives::JobSubject;

#[test]
fn v0_updates_keep_their_jobs_and_rounds_still_taking_updates_are_scheduled() {
	ExtBuilder::build_and_execute(|| {
		open();
		conclude(0, JobOutcome::Scored(BASE_SCORE));
		// Version 0 opened an update's job as it was submitted, in the submission window.
		let a = submit(HONEST_A, 1, 600, vec![DATA_1]);
		assert_eq!(TrainingRounds::start_round_scoring(0), (true, 1));
		let job = job_of(a);
		let record = Updates::<Test>::get(a).unwrap();
		unhashed::put(
			&Updates::<Test>::hashed_key_for(a),
			&UpdateV0::<AccountId, Balance, <Test as Config>::MaxUpdateDatasets> {
				round: 0,
				contributor: HONEST_A,
				artifact: artifact(1, ArtifactFormat::Onnx),
				samples: 600,
				datasets: record.datasets.clone(),
				stake: STAKE,
				deposit: 20,
				state: UpdateState::Scoring(job),
			},
		);
		// Version 0 had no `RoundsEnding`.
		RoundsEnding::<Test>::remove(11);
		StorageVersion::new(0).put::<TrainingRounds>();

		MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(TrainingRounds::on_chain_storage_version(), 1);
		let migrated = Updates::<Test>::get(a).unwrap();
		assert_eq!(
			(migrated.artifact, migrated.samples, migrated.available, migrated.state),
			(Some(artifact(1, ArtifactFormat::Onnx)), 600, 600, UpdateState::Scoring(job))
		);
		assert_eq!(RoundsEnding::<Test>::get(11).into_inner(), vec![0]);
		// Run again, it does nothing.
		MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(RoundsEnding::<Test>::get(11).into_inner(), vec![0]);

		// The update being scored is not replaced; a contributor joining now is scored when the
		// window ends, and A's job still counts.
		assert_noop!(
			TrainingRounds::submit_update(
				RuntimeOrigin::signed(HONEST_A),
				0,
				artifact(2, ArtifactFormat::Onnx),
				1
			),
			Error::<Test>::AlreadyScored
		);
		let b = submit(HONEST_B, 3, 400, vec![DATA_2]);
		score_updates();
		assert_eq!(jobs()[job_of(b) as usize].subject, JobSubject::Update(b));
		assert_eq!(job_of(a), job);
		conclude(job, JobOutcome::Scored(600_000_000));
		assert_eq!(state_of(a), UpdateState::Accepted(600_000_000));
	});
}
