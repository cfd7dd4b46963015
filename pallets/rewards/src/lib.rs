//! # Rewards
//!
//! Pays the people who make a model better: compute contributors whose updates a training round
//! accepted, the owners of the datasets those updates were trained on, and the validators who scored the
//! round honestly. Funds come from each round's pot and from a per-block emission.
//!
//! ## Funding
//! - **Emission**: every block mints [`Config::EmissionPerBlock`] into the rewards account
//!   ([`Config::PalletId`]). [`Config::TreasuryShare`] of it is credited to the treasury
//!   ([`Config::Treasury`]) as a reward to claim; the rest joins the **reserve** ([`Reserve`]), which
//!   tops up rounds. [`Event::Emitted`] each block.
//! - **Round pots**: when a training round finishes, its pot (the opener's funds plus the slashed
//!   stakes of poisoned updates) is moved into the rewards account and settled.
//!
//! ## Settlement of a round (the formula)
//! With the pot `P`, the reserve `Res` and the runtime's parameters (all `Perbill`, rounding down):
//! 1. **Emission bonus** `E = RoundEmission × Res` when the round published a result (it has accepted
//!    updates), else `E = 0`. It leaves the reserve. The round distributes `R = P + E`.
//! 2. **Validators**: every job of the round that concluded and counted (the base's, each update's
//!    latest, each aggregate's) adds each committed scorer's stake to the round's *work* `W`, and the
//!    honest ones' stake to their own work `hₖ` (honest: revealed a score within [`Config::Tolerance`]
//!    of the median, or *invalid* when the outcome was invalid). The validator share is
//!    `V = ValidatorShare × R` (`V = 0` when nobody committed). Scorer `k` earns `V × hₖ / W`. What
//!    absent or deviating scorers would have earned, `V × (W − H) / W`, is **forfeited**: to
//!    [`Config::ForfeitTo`] (a treasury) or, when that is `None`, back into the reserve.
//! 3. **Contributors**: `C = R − V`. Accepted update `i` has weight `wᵢ = gainᵢ × samplesᵢ` (its
//!    improvement over the base in parts per billion, times its declared samples; when every gain is
//!    zero, its samples) and earns `cᵢ = C × wᵢ / Σw`. Of that, `DataShare × cᵢ` goes to the owners of
//!    the datasets it declared, pro rata to their registered samples, and the rest to its contributor.
//!    Without accepted updates, `C` returns to the round's opener (a **refund**).
//! 4. **Dust**: `R` minus everything credited and forfeited — the remainders of the divisions — joins
//!    the reserve ([`Event::RoundSettled`] reports it). So every settlement distributes `R` exactly.
//!
//! Amounts are *credited* ([`Pending`], [`Event::RewardCredited`]); nothing is pushed to accounts.
//!
//! ## Claims
//! [`Pallet::claim_rewards`] pays one account's credited total from the rewards account, in one
//! transfer, whoever signs it (the funds always go to the account that earned them, so a keyless treasury
//! is paid too). Work per call is constant.
//!
//! ## Accounting
//! Total issuance changes here only by emission ([`Event::Emitted`]). The rewards account always holds
//! at least its existential deposit plus [`Reserve`] plus [`TotalUnclaimed`] (`try_state`), so a claim
//! can never find it drained by other claims.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
#[cfg(test)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

use frame_support::{pallet_prelude::*, traits::fungible::Inspect};

