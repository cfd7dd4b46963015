//! The pallets whose benchmarks the runtime runs (`modelchain-node benchmark pallet`).

frame_benchmarking::define_benchmarks!(
	[frame_benchmarking, BaselineBench::<Runtime>]
	[frame_system, SystemBench::<Runtime>]
	[frame_system_extensions, SystemExtensionsBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_sudo, Sudo]
	[pallet_model_registry, ModelRegistry]
	[pallet_scoring, Scoring]
	[pallet_training_rounds, TrainingRounds]
	[pallet_rewards, Rewards]
	[pallet_validator_set, ValidatorSet]
);
