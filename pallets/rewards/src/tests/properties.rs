//! Property tests over many random rounds: settlements distribute exactly `pot + emission`, issuance
//! moves only by emission, every credit is claimable exactly once, and the rewards account ends with
//! exactly its existential deposit plus the reserve.

use super::*;
use crate::Error;
use frame_support::assert_noop;
use sp_runtime::Perbill;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
	}
	/// Uniform in `0..n`.
	fn below(&mut self, n: u64) -> u64 {
		self.next() % n
	}
	fn percent(&mut self) -> Perbill {
		Perbill::from_percent(self.below(100) as u32)
	}
}

const OPENER: AccountId = 50;
/// Accounts that may earn: contributors, data owners, scorers.
const EARNERS: core::ops::RangeInclusive<AccountId> = 1..=20;

fn random_round(
	rng: &mut Rng,
	round: RoundId,
	first_job: JobId,
) -> (Balance, Vec<Contribution<AccountId>>, u32) {
	let jobs = rng.below(5) as u32;
	for j in 0..jobs {
		let scorers = (0..rng.below(7))
			.map(|_| {
				let who = 1 + rng.below(20);
				let stake = 1 + rng.below(1_000_000) as Balance;
				let deviation = match rng.below(4) {
					0 => None,
					_ => Some(rng.below(2 * TOLERANCE)),
				};
				(who, stake, deviation)
			})
			.collect();
		set_job(first_job + j as JobId, scorers);
		note(round, first_job + j as JobId);
	}
	let contributions = (0..rng.below(6))
		.map(|_| {
			let gain = match rng.below(5) {
				0 => 0,
				1 => u64::MAX - rng.below(1_000),
				_ => rng.below(1_000_000_000),
			};
			let data = (0..rng.below(4)).map(|_| (1 + rng.below(20), rng.below(100_000))).collect();
			contribution(1 + rng.below(20), gain, 1 + rng.below(1_000_000), data)
		})
		.collect();
	let pot = match rng.below(4) {
		0 => rng.below(10) as Balance,
		_ => rng.below(1_000_000_000_000) as Balance,
	};
	(pot, contributions, jobs)
}

#[test]
fn random_rounds_distribute_exactly_and_every_credit_is_claimed_once() {
	for seed in 1..=40u64 {
		ExtBuilder::build_and_execute(|| {
			let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
			fund(OPENER, Balance::MAX / 4);
			let issuance = Balances::total_issuance();
			let mut emitted: Balance = 0;
			let mut next_job: JobId = 0;
			for round in 0..(1 + rng.below(12)) {
				TreasuryShare::set(rng.percent());
				RoundEmission::set(rng.percent());
				ValidatorShare::set(Perbill::from_percent(rng.below(99) as u32));
				DataShare::set(rng.percent());
				ForfeitTo::set(if rng.below(2) == 0 { Some(TREASURY) } else { None });
				Emission::set(rng.below(1_000_000) as Balance);
				for _ in 0..rng.below(4) {
					Rewards::emit();
					emitted += Emission::get();
				}
				System::reset_events();
				let (pot, contributions, jobs) = random_round(&mut rng, round, next_job);
				next_job += jobs as JobId;
				let unclaimed = TotalUnclaimed::<Test>::get();
				let reserve = Reserve::<Test>::get();
				settle(round, OPENER, pot, contributions);
				let Some(Event::RoundSettled {
					pot: settled,
					emission,
					compute,
					data_owners: data,
					validators,
					refund,
					forfeited,
					dust,
					..
				}) = events().last().cloned()
				else {
					panic!("seed {seed}: no RoundSettled");
				};
				assert_eq!(settled, pot);
				assert_eq!(
					compute + data + validators + refund + forfeited + dust,
					pot + emission,
					"seed {seed} round {round}: the parts add up to the pot plus the emission"
				);
				let credited = TotalUnclaimed::<Test>::get() - unclaimed;
				let to_treasury = if ForfeitTo::get().is_some() { forfeited } else { 0 };
				assert_eq!(credited, compute + data + validators + refund + to_treasury);
				let back_to_reserve = if ForfeitTo::get().is_some() { 0 } else { forfeited };
				assert_eq!(Reserve::<Test>::get(), reserve - emission + back_to_reserve + dust);
				Rewards::do_try_state().expect("invariants hold after every settlement");
			}
			assert_eq!(
				Balances::total_issuance(),
				issuance + emitted,
				"seed {seed}: issuance moved by the emission only"
			);
			// Everyone claims; nobody can claim twice; the account keeps exactly ED + reserve.
			let mut claimants: Vec<AccountId> = EARNERS.collect();
			claimants.extend([TREASURY, OPENER]);
			for who in claimants {
				let owed = Pending::<Test>::get(who);
				if owed == 0 {
					assert_noop!(
						Rewards::claim_rewards(RuntimeOrigin::signed(OPENER), who),
						Error::<Test>::NothingToClaim
					);
					continue;
				}
				let before = Balances::balance(&who);
				Rewards::claim_rewards(RuntimeOrigin::signed(OPENER), who)
					.unwrap_or_else(|e| panic!("seed {seed}: {who} cannot claim {owed}: {e:?}"));
				assert_eq!(Balances::balance(&who), before + owed);
				assert_noop!(
					Rewards::claim_rewards(RuntimeOrigin::signed(who), who),
					Error::<Test>::NothingToClaim
				);
				Rewards::do_try_state().expect("invariants hold after every claim");
			}
			assert_eq!(TotalUnclaimed::<Test>::get(), 0);
			assert_eq!(Balances::balance(&account()), ED + Reserve::<Test>::get());
			assert_eq!(Balances::total_issuance(), issuance + emitted);
		});
	}
}
