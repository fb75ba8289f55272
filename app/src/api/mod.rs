//! Server functions: thin wrappers that take the state, authorize, call a service and map the
//! error. Their arguments and results are the domain's serde types.

pub mod status;
