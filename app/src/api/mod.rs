//! Server functions: thin wrappers that take the state, check the session, call a service and
//! map the error. Their arguments and results are the domain's serde types.

pub mod account;
pub mod administrators;
pub mod applications;
pub mod auth;
pub mod dcr;
pub mod device_cookie;
pub mod dry_run;
pub mod errors;
pub mod event_logs;
pub mod general;
pub mod policies;
pub mod sandbox;
pub mod session;
pub mod signing_keys;
pub mod status;
pub mod two_step;
pub mod workspaces;

/// Between the problems of an error that reports several ("field: problem" each), so that a
/// form shows each at its field. A record separator: no message holds one.
pub const PROBLEM_SEPARATOR: char = '\u{1e}';

/// What a server function answers (401) once the administrator's sign-in has ended.
pub const SESSION_ENDED: &str = "Your session has ended. Sign in again.";

/// What a server function answers (403) while the deployment requires two-step sign-in and
/// the administrator has not set it up.
pub const TWO_STEP_REQUIRED: &str = "This console requires two-step sign-in: set it up on your account page to go on.";

/// What a server function making a sensitive change answers (403) once the administrator last
/// gave their password in this session longer ago than `--console-confirm-minutes`: the page
/// then asks for it ([`auth::confirm_password`]) and tries again.
pub const CONFIRMATION_NEEDED: &str = "Confirm your password to do this.";

/// What sign-in answers when the password was right and the administrator signs in in two
/// steps: the page then asks for the code.
pub const CODE_NEEDED: &str = "Enter the code your authenticator app shows.";
