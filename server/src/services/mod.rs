//! Protocol use cases that need I/O between their pure steps.

pub mod client_certificate;
pub mod dry_run;
pub mod introspection;
pub mod keys;
pub mod management;
pub mod policy_check;
pub mod rate_limits;
pub mod registration;
pub mod revocation;
pub mod sandbox;
pub mod sandbox_tpps;
pub mod token;
