//! How often one caller may try to sign in to the console. Beside the lock on an e-mail
//! address that keeps failing ([`super::accounts`]), a limit on the caller: one host cannot
//! keep the password hashing (four at a time) busy for every other administrator, nor try
//! address after address. Counted in memory, per instance, by the caller's address as the
//! protocol's rate limits count it.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::caller_address::rate_key;

/// Sign-in attempts one caller may make a minute, with a burst of a minute's worth.
pub const SIGN_INS_PER_CALLER_PER_MINUTE: NonZeroU32 = NonZeroU32::new(20).unwrap();

pub struct SignInRate {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl Default for SignInRate {
    fn default() -> Self {
        Self { limiter: RateLimiter::keyed(Quota::per_minute(SIGN_INS_PER_CALLER_PER_MINUTE)), clock: DefaultClock::default() }
    }
}

impl SignInRate {
    /// Counts an attempt from `address`; over the rate, how long until the next is allowed.
    pub fn check(&self, address: IpAddr) -> Result<(), Duration> {
        self.limiter.check_key(&rate_key(address)).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets callers whose allowance is full again.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_gets_a_minutes_worth_and_others_their_own() {
        let rate = SignInRate::default();
        let (caller, other) = ("192.0.2.7".parse().unwrap_or(IpAddr::from([0; 4])), IpAddr::from([198, 51, 100, 1]));
        for _ in 0..SIGN_INS_PER_CALLER_PER_MINUTE.get() {
            assert_eq!(rate.check(caller), Ok(()));
        }
        let wait = rate.check(caller).err().unwrap_or_default();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(3), "one more every three seconds: {wait:?}");
        assert_eq!(rate.check(other), Ok(()));
    }
}
