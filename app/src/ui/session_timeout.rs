//! Warns before a console session ends unused, so an administrator part-way through a form can
//! stay signed in rather than lose their changes (WCAG 2.2.1, "Timing Adjustable"). The page
//! asks the server how long its session has left (asking does not keep it signed in), so a
//! use of it elsewhere, in another tab or by a save on this page, is seen: the page warns only
//! when the server says the end is near, and says so when the session has ended.

use leptos::prelude::*;

use super::components::show_modal;
use crate::api::auth::{SignOut, session_remaining, stay_signed_in};
use crate::domain::console_session::{SIGN_IN_LIFETIME_HOURS, SessionTimeLeft};

/// How long before a session ends its page warns.
const WARN_SECONDS: u64 = 120;

/// While warning, how often the page asks again (the session may have been used elsewhere).
const ASK_WHILE_WARNING_SECONDS: u64 = 20;

/// How soon the page asks again after the server could not answer.
const ASK_AFTER_FAILURE_SECONDS: u64 = 30;

/// What a page does with its session's time left: whether to warn now, and in how many
/// seconds to ask again.
fn plan(left: SessionTimeLeft) -> (bool, u64) {
    if left.seconds > WARN_SECONDS {
        (false, left.seconds - WARN_SECONDS)
    } else {
        (true, left.seconds.clamp(1, ASK_WHILE_WARNING_SECONDS))
    }
}

/// "1 minute 5 seconds": a time left as a sentence says it.
fn in_words(seconds: u64) -> String {
    let unit = |count: u64, one: &str| if count == 1 { format!("1 {one}") } else { format!("{count} {one}s") };
    match (seconds / 60, seconds % 60) {
        (0, seconds) => unit(seconds, "second"),
        (minutes, 0) => unit(minutes, "minute"),
        (minutes, seconds) => format!("{} {}", unit(minutes, "minute"), unit(seconds, "second")),
    }
}

/// What the page tells the administrator about their session. A time is on the page's clock
/// ([`page_clock`]), in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Notice {
    /// Nothing: the end is not near.
    Quiet,
    /// It ends unused at `ends_at`; using the console gives it longer.
    Idle { ends_at: f64 },
    /// It ends at `ends_at` whatever is done: the sign-in's lifetime is up.
    Expiring { ends_at: f64 },
    /// It has ended.
    Ended,
}

impl Notice {
    fn ends_at(self) -> Option<f64> {
        match self {
            Self::Idle { ends_at } | Self::Expiring { ends_at } => Some(ends_at),
            Self::Quiet | Self::Ended => None,
        }
    }

    fn same_kind(self, other: Self) -> bool {
        std::mem::discriminant(&self) == std::mem::discriminant(&other)
    }
}

/// Milliseconds on the page's monotonic clock, which keeps time while a background tab's
/// timers are held back.
fn page_clock() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        window().performance().map_or(0.0, |performance| performance.now())
    }
    #[cfg(not(feature = "hydrate"))]
    0.0
}

/// The page's watch over its session: what it shows, and the one question to the server it
/// waits to ask (a newer one replaces it). The page may be gone when a timer or an answer
/// comes: a watch outliving its signals leaves them alone.
#[derive(Clone, Copy)]
struct Watch {
    notice: RwSignal<Notice>,
    idle_minutes: RwSignal<u32>,
    /// The administrator closed the notice shown, which using the console cannot lift.
    dismissed: RwSignal<bool>,
    next_question: StoredValue<u64>,
    /// The page's clock, read each second while a notice counts down.
    now: RwSignal<f64>,
    ticking: StoredValue<bool>,
}

impl Watch {
    fn new() -> Self {
        Self {
            notice: RwSignal::new(Notice::Quiet),
            idle_minutes: RwSignal::new(0),
            dismissed: RwSignal::new(false),
            next_question: StoredValue::new(0),
            now: RwSignal::new(page_clock()),
            ticking: StoredValue::new(false),
        }
    }

    /// Asks how long the session has left.
    fn ask(self) {
        leptos::task::spawn_local(async move { self.heard(session_remaining().await) });
    }

    /// Keeps the session signed in.
    fn stay(self) {
        leptos::task::spawn_local(async move { self.heard(stay_signed_in().await) });
    }

