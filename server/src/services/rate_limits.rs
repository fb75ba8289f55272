//! The per-workspace rate limits of the register, token, introspection and revocation
//! endpoints ([`Limits`]): GCRA in
//! memory, a burst of one minute's worth. They count per instance: behind a balancer, N
//! instances let through up to N times a rate. Of the requests one caller has refused under a
//! rule, the first of each minute is marked to be recorded ([`Throttled::first_in_minute`]): a
//! flood shows in the audit log once a minute, and does not become a flood of writes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use app::caller_address::rate_key;
use app::domain::ids::WorkspaceRef;
use app::domain::limits::Limits;
use app::domain::workspace::Workspace;

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    RegistrationsPerIp,
    RegistrationsPerSoftware,
    TokenRequestsPerIp,
    TokenRequestsPerClient,
    /// Introspection and revocation requests, together.
    IntrospectionRequestsPerIp,
}

impl Rule {
    fn per_minute(self, limits: &Limits) -> u32 {
        match self {
            Self::RegistrationsPerIp => limits.registrations_per_ip_per_minute,
            Self::RegistrationsPerSoftware => limits.registrations_per_software_per_minute,
            Self::TokenRequestsPerIp => limits.token_requests_per_ip_per_minute,
            Self::TokenRequestsPerClient => limits.token_requests_per_client_per_minute,
            Self::IntrospectionRequestsPerIp => limits.introspection_requests_per_ip_per_minute,
        }
    }

    /// What the refused caller is told.
    pub fn description(self) -> &'static str {
        match self {
            Self::RegistrationsPerIp => "too many registration requests from this address",
            Self::RegistrationsPerSoftware => "too many registrations of this software",
            Self::TokenRequestsPerIp => "too many token requests from this address",
            Self::TokenRequestsPerClient => "too many token requests from this client",
            Self::IntrospectionRequestsPerIp => "too many introspection and revocation requests from this address",
        }
    }
}

/// A request over its rate: it may try again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub rule: Rule,
    pub retry_after: Duration,
    /// The first refusal of this caller under this rule in a minute: the one worth recording.
    pub first_in_minute: bool,
}

impl Throttled {
    /// `Retry-After` in whole seconds, rounded up (never 0: "now" would invite a busy loop).
    pub fn retry_after_seconds(&self) -> u64 {
        self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0 || self.retry_after.is_zero())
    }
}

type Limiter<C> = RateLimiter<String, DefaultKeyedStateStore<String>, C, NoOpMiddleware<<C as Clock>::Instant>>;
/// A workspace's limiter for a rule, with the rate it was made for.
type Limiters<C> = HashMap<(WorkspaceRef, Rule), (NonZeroU32, Arc<Limiter<C>>)>;
/// A workspace's gate for a rule, letting one refusal a minute of each caller be recorded.
type RefusalGates<C> = HashMap<(WorkspaceRef, Rule), Arc<Limiter<C>>>;

/// One limiter per workspace and rule, made again when the workspace's rate changes; and one
/// per workspace and rule letting one refusal a minute of each caller be recorded.
pub struct RateLimiters<C: Clock = DefaultClock> {
    clock: C,
    limiters: Mutex<Limiters<C>>,
    recorded_refusals: Mutex<RefusalGates<C>>,
}

impl Default for RateLimiters {
    fn default() -> Self {
        Self::with_clock(DefaultClock::default())
    }
}

impl<C: Clock + Clone> RateLimiters<C> {
    pub fn with_clock(clock: C) -> Self {
        Self { clock, limiters: Mutex::default(), recorded_refusals: Mutex::default() }
    }

    /// Counts one request of `key` under `rule`; refuses it when over the workspace's rate.
    pub fn check(&self, workspace: &Workspace, rule: Rule, key: &str) -> Result<(), Throttled> {
        let Some(per_minute) = NonZeroU32::new(rule.per_minute(&workspace.settings.limits)) else { return Ok(()) };
        let limiter = self.limiter(workspace.reference(), rule, per_minute);
        let key = key.to_owned();
        limiter.check_key(&key).map_err(|not_until| Throttled {
            rule,
            retry_after: not_until.wait_time_from(self.clock.now()),
            first_in_minute: self.refusals_recorded(workspace.reference(), rule).check_key(&key).is_ok(),
        })
    }

    /// [`Self::check`] keyed by a client address: IPv4 by address, IPv6 by its /64 (one
    /// subscriber's usual allocation, which a caller could otherwise walk through).
    pub fn check_address(&self, workspace: &Workspace, rule: Rule, address: Option<IpAddr>) -> Result<(), Throttled> {
        match address {
            Some(address) => self.check(workspace, rule, &rate_key(address)),
            None => Ok(()),
        }
    }

    fn limiter(&self, at: WorkspaceRef, rule: Rule, per_minute: NonZeroU32) -> Arc<Limiter<C>> {
        let mut limiters = self.limiters.lock().unwrap_or_else(PoisonError::into_inner);
        match limiters.get(&(at.clone(), rule)) {
            Some((rate, limiter)) if *rate == per_minute => limiter.clone(),
            _ => {
                let limiter = Arc::new(RateLimiter::dashmap_with_clock(Quota::per_minute(per_minute), self.clock.clone()));
                limiters.insert((at, rule), (per_minute, limiter.clone()));
                limiter
            }
        }
    }

