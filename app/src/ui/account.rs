//! `/app/account`: the signed-in administrator's own account: their sessions, which they can
//! end, two-step sign-in, and changing their password.

use leptos::prelude::*;
use leptos_meta::Title;

use super::components::{Badge, FieldMessage, FormMessage, error_message, field_error, minute, or_dash};
use super::layout::TopBar;
use super::two_step::{CodeInput, TwoStepSection};
use crate::api::account::{ChangePassword, EndOtherSessions, EndSession, own_sessions};
use crate::api::auth::current_administrator;
use crate::api::two_step::two_step_sign_in;
use crate::domain::account::{Administrator, MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS};
use crate::domain::console_session::OwnSession;

/// The path of this page.
pub const ACCOUNT_PATH: &str = "/app/account";

#[component]
pub fn AccountPage() -> impl IntoView {
    let administrator = Resource::new(|| (), |()| current_administrator());
    // Counts two-step sign-in's changes, so the password form knows at once whether it asks
    // for a code.
    let two_step_changes = RwSignal::new(0_u32);
    view! {
        <Title text="Your account" />
        <TopBar />
        <main class="page">
            <div class="page-header">
                <div>
                    <h1>"Your account"</h1>
                    <p class="lead">"The administrator you are signed in as, where you are signed in, two-step sign-in and your password."</p>
                </div>
            </div>
            <section class="card" aria-labelledby="account-title">
                <h2 id="account-title">"Signed in as"</h2>
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || {
                        administrator.get().and_then(Result::ok).map(|admin| view! { <p class="mono" id="account-email">{admin.email}</p> })
                    }}
                </Transition>
            </section>
            <SessionsSection />
            <TwoStepSection changes=two_step_changes />
            <PasswordSection administrator two_step_changes />
        </main>
    }
}

/// Changing one's own password: the current one (and a code while two-step sign-in is on), then
/// the new one twice.
#[component]
fn PasswordSection(
    administrator: Resource<Result<Administrator, ServerFnError>>,
    two_step_changes: RwSignal<u32>,
) -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let error = Signal::derive(move || change.value().get().and_then(Result::err).map(|e| field_error(&e)));
    // With two-step sign-in on, a code too; asked for as well once the server asks (it may have
    // been turned on elsewhere since the page was read).
    let two_step = Resource::new(move || two_step_changes.get(), |_| two_step_sign_in());
    let asks_code = move || {
        two_step.get().and_then(Result::ok).is_some_and(|status| status.enabled_at.is_some())
            || error.get().is_some_and(|(field, _)| field.as_deref() == Some("code"))
    };
    let changed = Signal::derive(move || change.value().get().is_some_and(|result| result.is_ok()));
    let pending = change.pending();
    // A successful change empties the form, so no password stays in the page; after a refusal
    // what was typed stays, to be corrected.
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if change.value().with(|value| matches!(value, Some(Ok(()))))
            && let Some(form) = form.get()
        {
            form.reset();
        }
    });
    let minimum = MIN_PASSWORD_CHARS.to_string();
    view! {
        <section class="card" aria-labelledby="password-title">
            <h2 id="password-title">"Change your password"</h2>
            <p class="muted">
                "Your other sessions end, and browsers trusted by earlier sign-ins are forgotten; this one stays signed in."
            </p>
            <ActionForm action=change node_ref=form attr:class="form-grid">
                // For password managers: whose password this is.
                <Transition fallback=|| ()>
                    {move || {
                        administrator
                            .get()
                            .and_then(Result::ok)
                            .map(|admin| {
                                view! {
                                    <input
                                        type="email"
                                        class="hidden"
                                        autocomplete="username"
                                        readonly
                                        tabindex="-1"
                                        aria-hidden="true"
                                        value=admin.email
                                    />
                                }
                            })
                    }}
                </Transition>
                <div class="field">
                    <label for="current-password">"Current password"</label>
                    <input
                        id="current-password"
                        name="current_password"
                        type="password"
                        autocomplete="current-password"
                        maxlength=MAX_PASSWORD_BYTES
                        required
                    />
                    <FieldMessage field="current_password" error />
                </div>
                <Transition fallback=|| ()>
                    {move || {
                        asks_code()
                            .then(|| {
                                view! {
                                    <div class="field">
                                        <label for="password-code">"Code from your app, or a recovery code"</label>
                                        <CodeInput id="password-code" recovery=true />
                                        <FieldMessage field="code" error />
                                    </div>
                                }
                            })
                    }}
                </Transition>
                <div class="field">
                    <label for="new-password">"New password"</label>
                    <input
                        id="new-password"
                        name="new_password"
                        type="password"
                        autocomplete="new-password"
                        minlength=minimum.clone()
                        maxlength=MAX_PASSWORD_BYTES
                        required
                    />
                    <p class="hint">{format!("At least {MIN_PASSWORD_CHARS} characters.")}</p>
                    <FieldMessage field="new_password" error />
                </div>
                <div class="field">
                    <label for="confirm-password">"New password again"</label>
                    <input
                        id="confirm-password"
                        name="confirm_password"
                        type="password"
                        autocomplete="new-password"
                        minlength=minimum
                        maxlength=MAX_PASSWORD_BYTES
                        required
                    />
                    <FieldMessage field="confirm_password" error />
                </div>
                <FormMessage error fields=&["current_password", "code", "new_password", "confirm_password"] />
                <div class="form-actions">
                    <button type="submit" class="button" disabled=pending>
                        {move || if pending.get() { "Changing…" } else { "Change password" }}
                    </button>
                    <span class="muted" role="status" id="password-changed">
                        {move || (changed.get() && !pending.get()).then_some("Password changed. Your other sessions are signed out.")}
                    </span>
                </div>
            </ActionForm>
        </section>
    }
}

