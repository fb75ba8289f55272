//! What the event logs share (a workspace's audit log, [`super::audit`], and administrators'
//! activity, [`super::activity`]): an event's outcome, the filter a list is read with, and
//! text made storable.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::oauth::UnknownValue;

/// Whether the attempt succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }
}

impl FromStr for Outcome {
    type Err = UnknownValue;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "success" => Ok(Self::Success),
            "failure" => Ok(Self::Failure),
            other => Err(UnknownValue(other.to_owned())),
        }
    }
}

/// Text as every store can keep it: U+0000, which PostgreSQL's `text` cannot hold (the event
/// would be lost), becomes U+FFFD. What a refused request named reaches the audit log
/// unverified, so this is applied to it.
pub fn storable(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

/// The longest an administrator's value is quoted in an event's detail, in characters.
const QUOTED_CHARS: usize = 120;

/// A value an administrator typed, as an event's detail names it: in single quotes, with
/// quotes, separators' look-alikes and control characters escaped (so it cannot read as a
/// change of its own), and cut to [`QUOTED_CHARS`] with "…".
pub fn quoted(text: &str) -> String {
    let (kept, more) = cut(text, QUOTED_CHARS);
    format!("'{}{more}'", kept.escape_debug())
}

/// The first `chars` characters of `text`, and "…" if that left some out.
fn cut(text: &str, chars: usize) -> (&str, &'static str) {
    match text.char_indices().nth(chars) {
        Some((end, _)) => (&text[..end], "…"),
        None => (text, ""),
    }
}

/// The longest an event's detail is kept, in characters: a bundle of a thousand CAs is named,
/// but not without end.
pub const MAX_DETAIL_CHARS: usize = 4000;

/// A detail as it is recorded: storable, and cut to [`MAX_DETAIL_CHARS`] with "…".
pub fn recordable_detail(detail: &str) -> String {
    let (kept, more) = cut(detail, MAX_DETAIL_CHARS);
    storable(&format!("{kept}{more}"))
}

/// Which events a list shows, newest first: of a workspace's audit log
/// ([`AuditEventType`](super::audit::AuditEventType)) or of administrators' activity
/// ([`AdministratorEventType`](super::activity::AdministratorEventType)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFilter<Kind> {
    pub event_type: Option<Kind>,
    pub outcome: Option<Outcome>,
    /// Show events older than this id (for paging).
    pub before_id: Option<i64>,
    pub limit: u32,
}

impl<Kind> Default for EventFilter<Kind> {
    fn default() -> Self {
        Self { event_type: None, outcome: None, before_id: None, limit: 0 }
    }
}

impl<Kind> EventFilter<Kind> {
    pub const MAX_LIMIT: u32 = 500;

    pub fn effective_limit(&self) -> u32 {
        match self.limit {
            0 => 100,
            n => n.min(Self::MAX_LIMIT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_are_quoted_escaped_and_cut() {
        assert_eq!(quoted("it's"), "'it\\'s'");
        assert_eq!(quoted("a\nb"), "'a\\nb'");
        let long = "é".repeat(QUOTED_CHARS + 1);
        assert_eq!(quoted(&long), format!("'{}…'", "é".repeat(QUOTED_CHARS)));
        assert_eq!(quoted(&"é".repeat(QUOTED_CHARS)), format!("'{}'", "é".repeat(QUOTED_CHARS)));
        assert_eq!(recordable_detail("a\0b"), "a\u{FFFD}b");
        assert_eq!(recordable_detail(&"x".repeat(MAX_DETAIL_CHARS + 5)).chars().count(), MAX_DETAIL_CHARS + 1);
    }
}
