//! Administrators' console sessions as they see them on their account page: each sign-in, the
//! browser it came from, its address and when it was last used, so an administrator can tell a
//! session they do not know and end it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest a `User-Agent` kept for a session may be, in bytes; the rest is cut.
pub const MAX_USER_AGENT_BYTES: usize = 512;

/// A console sign-in as the database keeps it: the session's own record holds only its `id`.
/// It counts only while the administrator's password still has `password_mark`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSignIn {
    /// A time-ordered random id; it names the sign-in to its administrator and is no
    /// credential (the session cookie is).
    pub id: String,
    pub administrator_id: String,
    /// The mark of the password signed in with.
    pub password_mark: String,
    /// Epoch seconds.
    pub signed_in_at: i64,
    /// Epoch seconds, to within a minute: see [`LAST_SEEN_GRANULARITY_SECONDS`].
    pub last_seen_at: i64,
    /// Epoch seconds: when the administrator last proved their password in this session (at
    /// the sign-in, or asked to confirm it since): see [`ConsoleSignIn::confirmed_within`].
    pub confirmed_at: i64,
    /// The address the session was last used from.
    pub address: Option<String>,
    /// The browser's `User-Agent`, cut to [`MAX_USER_AGENT_BYTES`].
    pub user_agent: String,
}

impl ConsoleSignIn {
    /// Whether the administrator proved their password in this session within `window` of
    /// `now` (epoch seconds): if not, a sensitive change asks them to confirm it first.
    pub fn confirmed_within(&self, now: i64, window: chrono::Duration) -> bool {
        now - self.confirmed_at < window.num_seconds()
    }
}

/// A session's last use is written at most once in this many seconds.
pub const LAST_SEEN_GRANULARITY_SECONDS: i64 = 60;

/// The longest a sign-in lasts, in hours, however busy its session.
pub const SIGN_IN_LIFETIME_HOURS: i64 = 12;

/// How long a console session has left unless it is used, as its pages are told so they can
/// warn before it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTimeLeft {
    /// Seconds until the session ends; at least 1 while it is signed in.
    pub seconds: u64,
    /// Whether using the console would give it longer: false once the end is the sign-in's
    /// lifetime ([`SIGN_IN_LIFETIME_HOURS`]) rather than the idle time.
    pub renewable: bool,
    /// The deployment's idle time in minutes (`--console-idle-minutes`).
    pub idle_minutes: u32,
}

/// One of an administrator's sessions, as their account page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnSession {
    pub id: String,
    /// "Firefox on Linux" ([`browser_summary`]).
    pub browser: String,
    pub user_agent: String,
    pub address: Option<String>,
    pub signed_in_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The session this list was asked for from.
    pub current: bool,
}

/// A `User-Agent` as it is kept: control characters dropped, cut at a character boundary to at
/// most [`MAX_USER_AGENT_BYTES`].
pub fn kept_user_agent(user_agent: &str) -> String {
    let mut kept = String::new();
    for c in user_agent.trim().chars().filter(|c| !c.is_control()) {
        if kept.len() + c.len_utf8() > MAX_USER_AGENT_BYTES {
            break;
        }
        kept.push(c);
    }
    kept
}

/// A short name of the browser and system a `User-Agent` names ("Chrome on Windows"), enough to
/// tell one's own sessions apart. Browsers name others they resemble in their `User-Agent`
/// (every Chromium says Safari, Edge says Chrome), so the most particular is looked for first.
pub fn browser_summary(user_agent: &str) -> String {
    const BROWSERS: [(&str, &str); 9] = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Vivaldi/", "Vivaldi"),
        ("HeadlessChrome/", "Headless Chrome"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("CriOS/", "Chrome"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
    ];
    const SYSTEMS: [(&str, &str); 8] = [
        ("Windows", "Windows"),
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("CrOS", "ChromeOS"),
        ("Mac OS X", "macOS"),
        ("Macintosh", "macOS"),
        ("Linux", "Linux"),
    ];
    let browser = BROWSERS
        .iter()
        .find(|(token, _)| user_agent.contains(token))
        .map(|(_, name)| *name)
        .or_else(|| (user_agent.contains("Safari/") && user_agent.contains("Version/")).then_some("Safari"))
        .or_else(|| user_agent.starts_with("curl/").then_some("curl"));
    let system = SYSTEMS.iter().find(|(token, _)| user_agent.contains(token)).map(|(_, name)| *name);
    match (browser, system) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(browser), None) => browser.to_owned(),
        (None, Some(system)) => format!("A browser on {system}"),
        (None, None) if user_agent.is_empty() => "An unnamed browser".to_owned(),
        (None, None) => "An unknown browser".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_named_by_their_most_particular_token() {
        for (user_agent, summary) in [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge on Windows",
            ),
            ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
                "Headless Chrome on Linux",
            ),
            ("curl/8.5.0", "curl"),
            ("Mozilla/5.0 (X11; Linux x86_64) Something/1.0", "A browser on Linux"),
            ("Something/1.0", "An unknown browser"),
            ("", "An unnamed browser"),
        ] {
            assert_eq!(browser_summary(user_agent), summary, "{user_agent}");
        }
    }

    #[test]
    fn a_kept_user_agent_is_bounded_and_printable() {
        assert_eq!(kept_user_agent("  Firefox/133.0\u{7}\n "), "Firefox/133.0");
        let long = "é".repeat(MAX_USER_AGENT_BYTES);
        let kept = kept_user_agent(&long);
        assert!(kept.len() <= MAX_USER_AGENT_BYTES && kept.len() > MAX_USER_AGENT_BYTES - 2, "{}", kept.len());
        assert!(kept.chars().all(|c| c == 'é'));
    }
}
