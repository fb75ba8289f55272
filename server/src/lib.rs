//! The `onboard` server: configuration, TLS, wiring, and the OAuth 2.0 / OBUK DCR protocol API.

pub mod oauth2;
pub mod tpp;
