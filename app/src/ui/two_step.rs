//! The account page's two-step sign-in: whether it is on; setting up an authenticator app (a
//! QR code, or the secret to type) and turning it on with a code from it; turning it off.

use leptos::prelude::*;

use super::components::{Badge, CopyField, FieldMessage, FormMessage, field_error, minute};
use crate::api::two_step::{DisableTwoStep, EnableTwoStep, NewTwoStepSetup, two_step_sign_in};
use crate::domain::account::{MAX_PASSWORD_BYTES, TwoStepSetup};

#[component]
pub fn TwoStepSection() -> impl IntoView {
    let enable = ServerAction::<EnableTwoStep>::new();
    let disable = ServerAction::<DisableTwoStep>::new();
    let setup = ServerAction::<NewTwoStepSetup>::new();
    let turned_on = move || enable.value().get().is_some_and(|result| result.is_ok());
    let turned_off = move || disable.value().get().is_some_and(|result| result.is_ok());
    // Read again after a change, not after a refusal: the form, with what was typed, stays.
    let changes = RwSignal::new(0_u32);
    Effect::new(move |_| {
        if turned_on() || turned_off() {
            changes.update(|changes| *changes += 1);
        }
        // Once on, the secret shown for setting up is gone from the page; turning it on again
        // later starts from a fresh one.
        if turned_on() {
            setup.value().set(None);
        }
    });
    let status = Resource::new(move || changes.get(), |_| two_step_sign_in());
    let enabled = move || status.get().and_then(Result::ok).map(|status| status.enabled_at);
    let required = move || status.get().and_then(Result::ok).is_some_and(|status| status.required);
    view! {
        <section class="card" aria-labelledby="two-step-title">
            <div class="card-header">
                <h2 id="two-step-title">"Two-step sign-in"</h2>
                <Transition fallback=|| ()>
                    {move || {
                        enabled()
                            .map(|on| match on {
                                Some(_) => view! { <Badge text="On" tone="ok" /> }.into_any(),
                                None => view! { <Badge text="Off" tone="neutral" /> }.into_any(),
                            })
                    }}
                </Transition>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    enabled()
                        .map(|on| match on {
                            Some(since) => {
                                view! {
                                    <p class="muted" id="two-step-state">
                                        {format!(
                                            "On since {} UTC: you sign in with your password and the code your authenticator app shows.",
                                            minute(since),
                                        )}
                                    </p>
                                    {move || {
                                        turned_on()
                                            .then(|| {
                                                view! {
                                                    <p class="alert ok" role="status">
                                                        "Two-step sign-in is on, and your other sessions are signed out. Keep your authenticator app at hand: every sign-in needs it. "
                                                        {required().then(|| view! { <a href="/app">"Go on to the console"</a> })}
                                                    </p>
                                                }
                                            })
                                    }}
                                    <TurnOff disable />
                                }
                                    .into_any()
                            }
                            None => {
                                view! {
                                    <p class="muted" id="two-step-state">
                                        "Off: you sign in with your password alone. Turn it on to sign in with a code from an authenticator app on your phone as well, so a stolen password is not enough."
                                    </p>
                                    {move || {
                                        turned_off().then(|| view! { <p class="alert ok" role="status">"Two-step sign-in is off."</p> })
                                    }}
                                    {move || {
                                        required()
                                            .then(|| {
                                                view! {
                                                    <p class="alert warning" role="alert" id="two-step-required">
                                                        "This console requires two-step sign-in: set up an authenticator app to go on."
                                                    </p>
                                                }
                                            })
                                    }}
                                    <SetUp setup enable />
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </section>
    }
}

/// Setting up an app: a fresh secret on request, then its code and the password turn it on.
#[component]
fn SetUp(setup: ServerAction<NewTwoStepSetup>, enable: ServerAction<EnableTwoStep>) -> impl IntoView {
    let error = Signal::derive(move || enable.value().get().and_then(Result::err).map(|e| field_error(&e)));
    let setup_error = move || setup.value().get().and_then(Result::err).map(|e| super::components::error_message(&e));
    let shown = move || setup.value().get().and_then(Result::ok);
    let pending = enable.pending();
    view! {
        {move || match shown() {
            None => {
                view! {
                    <button
                        type="button"
                        class="button"
                        on:click=move |_| {
                            setup.dispatch(NewTwoStepSetup {});
                        }
                        disabled=move || setup.pending().get()
                    >
                        "Set up an authenticator app"
                    </button>
                    {move || setup_error().map(|message| view! { <p class="alert error" role="alert">{message}</p> })}
                }
                    .into_any()
            }
            Some(TwoStepSetup { secret, uri, qr_code }) => {
                view! {
                    <div class="two-step-setup">
                        <img
                            class="qr-code"
                            src=qr_code
                            alt="QR code for your authenticator app"
                            width="200"
                            height="200"
                        />
                        <div class="setup-steps">
                            <ol class="steps">
                                <li>"Scan the QR code with an authenticator app (any that supports time-based codes), or type the key below into it."</li>
                                <li>"Enter the six-digit code it shows for Onboard, and your password."</li>
                            </ol>
                            // On a phone, the app is on the device showing the code: it opens the address.
                            <a class="button secondary small" href=uri>
                                "Open in an authenticator app on this device"
                            </a>
                        </div>
                    </div>
                    <CopyField label="Key, to type into the app" value=secret id="two-step-secret" />
                    <ActionForm action=enable attr:class="form-grid">
                        <CodeAndPassword id="enable" code_label="Code from the app" error />
                        <div class="form-actions">
                            <button type="submit" class="button" disabled=pending>
                                {move || if pending.get() { "Turning on…" } else { "Turn on two-step sign-in" }}
                            </button>
                        </div>
                    </ActionForm>
                }
                    .into_any()
            }
        }}
    }
}

/// Turning it off: a code from the app and the password.
#[component]
fn TurnOff(disable: ServerAction<DisableTwoStep>) -> impl IntoView {
    let error = Signal::derive(move || disable.value().get().and_then(Result::err).map(|e| field_error(&e)));
    let pending = disable.pending();
    view! {
        <p class="hint spaced">"To turn it off, enter a code from your app and your password."</p>
        <ActionForm action=disable attr:class="form-grid">
            <CodeAndPassword id="disable" code_label="Code from your app" error />
            <div class="form-actions">
                <button type="submit" class="button secondary" disabled=pending>
                    {move || if pending.get() { "Turning off…" } else { "Turn off two-step sign-in" }}
                </button>
                <span class="hint">"Lost your phone? An operator turns it off with onboard admin reset-two-step."</span>
            </div>
        </ActionForm>
    }
}

/// A code from the app and the administrator's password, each with its message, as turning
/// two-step sign-in on and off ask for them (`{id}-code`, `{id}-password`).
#[component]
fn CodeAndPassword(id: &'static str, code_label: &'static str, error: Signal<Option<(Option<String>, String)>>) -> impl IntoView {
    view! {
        <div class="field">
            <label for=format!("{id}-code")>{code_label}</label>
            <CodeInput id=format!("{id}-code") />
            <FieldMessage field="code" error />
        </div>
        <div class="field">
            <label for=format!("{id}-password")>"Your password"</label>
            <input
                id=format!("{id}-password")
                name="password"
                type="password"
                autocomplete="current-password"
                maxlength=MAX_PASSWORD_BYTES
                required
            />
            <FieldMessage field="password" error />
        </div>
        <FormMessage error fields=&["code", "password"] />
    }
}

/// The input of a code from an authenticator app (`name="code"`): six digits, a space
/// allowed as apps show them, offered by the phone's one-time-code autofill.
#[component]
pub(super) fn CodeInput(#[prop(into)] id: String) -> impl IntoView {
    view! { <input id=id name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="7" required /> }
}
