//! Storage migrations of the scoring pallet, run by the runtime's `Executive` on upgrade.

pub mod v1;