    /// One recorded refusal a minute for each caller of `rule` at `at`.
    fn refusals_recorded(&self, at: WorkspaceRef, rule: Rule) -> Arc<Limiter<C>> {
        let mut gates = self.recorded_refusals.lock().unwrap_or_else(PoisonError::into_inner);
        gates
            .entry((at, rule))
            .or_insert_with(|| Arc::new(RateLimiter::dashmap_with_clock(Quota::per_minute(NonZeroU32::MIN), self.clock.clone())))
            .clone()
    }

    /// Every limiter, refusal gates included.
    fn every_limiter(&self) -> Vec<Arc<Limiter<C>>> {
        let limiters = self.limiters.lock().unwrap_or_else(PoisonError::into_inner);
        let gates = self.recorded_refusals.lock().unwrap_or_else(PoisonError::into_inner);
        limiters.values().map(|(_, limiter)| limiter.clone()).chain(gates.values().cloned()).collect()
    }

    /// Forgets callers whose allowance is full again; run now and then to bound memory.
    pub fn forget_idle(&self) {
        for limiter in self.every_limiter() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// How many callers are remembered, over every limiter.
    pub fn remembered(&self) -> usize {
        self.every_limiter().iter().map(|limiter| limiter.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use governor::clock::FakeRelativeClock;

    use super::*;
    use app::domain::dcr::DcrSettings;
    use app::domain::ids::{TenantId, WorkspaceId};
    use app::domain::workspace::{Profile, WorkspaceSettings};

    fn workspace(id: &str, limits: Limits) -> Workspace {
        let mut settings = WorkspaceSettings::defaults_for(Profile::Generic, "https://as.example/default/w");
        settings.limits = limits;
        Workspace {
            tenant: TenantId::parse("default").unwrap_or_else(|e| panic!("{e}")),
            id: WorkspaceId::parse(id).unwrap_or_else(|e| panic!("{e}")),
            name: id.to_owned(),
            profile: Profile::Generic,
            settings,
            dcr: DcrSettings::defaults_for(Profile::Generic),
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_minute_s_worth_passes_then_callers_wait_for_their_share() {
        let clock = FakeRelativeClock::default();
        let limiters = RateLimiters::with_clock(clock.clone());
        let limited = workspace("w", Limits { registrations_per_ip_per_minute: 3, ..Limits::off() });
        let ip = Some(IpAddr::from([192, 0, 2, 1]));
        for _ in 0..3 {
            assert_eq!(limiters.check_address(&limited, Rule::RegistrationsPerIp, ip), Ok(()));
        }
        let refused = limiters.check_address(&limited, Rule::RegistrationsPerIp, ip);
        assert_eq!(
            refused.map_err(|t| (t.rule, t.retry_after_seconds(), t.first_in_minute)),
            Err((Rule::RegistrationsPerIp, 20, true))
        );
        let again = limiters.check_address(&limited, Rule::RegistrationsPerIp, ip);
        assert_eq!(again.map_err(|t| t.first_in_minute), Err(false), "one refusal a minute is worth recording");
        // Another address, another rule and another workspace each have their own allowance.
        assert_eq!(limiters.check_address(&limited, Rule::RegistrationsPerIp, Some(IpAddr::from([192, 0, 2, 2]))), Ok(()));
        assert_eq!(limiters.check_address(&limited, Rule::TokenRequestsPerIp, ip), Ok(()), "0 is no limit");
        let other = workspace("other", Limits { registrations_per_ip_per_minute: 3, ..Limits::off() });
        assert_eq!(limiters.check_address(&other, Rule::RegistrationsPerIp, ip), Ok(()));

        clock.advance(Duration::from_secs(20));
        assert_eq!(limiters.check_address(&limited, Rule::RegistrationsPerIp, ip), Ok(()), "one more every 20 s");
        let within_the_minute = limiters.check_address(&limited, Rule::RegistrationsPerIp, ip);
        assert_eq!(within_the_minute.map_err(|t| t.first_in_minute), Err(false));
        clock.advance(Duration::from_mins(1));
        for _ in 0..3 {
            assert_eq!(limiters.check_address(&limited, Rule::RegistrationsPerIp, ip), Ok(()));
        }
        let next_minute = limiters.check_address(&limited, Rule::RegistrationsPerIp, ip);
        assert_eq!(next_minute.map_err(|t| t.first_in_minute), Err(true), "a minute on, the next refusal is recorded");

        // A changed rate starts afresh.
        let raised = workspace("w", Limits { registrations_per_ip_per_minute: 10, ..Limits::off() });
        assert_eq!(limiters.check_address(&raised, Rule::RegistrationsPerIp, ip), Ok(()));

        clock.advance(Duration::from_mins(2));
        assert!(limiters.remembered() > 0);
        limiters.forget_idle();
        assert_eq!(limiters.remembered(), 0, "callers with a full allowance again are forgotten");
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        let throttled = |millis| Throttled {
            rule: Rule::TokenRequestsPerIp,
            retry_after: Duration::from_millis(millis),
            first_in_minute: true,
        };
        assert_eq!(throttled(0).retry_after_seconds(), 1);
        assert_eq!(throttled(1).retry_after_seconds(), 1);
        assert_eq!(throttled(1000).retry_after_seconds(), 1);
        assert_eq!(throttled(1001).retry_after_seconds(), 2);
    }
}
