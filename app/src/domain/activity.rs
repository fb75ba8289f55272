//! Administrators' activity: signing in and out of the console, sign-ins refused and addresses
//! locked, administrators created or given a new password on the command line, and what
//! administrators do in a tenant outside any one workspace (creating a workspace; making,
//! deleting and downloading sandbox TPPs, enrolling sandbox software and issuing its
//! statements). Kept for the whole installation, beside each workspace's audit log (which
//! records what administrators change in a workspace).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::event_log::{EventFilter, Outcome, storable};
use super::ids::TenantId;
use super::oauth::UnknownValue;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdministratorEventType {
    /// An administrator signed in to the console.
    SignedIn,
    /// A sign-in was refused: the address or the password was not right.
    SignInRefused,
    /// An address was locked after repeated failed sign-ins.
    SignInLocked,
    /// A browser trusted by an earlier sign-in was locked after repeated failed sign-ins.
    BrowserLocked,
    /// An administrator signed out of the console.
    SignedOut,
    /// An administrator ended other sessions of theirs from their account page.
    SessionsEnded,
    /// An administrator account was created.
    AdministratorCreated,
    /// An administrator was given a new password; their sessions ended.
    PasswordChanged,
    /// An administrator turned two-step sign-in on.
    TwoStepEnabled,
    /// Two-step sign-in was turned off: by the administrator, or reset on the command line.
    TwoStepDisabled,
    /// An administrator replaced their two-step sign-in's recovery codes.
    RecoveryCodesReplaced,
    /// A workspace was created.
    WorkspaceCreated,
    /// Software was enrolled with a tenant's sandbox directory (a sandbox TPP made in the
    /// console, or software enrolled through the admin API).
    SandboxSoftwareEnrolled,
    /// A fresh software statement was issued for sandbox software (admin API).
    SandboxStatementIssued,
    /// Sandbox software was deleted: the directory no longer publishes its keys.
    SandboxSoftwareDeleted,
    /// A sandbox TPP's bundle, its private keys included, was downloaded.
    SandboxBundleDownloaded,
    /// The admin API key was set to a new one (`--admin-api-key`, or generated on a first
    /// start).
    AdminApiKeyChanged,
    /// The private keys in the database were sealed under a new key encryption key (`onboard
    /// rekey`).
    KeyEncryptionKeyRotated,
}

impl AdministratorEventType {
    pub const ALL: [Self; 18] = [
        Self::SignedIn,
        Self::SignInRefused,
        Self::SignInLocked,
        Self::BrowserLocked,
        Self::SignedOut,
        Self::SessionsEnded,
        Self::AdministratorCreated,
        Self::PasswordChanged,
        Self::TwoStepEnabled,
        Self::TwoStepDisabled,
        Self::RecoveryCodesReplaced,
        Self::WorkspaceCreated,
        Self::SandboxSoftwareEnrolled,
        Self::SandboxStatementIssued,
        Self::SandboxSoftwareDeleted,
        Self::SandboxBundleDownloaded,
        Self::AdminApiKeyChanged,
        Self::KeyEncryptionKeyRotated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignedIn => "signed_in",
            Self::SignInRefused => "sign_in_refused",
            Self::SignInLocked => "sign_in_locked",
            Self::BrowserLocked => "browser_locked",
            Self::SignedOut => "signed_out",
            Self::SessionsEnded => "sessions_ended",
            Self::AdministratorCreated => "administrator_created",
            Self::PasswordChanged => "password_changed",
            Self::TwoStepEnabled => "two_step_enabled",
            Self::TwoStepDisabled => "two_step_disabled",
            Self::RecoveryCodesReplaced => "recovery_codes_replaced",
            Self::WorkspaceCreated => "workspace_created",
            Self::SandboxSoftwareEnrolled => "sandbox_software_enrolled",
            Self::SandboxStatementIssued => "sandbox_statement_issued",
            Self::SandboxSoftwareDeleted => "sandbox_software_deleted",
            Self::SandboxBundleDownloaded => "sandbox_bundle_downloaded",
            Self::AdminApiKeyChanged => "admin_api_key_changed",
            Self::KeyEncryptionKeyRotated => "key_encryption_key_rotated",
        }
    }

    /// Whether it records something that was refused.
    pub fn outcome(self) -> Outcome {
        match self {
            Self::SignInRefused | Self::SignInLocked | Self::BrowserLocked => Outcome::Failure,
            _ => Outcome::Success,
        }
    }
}

impl FromStr for AdministratorEventType {
    type Err = UnknownValue;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value).ok_or_else(|| UnknownValue(value.to_owned()))
    }
}

impl fmt::Display for AdministratorEventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who did what an event records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An administrator signed in to the console, and the address their request came from.
    Administrator { email: String, address: Option<IpAddr> },
    /// Whoever used what this names: [`ADMIN_API_ACTOR`](super::audit::ADMIN_API_ACTOR),
    /// [`COMMAND_LINE_ACTOR`], [`SERVER_START_ACTOR`].
    Named(&'static str),
}

