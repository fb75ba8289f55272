//! How much a workspace takes from one caller, and how many clients may register themselves:
//! the abuse controls of its register, token, introspection and revocation endpoints.

use serde::{Deserialize, Serialize};

use super::workspace::SettingsError;

/// Rates are per minute, with a burst of one minute's worth; `0` switches a rate or the cap off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Registration requests (POST) from one client IP address.
    pub registrations_per_ip_per_minute: u32,
    /// Registrations of one `software_id`, counted once its software statement is verified.
    pub registrations_per_software_per_minute: u32,
    /// Token requests from one client IP address.
    pub token_requests_per_ip_per_minute: u32,
    /// Token requests of one authenticated client.
    pub token_requests_per_client_per_minute: u32,
    /// Introspection and revocation requests from one client IP address, counted together.
    /// Left out of what is stored and answered while it has its default, so an instance of an
    /// older release, which knows no such member, can still read the workspace.
    #[serde(skip_serializing_if = "is_default_introspection_rate")]
    pub introspection_requests_per_ip_per_minute: u32,
    /// Dynamically registered clients the workspace holds at most.
    pub max_dynamic_clients: u32,
    /// A dynamically registered client with no token for this many days is abandoned: the
    /// Applications view lists it for removal.
    pub abandoned_after_days: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            registrations_per_ip_per_minute: 60,
            registrations_per_software_per_minute: 20,
            token_requests_per_ip_per_minute: 1200,
            token_requests_per_client_per_minute: 600,
            introspection_requests_per_ip_per_minute: DEFAULT_INTROSPECTION_RATE,
            max_dynamic_clients: 10_000,
            abandoned_after_days: 90,
        }
    }
}

/// Past this a "limit" protects nothing; a typo is more likely than intent.
const MAX_RATE: u32 = 1_000_000;

/// A hundred a second from one address: room for a resource server that introspects every
/// token presented to it, not for a flood.
const DEFAULT_INTROSPECTION_RATE: u32 = 6000;

#[allow(clippy::trivially_copy_pass_by_ref, reason = "serde's skip_serializing_if passes a reference")]
fn is_default_introspection_rate(rate: &u32) -> bool {
    *rate == DEFAULT_INTROSPECTION_RATE
}

impl Limits {
    /// No rate limits and no cap (abandonment is still judged after the default days).
    pub fn off() -> Self {
        Self {
            registrations_per_ip_per_minute: 0,
            registrations_per_software_per_minute: 0,
            token_requests_per_ip_per_minute: 0,
            token_requests_per_client_per_minute: 0,
            introspection_requests_per_ip_per_minute: 0,
            max_dynamic_clients: 0,
            ..Self::default()
        }
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        self.problems().into_iter().next().map_or(Ok(()), Err)
    }

    /// Every limit by its name, `abandoned_after_days` last.
    pub fn members(&self) -> [(&'static str, u32); 7] {
        [
            ("registrations_per_ip_per_minute", self.registrations_per_ip_per_minute),
            ("registrations_per_software_per_minute", self.registrations_per_software_per_minute),
            ("token_requests_per_ip_per_minute", self.token_requests_per_ip_per_minute),
            ("token_requests_per_client_per_minute", self.token_requests_per_client_per_minute),
            ("introspection_requests_per_ip_per_minute", self.introspection_requests_per_ip_per_minute),
            ("max_dynamic_clients", self.max_dynamic_clients),
            ("abandoned_after_days", self.abandoned_after_days),
        ]
    }

    /// Every limit out of its bounds, each with its field (`limits.<name>`).
    pub fn problems(&self) -> Vec<SettingsError> {
        let mut problems = Vec::new();
        for (field, value) in self.members().into_iter().filter(|(field, _)| *field != "abandoned_after_days") {
            if value > MAX_RATE {
                problems
                    .push(SettingsError::new(format!("limits.{field}"), format!("must be at most {MAX_RATE} (0 for no limit)")));
            }
        }
        if !(1..=3650).contains(&self.abandoned_after_days) {
            problems.push(SettingsError::new("limits.abandoned_after_days", "must be between 1 and 3650 days"));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_introspection_rate_is_stored_only_when_it_is_not_the_default() {
        let stored = serde_json::to_value(Limits::default()).unwrap_or_default();
        assert!(stored.get("introspection_requests_per_ip_per_minute").is_none(), "{stored}");
        let changed = Limits { introspection_requests_per_ip_per_minute: 60, ..Limits::default() };
        let stored = serde_json::to_value(changed).unwrap_or_default();
        assert_eq!(stored["introspection_requests_per_ip_per_minute"], 60);
        assert_eq!(serde_json::from_value::<Limits>(stored).ok(), Some(changed), "and read back");
    }

    #[test]
    fn missing_members_take_their_defaults_and_bounds_are_checked() {
        let partial: Limits = serde_json::from_str(r#"{"max_dynamic_clients": 5}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(partial, Limits { max_dynamic_clients: 5, ..Limits::default() });
        assert!(serde_json::from_str::<Limits>(r#"{"max_clients": 5}"#).is_err(), "unknown members are refused");
        assert_eq!(Limits::default().validate(), Ok(()));
        assert_eq!(Limits::off().validate(), Ok(()));
        let error = Limits { token_requests_per_ip_per_minute: 2_000_000, ..Limits::default() }.validate();
        assert_eq!(error.map_err(|e| e.field), Err("limits.token_requests_per_ip_per_minute".to_owned()));
        let error = Limits { introspection_requests_per_ip_per_minute: 1_000_001, ..Limits::default() }.validate();
        assert_eq!(error.map_err(|e| e.field), Err("limits.introspection_requests_per_ip_per_minute".to_owned()));
        let error = Limits { abandoned_after_days: 0, ..Limits::default() }.validate();
        assert_eq!(error.map_err(|e| e.field), Err("limits.abandoned_after_days".to_owned()));
    }
}
