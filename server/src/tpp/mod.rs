//! The TPP side of registration, built in: signing keys, software statement and registration
//! claims, a TPP's bundle, and the `onboard tpp` toolkit's calls. The test suites use it to act
//! as a TPP and a directory.

pub mod bundle;
pub mod claims;
pub mod keys;
pub mod toolkit;
