//! Claims: paid once, to the account that earned them, from the rewards account.

use super::*;
use crate::Error;
use frame_support::{assert_noop, assert_ok};
use sp_runtime::DispatchError;

#[test]
fn a_claim_pays_the_credited_total_once() {
	ExtBuilder::build_and_execute(|| {
		settle(0, 1, 1_000, vec![contribution(2, 1, 1, vec![(3, 1)])]);
		let before = Balances::balance(&2);
		// Anyone may trigger it; the funds go to 2.
		assert_ok!(Rewards::claim_rewards(RuntimeOrigin::signed(9), 2));
		assert_eq!(Balances::balance(&2), before + 700);
		assert_eq!(Pending::<Test>::get(2), 0);
		assert_eq!(TotalUnclaimed::<Test>::get(), 300);
		assert_eq!(events().last(), Some(&Event::RewardsClaimed { who: 2, amount: 700 }));
		assert_noop!(
			Rewards::claim_rewards(RuntimeOrigin::signed(2), 2),
			Error::<Test>::NothingToClaim
		);
	});
}

#[test]
fn nothing_credited_nothing_to_claim() {
	ExtBuilder::build_and_execute(|| {
		assert_noop!(
			Rewards::claim_rewards(RuntimeOrigin::signed(1), 1),
			Error::<Test>::NothingToClaim
		);
		assert_noop!(Rewards::claim_rewards(RuntimeOrigin::none(), 1), DispatchError::BadOrigin);
	});
}

#[test]
fn a_keyless_treasury_is_paid_by_anyone_s_claim() {
	ExtBuilder::build_and_execute(|| {
		Rewards::emit();
		assert_ok!(Rewards::claim_rewards(RuntimeOrigin::signed(1), TREASURY));
		assert_eq!(Balances::balance(&TREASURY), 200);
	});
}

#[test]
fn a_claim_below_the_existential_deposit_to_a_new_account_fails_and_keeps_the_credit() {
	ExtBuilder::build_and_execute(|| {
		// 99 does not exist and is credited 3 (10 × 3/10, less 30 % of it rounded down, 0), below
		// the existential deposit (5).
		settle(0, 1, 10, vec![contribution(2, 1, 7, vec![]), contribution(99, 1, 3, vec![])]);
		assert_eq!(Pending::<Test>::get(99), 3);
		assert!(Rewards::claim_rewards(RuntimeOrigin::signed(1), 99).is_err());
		assert_eq!(Pending::<Test>::get(99), 3);
		assert_eq!(TotalUnclaimed::<Test>::get(), Pending::<Test>::get(2) + 3);
	});
}
