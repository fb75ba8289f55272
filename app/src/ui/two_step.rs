//! The account page's two-step sign-in: whether it is on; setting up an authenticator app (a
//! QR code, or the secret to type) and turning it on with a code from it; its recovery codes,
//! shown once when made; turning it off.

use leptos::prelude::*;

use super::components::{Badge, CopyButton, CopyField, FieldMessage, FormMessage, field_error, minute};
use crate::api::two_step::{DisableTwoStep, EnableTwoStep, NewRecoveryCodes, NewTwoStepSetup, two_step_sign_in};
use crate::domain::account::{MAX_PASSWORD_BYTES, RECOVERY_CODES_RUNNING_LOW, TwoStepSetup};

/// `changes` counts what this section changes (turned on or off, new recovery codes).
#[component]
pub fn TwoStepSection(changes: RwSignal<u32>) -> impl IntoView {
    let enable = ServerAction::<EnableTwoStep>::new();
    let disable = ServerAction::<DisableTwoStep>::new();
    let setup = ServerAction::<NewTwoStepSetup>::new();
    let new_codes = ServerAction::<NewRecoveryCodes>::new();
    let turned_on = move || enable.value().get().is_some_and(|result| result.is_ok());
    let turned_off = move || disable.value().get().is_some_and(|result| result.is_ok());
    // Read again after a change, not after a refusal: the form, with what was typed, stays.
    let codes_shown = RwSignal::new(None::<Vec<String>>);
    follow_changes(Actions { setup, enable, disable, new_codes }, changes, codes_shown);
    let status = Resource::new(move || changes.get(), |_| two_step_sign_in());
    let enabled = move || status.get().and_then(Result::ok).map(|status| status.enabled_at);
    let codes_left = move || status.get().and_then(Result::ok).map_or(0, |status| status.recovery_codes_left);
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
                                    {move || codes_shown.get().map(|codes| view! { <RecoveryCodes codes /> })}
                                    <RecoveryCodesLeft left=codes_left() new_codes />
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

/// The account page's two-step actions.
#[derive(Clone, Copy)]
struct Actions {
    setup: ServerAction<NewTwoStepSetup>,
    enable: ServerAction<EnableTwoStep>,
    disable: ServerAction<DisableTwoStep>,
    new_codes: ServerAction<NewRecoveryCodes>,
}

/// Counts `changes` at each action that changed something, and keeps in `codes_shown` the
/// recovery codes last made until it is turned off. Each action's own answer is followed on
/// its own, so an earlier answer of another (off, then on again) does not undo this one.
fn follow_changes(actions: Actions, changes: RwSignal<u32>, codes_shown: RwSignal<Option<Vec<String>>>) {
    let Actions { setup, enable, disable, new_codes } = actions;
    let count = move || changes.update(|changes| *changes += 1);
    Effect::new(move |_| {
        if let Some(Ok(codes)) = enable.value().get() {
            // The secret shown for setting up is gone from the page; turning it on again later
            // starts from a fresh one.
            setup.value().set(None);
            codes_shown.set(Some(codes));
            count();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(codes)) = new_codes.value().get() {
            codes_shown.set(Some(codes));
            count();
        }
    });
    Effect::new(move |_| {
        if disable.value().get().is_some_and(|result| result.is_ok()) {
            codes_shown.set(None);
            count();
        }
    });
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

/// Recovery codes just made, shown this once, to copy or download.
#[component]
fn RecoveryCodes(codes: Vec<String>) -> impl IntoView {
    let text = codes.join("\n");
    // Only [0-9a-z-] and line ends: nothing else to escape.
    let download = format!("data:text/plain;charset=utf-8,{}%0A", text.replace('\n', "%0A"));
    view! {
        <div class="recovery-codes" id="recovery-codes" role="region" aria-labelledby="recovery-codes-title">
            <h3 id="recovery-codes-title">"Your recovery codes"</h3>
            <p class="hint">
                "If you lose your phone, each of these signs you in once in place of a code from the app. Keep them apart from your phone (in a password manager, or printed): this is the only time they are shown."
            </p>
            <ul class="code-list mono">{codes.into_iter().map(|code| view! { <li>{code}</li> }).collect_view()}</ul>
            <div class="form-actions">
                <CopyButton text label="Copy the codes" />
                <a class="button secondary small" href=download download="onboard-recovery-codes.txt">
                    "Download"
                </a>
            </div>
        </div>
    }
}

/// "1 recovery code", "8 recovery codes".
pub fn recovery_codes(count: u32) -> String {
    if count == 1 { "1 recovery code".to_owned() } else { format!("{count} recovery codes") }
}

/// How many recovery codes are left, and making new ones (which ends the old ones) with a code
/// and the password.
#[component]
fn RecoveryCodesLeft(left: u32, new_codes: ServerAction<NewRecoveryCodes>) -> impl IntoView {
    let error = Signal::derive(move || new_codes.value().get().and_then(Result::err).map(|e| field_error(&e)));
    let pending = new_codes.pending();
    let (tone, state) = match left {
        0 => ("alert warning", "You have no recovery codes: make some, so a lost phone does not lock you out.".to_owned()),
        left if left <= RECOVERY_CODES_RUNNING_LOW => {
            ("alert warning", format!("You have {} left: make new ones soon.", recovery_codes(left)))
        }
        left => ("muted", format!("You have {} left.", recovery_codes(left))),
    };
    view! {
        <h3 class="subheading">"Recovery codes"</h3>
        <p class=tone id="recovery-codes-left">{state}</p>
        <details class="inline-form">
            <summary>"Make new recovery codes"</summary>
            <p class="hint">"New codes replace all the earlier ones, used or not."</p>
            <ActionForm action=new_codes attr:class="form-grid">
                <CodeAndPassword id="new-codes" code_label="Code from your app, or a recovery code" recovery=true error />
                <div class="form-actions">
                    <button type="submit" class="button secondary" disabled=pending>
                        {move || if pending.get() { "Making…" } else { "Make new recovery codes" }}
                    </button>
                </div>
            </ActionForm>
        </details>
    }
}

/// Turning it off: a code (from the app, or a recovery code) and the password.
#[component]
fn TurnOff(disable: ServerAction<DisableTwoStep>) -> impl IntoView {
    let error = Signal::derive(move || disable.value().get().and_then(Result::err).map(|e| field_error(&e)));
    let pending = disable.pending();
    view! {
        <h3 class="subheading">"Turn it off"</h3>
        <p class="hint">"Enter a code from your app (or a recovery code) and your password."</p>
        <ActionForm action=disable attr:class="form-grid">
            <CodeAndPassword id="disable" code_label="Code from your app, or a recovery code" recovery=true error />
            <div class="form-actions">
                <button type="submit" class="button secondary" disabled=pending>
                    {move || if pending.get() { "Turning off…" } else { "Turn off two-step sign-in" }}
                </button>
                <span class="hint">
                    "Lost your phone? Use a recovery code here, then set up the app again. Without one, an operator turns it off with onboard admin reset-two-step."
                </span>
            </div>
        </ActionForm>
    }
}

/// A code and the administrator's password, each with its message, as two-step sign-in's
/// changes ask for them (`{id}-code`, `{id}-password`); with `recovery`, a recovery code is
/// taken in place of the app's.
#[component]
fn CodeAndPassword(
    id: &'static str,
    code_label: &'static str,
    #[prop(optional)] recovery: bool,
    error: Signal<Option<(Option<String>, String)>>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=format!("{id}-code")>{code_label}</label>
            <CodeInput id=format!("{id}-code") recovery />
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
/// allowed as apps show them, offered by the phone's one-time-code autofill. With `recovery`,
/// a recovery code is taken too (letters, digits and hyphens: `7k2m-q9xd-4hvt-0bcn`).
#[component]
pub(super) fn CodeInput(#[prop(into)] id: String, #[prop(optional)] recovery: bool) -> impl IntoView {
    if recovery {
        view! {
            <input
                id=id
                name="code"
                class="mono"
                autocomplete="off"
                autocapitalize="none"
                spellcheck="false"
                maxlength="24"
                required
            />
        }
        .into_any()
    } else {
        view! { <input id=id name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="7" required /> }
            .into_any()
    }
}
