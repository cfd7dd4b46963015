//! Storage migrations of the training-rounds pallet, run by the runtime's `Executive` on upgrade.

pub mod v1;
