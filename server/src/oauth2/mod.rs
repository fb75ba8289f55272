//! Pure protocol logic: JOSE checks, software statements, registration validation and its
//! error codes. No axum, sqlx, reqwest or clock calls in here: keys arrive already fetched and
//! the time arrives as `now`, so every rule is testable with plain values.

pub mod bearer;
pub mod client_auth;
pub mod error_description;
pub mod jose;
pub mod registration;
pub mod software_statement;
pub mod strict_json;
pub mod token;

/// Allowed clock skew between Onboard and a TPP, for `iat` and `exp` (seconds).
pub const CLOCK_SKEW_SECONDS: i64 = 60;
