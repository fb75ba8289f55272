//! The TPP side of registration, built in: signing keys and signed requests and software
//! statements. The test suites use it to act as a TPP and a directory; the `onboard tpp`
//! toolkit builds on it.

pub mod keys;
