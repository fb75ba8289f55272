//! The TPP side of registration, built in: signing keys, software statement and registration
//! claims, and the `onboard tpp` toolkit's bundle and client. The test suites use it to act as
//! a TPP and a directory.

pub mod claims;
pub mod keys;
pub mod toolkit;
