//! The settlement formula on worked examples, with every amount computed by hand.

use super::*;
use crate::{RewardKind, Work};
use sp_runtime::Perbill;

/// The crate docs' formula, by hand: reserve 8 000, pot 10 000, two accepted updates, four scorers of
/// whom two were honest.
#[test]
fn a_round_with_accepted_updates_pays_compute_data_and_honest_validators() {
	ExtBuilder::build_and_execute(|| {
		for _ in 0..10 {
			Rewards::emit();
		}
		assert_eq!(Reserve::<Test>::get(), 8_000);
		// Job 0: 11 and 12 honest, 13 deviates by 50 (> 10), 14 missed its reveal.
		set_job(
			0,
			vec![(11, 100, Some(0)), (12, 100, Some(5)), (13, 200, Some(50)), (14, 100, None)],
		);
		// Job 1: 11 honest, 12 deviates.
		set_job(1, vec![(11, 100, Some(0)), (12, 100, Some(20))]);
		note(0, 0);
		note(0, 1);
		let work = Work::<Test>::get(0);
		assert_eq!(work.total, 700);
		assert_eq!(work.honest.into_inner(), vec![(11, 200), (12, 100)]);
		assert_eq!(work.jobs, 2);

		settle(
			0,
			1,
			10_000,
			vec![
				contribution(1, 100, 600, vec![(5, 600)]),
				contribution(2, 50, 400, vec![(5, 300), (6, 100)]),
			],
		);
		// R = 10 000 + 10 % × 8 000 = 10 800; V = 1 080: 11 gets 1 080 × 200/700 = 308, 12 gets
		// 1 080 × 100/700 = 154, forfeited 1 080 × 400/700 = 617. C = 9 720, weights 60 000 : 20 000:
		// 7 290 and 2 430; data 30 %: 2 187 to 5; 729 split 300 : 100 = 546 (to 5) and 182 (to 6).
		assert_eq!(Pending::<Test>::get(1), 7_290 - 2_187);
		assert_eq!(Pending::<Test>::get(2), 2_430 - 729);
		assert_eq!(Pending::<Test>::get(5), 2_187 + 546);
		assert_eq!(Pending::<Test>::get(6), 182);
		assert_eq!(Pending::<Test>::get(11), 308);
		assert_eq!(Pending::<Test>::get(12), 154);
		assert_eq!(Pending::<Test>::get(13), 0);
		assert_eq!(Pending::<Test>::get(14), 0);
		assert_eq!(
			events().last(),
			Some(&Event::RoundSettled {
				round: 0,
				pot: 10_000,
				emission: 800,
				compute: 5_103 + 1_701,
				data_owners: 2_187 + 546 + 182,
				validators: 462,
				refund: 0,
				forfeited: 617,
				dust: 2,
			})
		);
		// The reserve lost the emission and gained the forfeit and the dust.
		assert_eq!(Reserve::<Test>::get(), 8_000 - 800 + 617 + 2);
		assert!(!Work::<Test>::contains_key(0), "the round's work is cleared");
		assert!(events().contains(&Event::RewardCredited {
			who: 6,
			amount: 182,
			kind: RewardKind::Data,
			round: Some(0),
		}));
	});
}

#[test]
fn forfeits_go_to_the_configured_treasury() {
	ExtBuilder::build_and_execute(|| {
		ForfeitTo::set(Some(TREASURY));
		set_job(0, vec![(11, 100, Some(0)), (13, 300, Some(99))]);
		note(0, 0);
		settle(0, 1, 1_000, vec![contribution(2, 1, 10, vec![])]);
		// V = 100: 11 earns 25, 75 forfeited to the treasury; no data declared: its 30 % is dust.
		assert_eq!(Pending::<Test>::get(11), 25);
		assert_eq!(Pending::<Test>::get(TREASURY), 75);
		assert_eq!(Pending::<Test>::get(2), 900 - 270);
		assert_eq!(Reserve::<Test>::get(), 270);
	});
}

#[test]
fn a_round_without_accepted_updates_refunds_its_opener_less_the_validators() {
	ExtBuilder::build_and_execute(|| {
		for _ in 0..5 {
			Rewards::emit();
		}
		set_job(0, vec![(11, 100, Some(0))]);
		note(0, 0);
		settle(0, 3, 5_000, vec![]);
		// No emission bonus; validators 10 % = 500; the rest back to the opener.
		assert_eq!(Pending::<Test>::get(11), 500);
		assert_eq!(Pending::<Test>::get(3), 4_500);
		assert_eq!(Reserve::<Test>::get(), 4_000);
		assert!(events().contains(&Event::RewardCredited {
			who: 3,
			amount: 4_500,
			kind: RewardKind::Refund,
			round: Some(0),
		}));
	});
}

#[test]
fn without_any_scorer_contributors_get_everything() {
	ExtBuilder::build_and_execute(|| {
		settle(4, 1, 1_000, vec![contribution(2, 7, 1, vec![(5, 1)])]);
		assert_eq!(Pending::<Test>::get(2), 700);
		assert_eq!(Pending::<Test>::get(5), 300);
		assert_eq!(Reserve::<Test>::get(), 0);
	});
}

#[test]
fn zero_gains_split_by_samples() {
	ExtBuilder::build_and_execute(|| {
		DataShare::set(Perbill::zero());
		settle(0, 1, 1_000, vec![contribution(2, 0, 3, vec![]), contribution(3, 0, 1, vec![])]);
		assert_eq!(Pending::<Test>::get(2), 750);
		assert_eq!(Pending::<Test>::get(3), 250);
	});
}

#[test]
fn huge_weights_do_not_overflow() {
	ExtBuilder::build_and_execute(|| {
		DataShare::set(Perbill::zero());
		settle(
			0,
			1,
			1_000,
			vec![
				contribution(2, u64::MAX, u64::MAX, vec![]),
				contribution(3, u64::MAX, u64::MAX, vec![]),
			],
		);
		assert_eq!(Pending::<Test>::get(2), 500);
		assert_eq!(Pending::<Test>::get(3), 500);
	});
}

#[test]
fn scorers_beyond_the_bound_count_as_work_but_forfeit() {
	ExtBuilder::build_and_execute(|| {
		// MaxRoundScorers is 4: the fifth honest scorer is not paid; its share is forfeited.
		set_job(0, (11..=15).map(|who| (who, 100, Some(0))).collect());
		note(0, 0);
		assert_eq!(Work::<Test>::get(0).honest.len(), 4);
		settle(0, 1, 1_000, vec![]);
		for who in 11..=14 {
			assert_eq!(Pending::<Test>::get(who), 20);
		}
		assert_eq!(Pending::<Test>::get(15), 0);
		assert_eq!(Reserve::<Test>::get(), 20);
	});
}

#[test]
fn a_job_nobody_committed_to_adds_no_work() {
	ExtBuilder::build_and_execute(|| {
		note(0, 42);
		assert!(!Work::<Test>::contains_key(0));
	});
}
