//! Asks for the administrator's password again before a sensitive change, once the server
//! answers that they last gave it in this session too long ago
//! ([`crate::api::CONFIRMATION_NEEDED`], `--console-confirm-minutes`): a dialog over the page
//! asks for it, and once it is confirmed the change is made again as it was asked. Cancelled,
//! nothing is made, and the page's own message says why.

use std::sync::Arc;

use leptos::prelude::*;

use super::components::{FieldMessage, FormMessage, error_message, field_error, show_modal};
use crate::api::CONFIRMATION_NEEDED;
use crate::api::auth::confirm_password;

/// A change to make again once the password is confirmed.
type Retry = Arc<dyn Fn() + Send + Sync>;

/// The console's question for the password, one for every page: whether it is being asked, and
/// the change waiting for the answer.
#[derive(Clone, Copy)]
pub struct PasswordConfirmation {
    asked: RwSignal<bool>,
    waiting: StoredValue<Option<Retry>>,
}

impl PasswordConfirmation {
    /// Makes the question available to every page under the caller.
    pub fn provide() {
        provide_context(Self { asked: RwSignal::new(false), waiting: StoredValue::new(None) });
    }

    /// Asks for the password; `retry` makes the change again once it is given.
    fn ask(self, retry: Retry) {
        self.waiting.set_value(Some(retry));
        self.asked.set(true);
    }

    /// Stops asking; the change waiting, if `confirmed`, is made again.
    fn answered(self, confirmed: bool) {
        self.asked.set(false);
        let waiting = self.waiting.get_value();
        self.waiting.set_value(None);
        if let Some(retry) = waiting.filter(|_| confirmed) {
            retry();
        }
    }
}

/// Whether `error` is the server asking for the password before it makes a change.
pub fn asks_for_password(error: &ServerFnError) -> bool {
    error_message(error) == CONFIRMATION_NEEDED
}

/// Whenever `action` is answered that the password must be confirmed first, asks for it and
/// then dispatches `action` again with the input it was refused.
pub fn retried_after_confirmation<T, R>(action: Action<T, Result<R, ServerFnError>>)
where
    T: Clone + Send + Sync + 'static,
    R: Send + Sync + 'static,
{
    let Some(confirmation) = use_context::<PasswordConfirmation>() else {
        return;
    };
    // The input is the action's only while it runs: kept from its dispatch for the retry.
    let last_input = StoredValue::new(None::<T>);
    Effect::new(move |_| {
        if let Some(input) = action.input().get() {
            last_input.set_value(Some(input));
        }
    });
    Effect::new(move |_| {
        let refused = action.value().with(|answer| matches!(answer, Some(Err(error)) if asks_for_password(error)));
        if refused && let Some(input) = last_input.get_value() {
            confirmation.ask(Arc::new(move || {
                action.dispatch(input.clone());
            }));
        }
    });
}

/// The dialog that asks, shown over any signed-in page while [`PasswordConfirmation`] asks.
#[component]
pub fn PasswordConfirmationDialog() -> impl IntoView {
    let confirmation = use_context::<PasswordConfirmation>();
    let asked = Signal::derive(move || confirmation.is_some_and(|confirmation| confirmation.asked.get()));
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let password = RwSignal::new(String::new());
    let confirm = Action::new(|password: &String| confirm_password(password.clone()));
    // An answer belongs to the question it was given in: a new question shows none yet.
    let answered_now = RwSignal::new(false);
    let error = Signal::derive(move || {
        let answer = confirm.value().get().filter(|_| answered_now.get() && !confirm.pending().get());
        answer.and_then(Result::err).map(|error| field_error(&error))
    });
    Effect::new(move |_| {
        let shown = asked.get();
        if shown {
            password.set(String::new());
            answered_now.set(false);
        }
        show_modal(dialog, shown, shown.then_some("input"));
    });
    Effect::new(move |_| {
        if let (Some(Ok(())), Some(confirmation)) = (confirm.value().get(), confirmation) {
            password.set(String::new());
            confirmation.answered(true);
        }
    });
    let cancel = move || {
        if let Some(confirmation) = confirmation {
            confirmation.answered(false);
        }
    };
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        answered_now.set(true);
        confirm.dispatch(password.get_untracked());
    };
    view! {
        <dialog
            class="session-dialog"
            node_ref=dialog
            aria-labelledby="identity-check-title"
            aria-describedby="identity-check-text"
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
                            <h2 id="identity-check-title">"Confirm it's you"</h2>
                            <p id="identity-check-text">
                                "This change needs your password: some time has passed since you last gave it. Once you confirm, the change is made."
                            </p>
                            <div class="field">
                                <label for="identity-check-password">"Password"</label>
                                <input id="identity-check-password" type="password" autocomplete="current-password" bind:value=password />
                                <FieldMessage field="password" error />
                            </div>
                            <FormMessage error fields=&["password"] />
                            <div class="dialog-actions">
                                <button type="submit" class="button" disabled=move || confirm.pending().get()>
                                    {move || if confirm.pending().get() { "Confirming…" } else { "Confirm and continue" }}
                                </button>
                                <button type="button" class="button secondary" on:click=move |_| cancel()>
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