    /// Asks again in `seconds`, unless asked again sooner.
    fn ask_in(self, seconds: u64) {
        let Some(question) = self.next_question.try_get_value().map(|asked| asked + 1) else {
            return;
        };
        self.next_question.set_value(question);
        set_timeout(
            move || {
                if self.next_question.try_get_value() == Some(question) {
                    self.ask();
                }
            },
            std::time::Duration::from_secs(seconds),
        );
    }

    fn heard(self, answer: Result<SessionTimeLeft, ServerFnError>) {
        match answer {
            Ok(left) => {
                let (warn, ask_in) = plan(left);
                // Milliseconds in an f64 are exact far beyond any session's length.
                #[allow(clippy::cast_precision_loss)]
                let ends_at = page_clock() + (left.seconds * 1000) as f64;
                self.idle_minutes.try_set(left.idle_minutes);
                self.tell(match (warn, left.renewable) {
                    (false, _) => Notice::Quiet,
                    (true, true) => Notice::Idle { ends_at },
                    (true, false) => Notice::Expiring { ends_at },
                });
                self.ask_in(ask_in);
            }
            Err(error) if super::components::error_message(&error) == crate::api::SESSION_ENDED => self.tell(Notice::Ended),
            // The server or the network failing says nothing of the session: ask again soon.
            Err(_) => self.ask_in(ASK_AFTER_FAILURE_SECONDS),
        }
    }

    /// Shows `notice`; one of a new kind is shown even if the last was closed.
    fn tell(self, notice: Notice) {
        let Some(before) = self.notice.try_get_untracked() else {
            return;
        };
        if !before.same_kind(notice) {
            self.dismissed.set(false);
        }
        self.notice.set(notice);
        if notice.ends_at().is_some() && !self.ticking.get_value() {
            self.ticking.set_value(true);
            self.now.set(page_clock());
            self.tick();
        }
    }

    /// Reads the page's clock each second while the notice counts down.
    fn tick(self) {
        set_timeout(
            move || {
                let counting_down = self.notice.try_get_untracked().and_then(Notice::ends_at).is_some();
                if counting_down && self.now.try_set(page_clock()).is_none() {
                    self.tick();
                } else {
                    self.ticking.try_set_value(false);
                }
            },
            std::time::Duration::from_secs(1),
        );
    }

    /// Whether the dialog shows: a notice is up and not closed (a warning that using the
    /// console lifts cannot be closed but by staying signed in or signing out).
    fn shown(self) -> bool {
        match self.notice.get() {
            Notice::Quiet => false,
            Notice::Idle { .. } => true,
            Notice::Expiring { .. } | Notice::Ended => !self.dismissed.get(),
        }
    }
}

/// Whole seconds from the page's clock at `now` to `ends_at`.
fn seconds_until(ends_at: f64, now: f64) -> u64 {
    // Rounded up, so "0 seconds" is never shown while the session is still signed in.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let seconds = ((ends_at - now) / 1000.0).ceil().max(0.0) as u64;
    seconds
}

