//! Scoring pallet tests, one behaviour per test; `try_state` runs after each through `ExtBuilder`.

mod aggregation;
mod commit_reveal;
mod migrations;
mod offchain;
mod scorers;

use crate::{impls::*, mock::*, *};
use frame_support::{assert_ok, pallet_prelude::Authorize, traits::Hooks};
use modelchain_primitives::{JobId, ScoreJobs, Verdict};
use sp_core::H256;
use sp_runtime::{
	transaction_validity::{TransactionSource, TransactionValidityError},
	DispatchResult, RuntimeAppPublic,
};

/// A new scoring key in the test keystore.
pub fn new_key() -> ScorerId {
	ScorerId::generate_pair(None)
}

/// Registers `who` with a new key and `stake`; returns the key.
pub fn register_with(who: AccountId, stake: Balance) -> ScorerId {
	let key = new_key();
	assert_ok!(Scoring::register_scorer(RuntimeOrigin::signed(who), key.clone(), stake));
	key
}

/// Registers `who` with the minimum stake.
pub fn register(who: AccountId) -> ScorerId {
	register_with(who, MIN_STAKE)
}

/// Creates a job about version `version`.
pub fn create_job(version: u64) -> JobId {
	<Scoring as ScoreJobs>::create_job(spec(version)).expect("job created")
}

/// The commit call `key` would submit for `verdict` with `salt`.
pub fn commit_call(job: JobId, key: &ScorerId, verdict: Verdict, salt: [u8; 32]) -> Call<Test> {
	let commitment = commitment(job, key, &verdict, &salt);
	let signature = key.sign(&commit_payload(job, &commitment)).unwrap();
	Call::commit_score { job, commitment, scorer: key.clone(), signature }
}

/// The reveal call `key` would submit.
pub fn reveal_call(job: JobId, key: &ScorerId, verdict: Verdict, salt: [u8; 32]) -> Call<Test> {
	let signature = key.sign(&reveal_payload(job, &verdict, &salt)).unwrap();
	Call::reveal_score { job, verdict, salt, scorer: key.clone(), signature }
}

/// What the transaction pool says of a call (its `#[pallet::authorize]` check).
pub fn validate(call: &Call<Test>) -> Result<(), TransactionValidityError> {
	call.authorize(TransactionSource::External).expect("the call is authorizable").map(|_| ())
}

/// Dispatches a call as an authorized general transaction.
pub fn dispatch(call: Call<Test>) -> DispatchResult {
	use frame_support::traits::UnfilteredDispatchable;
	call.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into())
		.map(|_| ())
		.map_err(|e| e.error)
}

/// Validates then dispatches, as a block author would.
pub fn submit(call: Call<Test>) -> DispatchResult {
	validate(&call).map_err(|_| sp_runtime::DispatchError::Other("invalid transaction"))?;
	dispatch(call)
}

pub fn commit(job: JobId, key: &ScorerId, verdict: Verdict, salt: [u8; 32]) -> DispatchResult {
	submit(commit_call(job, key, verdict, salt))
}

pub fn reveal(job: JobId, key: &ScorerId, verdict: Verdict, salt: [u8; 32]) -> DispatchResult {
	submit(reveal_call(job, key, verdict, salt))
}

/// Runs `on_initialize` for every block up to and including `n`.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Scoring::on_initialize(next);
	}
}

/// The first block of `job`'s reveal window.
pub fn reveal_start(job: JobId) -> u64 {
	Jobs::<Test>::get(job).unwrap().commit_end + 1
}

/// The first block after `job`'s reveal window.
pub fn conclusion(job: JobId) -> u64 {
	Jobs::<Test>::get(job).unwrap().reveal_end + 1
}

pub const SALT: [u8; 32] = [7; 32];

/// A made-up commitment.
pub fn h(x: u8) -> H256 {
	H256([x; 32])
}