/// The balance type of the currency rewards are paid in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		traits::{fungible::Mutate, BuildGenesisConfig},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use modelchain_primitives::{RoundId, Score, ScoringRecords};
	use sp_runtime::{traits::AccountIdConversion, Perbill};

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The currency rewards are minted and paid in.
		type Currency: Mutate<Self::AccountId>;

		/// Derives the rewards account, which holds the reserve and everything credited.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Who scored each job, and honestly (the scoring pallet).
		type Scoring: ScoringRecords<Self::AccountId, BalanceOf<Self>>;

		/// Minted into the rewards account every block.
		#[pallet::constant]
		type EmissionPerBlock: Get<BalanceOf<Self>>;

		/// Of each block's emission, the part credited to the treasury.
		#[pallet::constant]
		type TreasuryShare: Get<Perbill>;

		/// The treasury account.
		type Treasury: Get<Self::AccountId>;

		/// Of the reserve, the part a round that published a result adds to its pot.
		#[pallet::constant]
		type RoundEmission: Get<Perbill>;

		/// Of what a round distributes, the part honest validators share.
		#[pallet::constant]
		type ValidatorShare: Get<Perbill>;

		/// Of each accepted update's reward, the part its datasets' owners share.
		#[pallet::constant]
		type DataShare: Get<Perbill>;

		/// How far (parts per billion) a scorer's revealed score may be from the job's median and still
		/// be honest.
		#[pallet::constant]
		type Tolerance: Get<Score>;

		/// Where scorers' forfeited shares go: `Some(account)` (credited), or `None` into the reserve.
		type ForfeitTo: Get<Option<Self::AccountId>>;

		/// Most distinct honest scorers paid in one round; more are counted as work but not paid.
		#[pallet::constant]
		type MaxRoundScorers: Get<u32>;

		/// Most accepted updates in one settlement (the benchmark's range).
		#[pallet::constant]
		type MaxContributions: Get<u32>;

		/// Most declared datasets of one settlement's updates together (the benchmark's range).
		#[pallet::constant]
		type MaxContributionData: Get<u32>;

		/// Weights of this pallet's calls and hooks.
		type WeightInfo: WeightInfo;
	}

	/// Rewards credited to each account and not claimed yet.
	#[pallet::storage]
	pub type Pending<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, BalanceOf<T>, ValueQuery>;

	/// The sum of [`Pending`].
	#[pallet::storage]
	pub type TotalUnclaimed<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// Emission (with dust and forfeits) not yet given to a round.
	#[pallet::storage]
	pub type Reserve<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// The scorers' work in each training round not settled yet. Round ids are sequential and chosen
	/// by the chain.
	#[pallet::storage]
	pub type Work<T: Config> = StorageMap<_, Twox64Concat, RoundId, RoundWorkOf<T>, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `amount` was minted into the rewards account: `to_reserve` joined the reserve and
		/// `to_treasury` was credited to the treasury.
		Emitted { amount: BalanceOf<T>, to_reserve: BalanceOf<T>, to_treasury: BalanceOf<T> },
		/// `amount` was credited to `who` for `kind` (in `round`, unless it is emission).
		RewardCredited {
			who: T::AccountId,
			amount: BalanceOf<T>,
			kind: RewardKind,
			round: Option<RoundId>,
		},
		/// A finished round distributed its `pot` plus `emission` from the reserve: `compute`,
		/// `data_owners` and `validators` to its contributors, `refund` to its opener, `forfeited` by
		/// scorers who were absent or deviated, and `dust` (rounding) into the reserve. They add up to
		/// `pot + emission` exactly.
		RoundSettled {
			round: RoundId,
			pot: BalanceOf<T>,
			emission: BalanceOf<T>,
			compute: BalanceOf<T>,
			data_owners: BalanceOf<T>,
			validators: BalanceOf<T>,
			refund: BalanceOf<T>,
			forfeited: BalanceOf<T>,
			dust: BalanceOf<T>,
		},
		/// `who` was paid its credited rewards.
		RewardsClaimed { who: T::AccountId, amount: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account has no rewards to claim.
		NothingToClaim,
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// The rewards account exists from genesis with its existential deposit, which it keeps.
			let account = Pallet::<T>::account_id();
			let ed = T::Currency::minimum_balance();
			if T::Currency::balance(&account) < ed {
				T::Currency::mint_into(&account, ed).expect("minting the existential deposit");
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(_: BlockNumberFor<T>) -> Weight {
			Self::emit();
			T::WeightInfo::emit()
		}

		fn integrity_test() {
			assert!(T::MaxRoundScorers::get() > 0, "MaxRoundScorers must be at least 1");
			assert!(
				T::ValidatorShare::get() < Perbill::one(),
				"contributors must get a part of a round's rewards"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight = <T as Config>::WeightInfo)]
	impl<T: Config> Pallet<T> {
		/// Pays `who` everything credited to it, from the rewards account.
		///
		/// Origin: signed, anyone (the rewards always go to `who`). Emits [`Event::RewardsClaimed`].
		/// Errors: [`Error::NothingToClaim`]; the transfer's error when `who` does not exist and the
		/// amount is below the existential deposit (the credit then stays).
		#[pallet::call_index(0)]
		pub fn claim_rewards(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_claim(who)
		}
	}

	impl<T: Config> Pallet<T> {
		/// The rewards account.
		pub fn account_id() -> T::AccountId {
			T::PalletId::get().into_account_truncating()
		}
	}
}