impl Actor {
    /// An event of `event_type` this actor did, about `detail` (`tenant default, software
    /// sw-1`).
    pub fn did(&self, event_type: AdministratorEventType, detail: &str, now: DateTime<Utc>) -> NewAdministratorEvent {
        let event = match self {
            Self::Administrator { email, address } => {
                NewAdministratorEvent::new(event_type, Some(email), now).from_address(*address)
            }
            Self::Named(actor) => NewAdministratorEvent::new(event_type, None, now).by(actor),
        };
        NewAdministratorEvent { detail: Some(storable(detail)), ..event }
    }
}

/// What a sandbox software event names: the tenant and the software.
pub fn sandbox_software(tenant: &TenantId, software_id: &str) -> String {
    format!("tenant {tenant}, software {software_id}")
}

/// An account change made with `onboard admin`.
pub const COMMAND_LINE_ACTOR: &str = "command line";
/// An administrator the server creates as it starts (`--admin-email`, or the first
/// administrator of a fresh installation).
pub const SERVER_START_ACTOR: &str = "server start";

/// An event to record. Never carries a password or a session id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAdministratorEvent {
    pub event_type: AdministratorEventType,
    pub outcome: Outcome,
    /// The administrator's e-mail address: who signed in or was refused, whose account changed,
    /// or who acted in the console.
    pub email: Option<String>,
    /// Who acted when not an administrator in the console:
    /// [`ADMIN_API_ACTOR`](super::audit::ADMIN_API_ACTOR), [`COMMAND_LINE_ACTOR`] or
    /// [`SERVER_START_ACTOR`].
    pub actor: Option<String>,
    /// The address the console request came from.
    pub remote_addr: Option<String>,
    /// What was acted on or how (`tenant default, software sw-1`, `set from
    /// --admin-api-key`), where the type does not say it all.
    pub detail: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl NewAdministratorEvent {
    /// An event of `event_type` about `email` (kept as every store can keep it), with the
    /// outcome that type has.
    pub fn new(event_type: AdministratorEventType, email: Option<&str>, now: DateTime<Utc>) -> Self {
        Self {
            event_type,
            outcome: event_type.outcome(),
            email: email.map(storable),
            actor: None,
            remote_addr: None,
            detail: None,
            created_at: now,
        }
    }

    /// The same event, made by `actor`.
    #[must_use]
    pub fn by(self, actor: &str) -> Self {
        Self { actor: Some(actor.to_owned()), ..self }
    }

    /// The same event, from a console request sent from `address`.
    #[must_use]
    pub fn from_address(self, address: Option<IpAddr>) -> Self {
        Self { remote_addr: address.map(|address| address.to_string()), ..self }
    }
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdministratorEvent {
    pub id: i64,
    #[serde(flatten)]
    pub event: NewAdministratorEvent,
}

/// Which administrator events a list shows.
pub type AdministratorEventFilter = EventFilter<AdministratorEventType>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_as_str() {
        for kind in AdministratorEventType::ALL {
            assert_eq!(kind.as_str().parse::<AdministratorEventType>(), Ok(kind));
            assert_eq!(serde_json::to_value(kind).ok(), Some(serde_json::Value::String(kind.as_str().to_owned())));
        }
        assert!("nonsense".parse::<AdministratorEventType>().is_err());
    }

    #[test]
    fn refusals_are_failures() {
        let failures: Vec<_> =
            AdministratorEventType::ALL.into_iter().filter(|kind| kind.outcome() == Outcome::Failure).collect();
        assert_eq!(
            failures,
            [AdministratorEventType::SignInRefused, AdministratorEventType::SignInLocked, AdministratorEventType::BrowserLocked]
        );
    }

    #[test]
    fn an_administrator_is_named_with_their_address_and_anyone_else_as_the_actor() {
        let kind = AdministratorEventType::WorkspaceCreated;
        let administrator =
            Actor::Administrator { email: "admin@bank.example".to_owned(), address: Some(IpAddr::from([192, 0, 2, 7])) };
        let event = administrator.did(kind, "workspace default/obuk", DateTime::UNIX_EPOCH);
        assert_eq!(
            (event.email.as_deref(), event.actor, event.remote_addr.as_deref(), event.detail.as_deref()),
            (Some("admin@bank.example"), None, Some("192.0.2.7"), Some("workspace default/obuk"))
        );
        let event = Actor::Named(COMMAND_LINE_ACTOR).did(kind, "workspace default/obuk", DateTime::UNIX_EPOCH);
        assert_eq!((event.email, event.actor.as_deref(), event.remote_addr), (None, Some(COMMAND_LINE_ACTOR), None));
    }

    #[test]
    fn an_address_typed_is_kept_storable() {
        let event =
            NewAdministratorEvent::new(AdministratorEventType::SignInRefused, Some("a\0b@bank.example"), DateTime::UNIX_EPOCH);
        assert_eq!(event.email.as_deref(), Some("a\u{FFFD}b@bank.example"));
        assert_eq!(event.outcome, Outcome::Failure);
    }
}
