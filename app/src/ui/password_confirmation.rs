//! Asks for the administrator's password again before a sensitive change, once the server
//! answers that they last gave it in this session too long ago
//! ([`crate::api::CONFIRMATION_NEEDED`], `--console-confirm-minutes`): a dialog over the page
//! asks for it, and once it is confirmed each change waiting is made again as it was asked.
//! Cancelled, or left for another page, nothing is made, and the page's own message says why.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::components::{FieldMessage, FormMessage, error_message, field_error, show_modal};
use crate::api::CONFIRMATION_NEEDED;
use crate::api::auth::{confirm_password, password_confirmation_minutes};

/// The field the dialog puts the focus in (not the hidden one naming the account).
const PASSWORD_INPUT: &str = "input[type=password]";

/// A change to make again once the password is confirmed.
type Retry = Arc<dyn Fn() + Send + Sync>;

/// The console's question for the password, one for every page: whether it is being asked, for
/// what (the change that asked last, e.g. "delete this application"), and the changes waiting
/// for the answer, each under the id of the action that asked.
#[derive(Clone, Copy)]
pub struct PasswordConfirmation {
    asked: RwSignal<bool>,
    asked_for: RwSignal<&'static str>,
    waiting: StoredValue<Vec<(u64, Retry)>>,
    next_id: StoredValue<u64>,
}

impl PasswordConfirmation {
    /// Makes the question available to every page under the caller.
    pub fn provide() {
        provide_context(Self {
            asked: RwSignal::new(false),
            asked_for: RwSignal::new(""),
            waiting: StoredValue::new(Vec::new()),
            next_id: StoredValue::new(0),
        });
    }

    /// Whether the password is being asked for now.
    pub fn asking(self) -> bool {
        self.asked.get()
    }

    fn new_id(self) -> u64 {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        id
    }

    /// Asks for the password to make `what`; `retry` makes action `id`'s change again once it
    /// is given (an earlier retry of the same action is replaced).
    fn ask(self, id: u64, what: &'static str, retry: Retry) {
        self.waiting.update_value(|waiting| {
            waiting.retain(|(waiting_id, _)| *waiting_id != id);
            waiting.push((id, retry));
        });
        self.asked_for.set(what);
        self.asked.set(true);
    }

    /// Action `id` is gone (its page left): its change is not made, and with nothing left
    /// waiting, nothing is asked.
    fn withdraw(self, id: u64) {
        let Some(left) = self.waiting.try_update_value(|waiting| {
            waiting.retain(|(waiting_id, _)| *waiting_id != id);
            waiting.len()
        }) else {
            return;
        };
        if left == 0 {
            self.asked.try_set(false);
        }
    }

    /// Stops asking; the changes waiting, if `confirmed`, are made again.
    fn answered(self, confirmed: bool) {
        self.asked.set(false);
        let waiting = std::mem::take(&mut *self.waiting.write_value());
        if confirmed {
            for (_, retry) in waiting {
                retry();
            }
        }
    }
}

/// Whether `error` is the server asking for the password before it makes a change.
pub fn asks_for_password(error: &ServerFnError) -> bool {
    error_message(error) == CONFIRMATION_NEEDED
}

/// An action's answer that may be the server asking for the password first.
pub trait Answer {
    fn asks_for_password(&self) -> bool;
}

impl<R> Answer for Result<R, ServerFnError> {
    fn asks_for_password(&self) -> bool {
        self.as_ref().err().is_some_and(asks_for_password)
    }
}

/// An answer kept with what it answers (e.g. the software a registration was tried for).
impl<K, R> Answer for (K, Result<R, ServerFnError>) {
    fn asks_for_password(&self) -> bool {
        self.1.asks_for_password()
    }
}

