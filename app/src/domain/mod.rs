//! Pure types shared by the console (also compiled to wasm) and the server: identifiers,
//! workspace and DCR settings, key sets, clients, audit events, administrators' activity and
//! console sessions. No I/O lives here.

pub mod account;
pub mod activity;
pub mod audit;
pub mod client;
pub mod console_session;
pub mod dcr;
pub mod dcr_change;
pub mod dn;
pub mod dry_run;
pub mod event_log;
pub mod ids;
pub mod jwks;
pub mod limits;
pub mod oauth;
pub mod policy;
pub mod revocation;
pub mod sandbox;
pub mod signing;
pub mod token;
pub mod urls;
pub mod workspace;
pub mod workspace_change;