/// The administrator's sessions, each of which but this one they can sign out; or all of them
/// at once.
#[component]
fn SessionsSection() -> impl IntoView {
    let end = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let sessions = Resource::new(move || (end.version().get(), end_others.version().get()), |_| own_sessions());
    let error = move || {
        let failed = end.value().get().and_then(Result::err).or_else(|| end_others.value().get().and_then(Result::err));
        failed.map(|error| error_message(&error))
    };
    // Each message speaks of the latest action: starting one clears the other's outcome.
    Effect::new(move |_| {
        if end.pending().get() {
            end_others.value().set(None);
        }
    });
    Effect::new(move |_| {
        if end_others.pending().get() {
            end.value().set(None);
        }
    });
    let ended = move || {
        end_others.value().get().and_then(Result::ok).map(|count| match count {
            0 => "No other session was signed in.".to_owned(),
            1 => "1 other session was signed out.".to_owned(),
            count => format!("{count} other sessions were signed out."),
        })
    };
    view! {
        <section class="card" aria-labelledby="sessions-title">
            <div class="card-header">
                <h2 id="sessions-title">"Your sessions"</h2>
                <div class="row-actions">
                    <span class="muted small" role="status" id="sessions-ended">
                        {ended}
                    </span>
                    <ActionForm action=end_others attr:class="inline">
                        <button type="submit" class="button secondary small" id="end-other-sessions" disabled=end_others.pending()>
                            "Sign out all other sessions"
                        </button>
                    </ActionForm>
                </div>
            </div>
            <p class="muted">
                "Where you are signed in, the most recently used first. A session you do not recognise: sign it out, then change your password."
            </p>
            {move || error().map(|message| view! { <div class="alert error" role="alert">{message}</div> })}
            <Transition fallback=|| view! { <p class="muted">"Loading sessions…"</p> }>
                {move || {
                    sessions
                        .get()
                        .map(|result| match result {
                            Ok(sessions) => view! { <SessionsTable sessions end /> }.into_any(),
                            Err(error) => view! { <div class="alert error">{error_message(&error)}</div> }.into_any(),
                        })
                }}
            </Transition>
        </section>
    }
}

/// The sessions, each but the one in use with a button that signs it out.
#[component]
fn SessionsTable(sessions: Vec<OwnSession>, end: ServerAction<EndSession>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table sessions" id="own-sessions">
                <thead>
                    <tr>
                        <th scope="col">"Browser"</th>
                        <th scope="col">"Address"</th>
                        <th scope="col">"Signed in (UTC)"</th>
                        <th scope="col">"Last used (UTC)"</th>
                        <th scope="col">
                            <span class="sr-only">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {sessions
                        .into_iter()
                        .map(|session| {
                            let label = format!("Sign out {} at {}", session.browser, or_dash(session.address.clone()));
                            view! {
                                <tr data-current=session.current.to_string()>
                                    <td title=session.user_agent>
                                        {session.browser} " "
                                        {session.current.then(|| view! { <Badge text="This browser" tone="info" /> })}
                                    </td>
                                    <td class="mono small nowrap">{or_dash(session.address)}</td>
                                    <td class="nowrap">{minute(session.signed_in_at)}</td>
                                    <td class="nowrap">{minute(session.last_seen_at)}</td>
                                    <td>
                                        {(!session.current)
                                            .then(|| {
                                                view! {
                                                    <ActionForm action=end attr:class="inline">
                                                        <input type="hidden" name="sign_in_id" value=session.id />
                                                        <button
                                                            type="submit"
                                                            class="button secondary small"
                                                            aria-label=label
                                                            disabled=end.pending()
                                                        >
                                                            "Sign out"
                                                        </button>
                                                    </ActionForm>
                                                }
                                            })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
