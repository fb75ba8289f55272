//! Onboard's admin console (Leptos, server-rendered and hydrated) and everything the console
//! and the protocol server share: domain types, console services and storage.
//!
//! Modules behind the `ssr` feature run only on the server; `domain`, `api` and `ui` are also
//! compiled to wasm for the browser.

pub mod api;
pub mod domain;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod caller_address;
#[cfg(feature = "ssr")]
pub mod clock;
#[cfg(feature = "ssr")]
pub mod console_sessions;
#[cfg(feature = "ssr")]
pub mod crl_client;
#[cfg(feature = "ssr")]
pub mod jwks_client;
#[cfg(feature = "ssr")]
pub mod metrics;
#[cfg(feature = "ssr")]
pub mod outbound;
#[cfg(feature = "ssr")]
pub mod policy;
#[cfg(feature = "ssr")]
pub mod recovery_codes;
#[cfg(feature = "ssr")]
pub mod sealing;
#[cfg(feature = "ssr")]
pub mod secrets;
#[cfg(feature = "ssr")]
pub mod services;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod storage;
#[cfg(feature = "ssr")]
pub mod totp;

pub use ui::{App, shell};