/// The warning dialog of a signed-in page: asks the server when the session ends, warns
/// [`WARN_SECONDS`] before, offers to stay signed in, and says when it has ended.
#[component]
pub fn SessionTimeout() -> impl IntoView {
    let watch = Watch::new();
    let Watch { notice, idle_minutes, dismissed, now, .. } = watch;
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let sign_out = ServerAction::<SignOut>::new();
    // Effects run only in the browser, once the page is hydrated.
    Effect::new(move |_| watch.ask());
    Effect::new(move |shown_before: Option<Option<Notice>>| {
        let shown = watch.shown().then(|| notice.get());
        let new_kind = match (shown, shown_before.flatten()) {
            (Some(shown), Some(before)) => !shown.same_kind(before),
            (shown, _) => shown.is_some(),
        };
        show_modal(dialog, shown.is_some(), new_kind.then_some("button"));
        shown
    });
    // Escape keeps the session, as "Stay signed in" does, or closes a notice nothing can lift.
    let escape = move |event: leptos::ev::Event| {
        event.prevent_default();
        match notice.get_untracked() {
            Notice::Idle { .. } => watch.stay(),
            _ => dismissed.set(true),
        }
    };
    let time_left = move || notice.get().ends_at().map(|ends_at| in_words(seconds_until(ends_at, now.get())));
    let content = move || match notice.get() {
        Notice::Quiet => ().into_any(),
        Notice::Idle { .. } => view! {
            <h2 id="session-dialog-title">"Your session is about to end"</h2>
            <p id="session-dialog-text">
                "You will be signed out in " <strong>{time_left}</strong> ": the console signs you out after "
                {move || idle_minutes.get()} " minutes without use. Changes you have not saved would be lost."
            </p>
            <div class="dialog-actions">
                <button type="button" class="button" on:click=move |_| watch.stay()>
                    "Stay signed in"
                </button>
                <ActionForm action=sign_out>
                    <button type="submit" class="button secondary">
                        "Sign out"
                    </button>
                </ActionForm>
            </div>
        }
        .into_any(),
        Notice::Expiring { .. } => view! {
            <h2 id="session-dialog-title">"Your sign-in is about to expire"</h2>
            <p id="session-dialog-text">
                "You will be signed out in " <strong>{time_left}</strong> ": a sign-in lasts at most "
                {SIGN_IN_LIFETIME_HOURS} " hours, however busy. Save your changes, then sign in again."
            </p>
            <div class="dialog-actions">
                <button type="button" class="button" on:click=move |_| dismissed.set(true)>
                    "Got it"
                </button>
            </div>
        }
        .into_any(),
        Notice::Ended => view! {
            <h2 id="session-dialog-title">"You have been signed out"</h2>
            <p id="session-dialog-text">
                "This session has ended: it went unused, reached its " {SIGN_IN_LIFETIME_HOURS}
                " hours, or was signed out elsewhere. Copy anything you had not saved, then sign in again."
            </p>
            <div class="dialog-actions">
                <button type="button" class="button" on:click=move |_| sign_in_again()>
                    "Sign in again"
                </button>
                <button type="button" class="button secondary" on:click=move |_| dismissed.set(true)>
                    "Close"
                </button>
            </div>
        }
        .into_any(),
    };
    view! {
        <dialog
            class="session-dialog"
            node_ref=dialog
            aria-labelledby="session-dialog-title"
            aria-describedby="session-dialog-text"
            on:cancel=escape
        >
            {content}
        </dialog>
    }
}

/// Leaves for the sign-in page, which returns here once signed in.
pub(super) fn sign_in_again() {
    #[cfg(feature = "hydrate")]
    {
        let location = window().location();
        let here = format!("{}{}", location.pathname().unwrap_or_default(), location.search().unwrap_or_default());
        let next: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
        let _ = location.set_href(&format!("/app/login?next={next}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn left(seconds: u64) -> SessionTimeLeft {
        SessionTimeLeft { seconds, renewable: true, idle_minutes: 30 }
    }

    #[test]
    fn a_page_asks_again_when_the_warning_is_due_and_warns_from_then_on() {
        assert_eq!(plan(left(30 * 60 + 61)), (false, 30 * 60 + 61 - WARN_SECONDS));
        assert_eq!(plan(left(WARN_SECONDS + 1)), (false, 1));
        assert_eq!(plan(left(WARN_SECONDS)), (true, ASK_WHILE_WARNING_SECONDS));
        // Near the end it asks at the end, when the server says it has ended; never at once.
        assert_eq!(plan(left(7)), (true, 7));
        assert_eq!(plan(left(0)), (true, 1));
    }

    #[test]
    fn time_left_is_said_in_words() {
        assert_eq!(in_words(120), "2 minutes");
        assert_eq!(in_words(65), "1 minute 5 seconds");
        assert_eq!(in_words(61), "1 minute 1 second");
        assert_eq!(in_words(60), "1 minute");
        assert_eq!(in_words(1), "1 second");
        assert_eq!(in_words(0), "0 seconds");
    }

    #[test]
    fn the_count_down_rounds_up_and_stops_at_nothing() {
        assert_eq!(seconds_until(10_000.0, 0.0), 10);
        assert_eq!(seconds_until(10_000.0, 9_001.0), 1);
        assert_eq!(seconds_until(10_000.0, 10_000.0), 0);
        assert_eq!(seconds_until(10_000.0, 12_000.0), 0);
    }
}
