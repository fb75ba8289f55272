//! The `onboard` server: configuration, TLS, wiring, and the OAuth 2.0 / OBUK DCR protocol API.
// The server renders the console's views, and a release build keeps their full types (debug
// builds erase them, `--cfg erase_components`): the DCR settings form nests deeper than the
// default limit of 128, as in `frontend`.
#![recursion_limit = "256"]

pub mod bootstrap;
pub mod cli;
pub mod housekeeping;
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