/// Whenever `action` is answered that the password must be confirmed first, asks for it (to
/// make `what`: "delete this application") and then dispatches `action` again with the input
/// it was refused. Once the action is gone (its page left), its change waits no more.
pub fn retried_after_confirmation<T, O>(action: Action<T, O>, what: &'static str)
where
    T: Clone + Send + Sync + 'static,
    O: Answer + Send + Sync + 'static,
{
    let Some(confirmation) = use_context::<PasswordConfirmation>() else {
        return;
    };
    let id = confirmation.new_id();
    // The input is the action's only while it runs: kept from its dispatch for the retry.
    let last_input = StoredValue::new(None::<T>);
    Effect::new(move |_| {
        if let Some(input) = action.input().get() {
            last_input.set_value(Some(input));
        }
    });
    Effect::new(move |_| {
        let refused = action.value().with(|answer| answer.as_ref().is_some_and(Answer::asks_for_password));
        if refused && let Some(input) = last_input.get_value() {
            confirmation.ask(
                id,
                what,
                Arc::new(move || {
                    action.dispatch(input.clone());
                }),
            );
        }
    });
    on_cleanup(move || confirmation.withdraw(id));
}

/// The dialog that asks, shown over any signed-in page while [`PasswordConfirmation`] asks.
/// Leaving the page (another path) cancels the question.
#[component]
pub fn PasswordConfirmationDialog(
    /// The administrator's address, for password managers to fill the right account's password.
    email: Signal<Option<String>>,
) -> impl IntoView {
    let confirmation = use_context::<PasswordConfirmation>();
    let asked = Signal::derive(move || confirmation.is_some_and(PasswordConfirmation::asking));
    let asked_for = Signal::derive(move || confirmation.map(|confirmation| confirmation.asked_for.get()).unwrap_or_default());
    // How long a given password counts: read when a question is first asked, and kept.
    let ever_asked = Memo::new(move |before: Option<&bool>| before.copied().unwrap_or_default() || asked.get());
    let minutes = LocalResource::new(move || {
        let needed = ever_asked.get();
        async move { if needed { password_confirmation_minutes().await.ok() } else { None } }
    });
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let password = RwSignal::new(String::new());
    let confirm = Action::new(|password: &String| confirm_password(password.clone()));
    // An answer belongs to the question it was given in: a new question shows none yet.
    let answered_now = RwSignal::new(false);
    let error = Signal::derive(move || {
        let answer = confirm.value().get().filter(|_| answered_now.get() && !confirm.pending().get());
        answer.and_then(Result::err).map(|error| field_error(&error))
    });
    let cancel = move || {
        // An answer on its way decides: one that comes after a cancel is not taken for the next.
        if let Some(confirmation) = confirmation.filter(|_| !confirm.pending().get_untracked()) {
            password.set(String::new());
            confirmation.answered(false);
        }
    };
    Effect::new(move |_| {
        let shown = asked.get();
        if shown {
            password.set(String::new());
            answered_now.set(false);
        }
        show_modal(dialog, shown, shown.then_some(PASSWORD_INPUT));
    });
    Effect::new(move |_| {
        if let (Some(Ok(())), Some(confirmation)) = (confirm.value().get(), confirmation) {
            password.set(String::new());
            confirmation.answered(true);
        }
    });
    // Refused, the password is there to be typed again.
    Effect::new(move |_| {
        if error.with(Option::is_some) {
            show_modal(dialog, true, Some(PASSWORD_INPUT));
        }
    });
    let location = use_location();
    Effect::new(move |previous: Option<String>| {
        let path = location.pathname.get();
        if previous.is_some_and(|previous| previous != path) {
            cancel();
        }
        path
    });
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        answered_now.set(true);
        confirm.dispatch(password.get_untracked());
    };
    view! {
        <dialog
            class="session-dialog"
            node_ref=dialog
            aria-labelledby="password-confirmation-title"
            aria-describedby="password-confirmation-text"
            on:cancel=move |event: leptos::ev::Event| {
                event.prevent_default();
                cancel();
            }
        >
            // Drawn only while asked: a page holds no second password field unseen.
            {move || {
                asked.get().then(|| {
                    view! {
                        <form on:submit=submit novalidate>
                            <h2 id="password-confirmation-title">"Confirm it's you"</h2>
                            <p id="password-confirmation-text">
                                {move || confirmation_text(asked_for.get(), minutes.get().flatten())}
                            </p>
                            <input type="email" name="username" autocomplete="username" hidden readonly prop:value=move || email.get().unwrap_or_default() />
                            <div class="field">
                                <label for="password-confirmation-password">"Password"</label>
                                <input id="password-confirmation-password" type="password" autocomplete="current-password" bind:value=password />
                                <FieldMessage field="password" error />
                            </div>
                            <FormMessage error fields=&["password"] />
                            <div class="dialog-actions">
                                <button type="submit" class="button" disabled=move || confirm.pending().get()>
                                    {move || if confirm.pending().get() { "Confirming…" } else { "Confirm and continue" }}
                                </button>
                                <button type="button" class="button secondary" disabled=move || confirm.pending().get() on:click=move |_| cancel()>
                                    "Cancel"
                                </button>
                            </div>
                        </form>
                    }
                })
            }}
        </dialog>
    }
}

/// What the dialog says: the change waiting (`what`), and how long ago the password was last
/// given, once known.
fn confirmation_text(what: &str, minutes: Option<i64>) -> String {
    let change = if what.is_empty() { "make this change".to_owned() } else { what.to_owned() };
    let since = match minutes {
        Some(minutes) if minutes > 0 => format!("more than {minutes} minute{} ago", if minutes == 1 { "" } else { "s" }),
        _ => "a while ago".to_owned(),
    };
    format!("To {change}, confirm your password: you last gave it in this session {since}. Once you confirm, it is done.")
}

#[cfg(test)]
mod tests {
    use super::confirmation_text;

    #[test]
    fn the_question_names_the_change_and_how_long_ago() {
        assert_eq!(
            confirmation_text("delete this application", Some(15)),
            "To delete this application, confirm your password: you last gave it in this session more than 15 minutes ago. \
             Once you confirm, it is done."
        );
        assert!(confirmation_text("", None).starts_with("To make this change,"));
        assert!(confirmation_text("rotate the signing key", Some(1)).contains("more than 1 minute ago"));
        assert!(confirmation_text("rotate the signing key", None).contains("a while ago"));
    }
}
