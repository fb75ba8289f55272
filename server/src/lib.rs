//! The `onboard` server: configuration, TLS, wiring, and the OAuth 2.0 / OBUK DCR protocol API.

pub mod bootstrap;
pub mod cli;
pub mod http;
pub mod listener;
pub mod oauth2;
pub mod pki;
pub mod sealing;
pub mod services;
pub mod startup;
pub mod state;
pub mod tls;
pub mod tpp;
pub mod workspace_keys;
