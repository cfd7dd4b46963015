//! Unit tests of the rewards: emission, the settlement formula on a worked example, claims, and
//! property tests over many random rounds.

mod claims;
mod properties;
mod settlement;

use crate::{mock::*, Event, Pending, Reserve, TotalUnclaimed};
use frame_support::traits::fungible::{Inspect, Mutate};
use modelchain_primitives::{Contribution, JobId, RoundId, RoundRewards, RoundSettlement};

pub(crate) fn account() -> AccountId {
	Rewards::account_id()
}

/// The rewards events of this block, in order.
pub(crate) fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Rewards(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// Moves `pot` from `opener` into the rewards account, as training rounds do, and settles.
pub(crate) fn settle(
	round: RoundId,
	opener: AccountId,
	pot: Balance,
	contributions: Vec<Contribution<AccountId>>,
) {
	Balances::transfer(
		&opener,
		&account(),
		pot,
		frame_support::traits::tokens::Preservation::Expendable,
	)
	.expect("the opener has the pot");
	<Rewards as RoundRewards<_, _>>::settle(RoundSettlement { round, pot, opener, contributions });
}

pub(crate) fn note(round: RoundId, job: JobId) {
	<Rewards as RoundRewards<_, _>>::note_job(round, job);
}

pub(crate) fn contribution(
	contributor: AccountId,
	gain: u64,
	samples: u64,
	data: Vec<(AccountId, u64)>,
) -> Contribution<AccountId> {
	Contribution { contributor, gain, samples, data }
}

#[test]
fn genesis_creates_the_rewards_account_with_its_existential_deposit() {
	ExtBuilder::build_and_execute(|| {
		assert_eq!(Balances::balance(&account()), ED);
		assert_eq!(Reserve::<Test>::get(), 0);
		assert_eq!(TotalUnclaimed::<Test>::get(), 0);
	});
}

#[test]
fn each_block_mints_the_emission_into_the_reserve_and_the_treasury_share() {
	ExtBuilder::build_and_execute(|| {
		let issuance = Balances::total_issuance();
		for _ in 0..3 {
			Rewards::emit();
		}
		// 1 000 per block, 20 % credited to the treasury.
		assert_eq!(Balances::total_issuance(), issuance + 3_000);
		assert_eq!(Reserve::<Test>::get(), 2_400);
		assert_eq!(Pending::<Test>::get(TREASURY), 600);
		assert_eq!(TotalUnclaimed::<Test>::get(), 600);
		assert_eq!(Balances::balance(&account()), ED + 3_000);
		assert_eq!(
			events().last(),
			Some(&Event::Emitted { amount: 1_000, to_reserve: 800, to_treasury: 200 })
		);
	});
}

#[test]
fn no_emission_mints_nothing() {
	ExtBuilder::build_and_execute(|| {
		Emission::set(0);
		let issuance = Balances::total_issuance();
		Rewards::emit();
		assert_eq!(Balances::total_issuance(), issuance);
		assert!(events().is_empty());
	});
}

#[test]
fn the_hook_emits() {
	use frame_support::traits::Hooks;
	ExtBuilder::build_and_execute(|| {
		Rewards::on_initialize(1);
		assert_eq!(Reserve::<Test>::get(), 800);
	});
}

/// Funds `who` generously (for pots larger than the endowment).
pub(crate) fn fund(who: AccountId, amount: Balance) {
	Balances::set_balance(&who, amount);
}
