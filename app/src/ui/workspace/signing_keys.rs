//! The General tab's signing keys: the keys the workspace signs access tokens with, where each
//! is in its life, a confirmed rotation (at once, or planned: the new key published first),
//! and withdrawing a planned key.

use leptos::prelude::*;

use super::use_workspace_path;
use crate::api::signing_keys::{list_signing_keys, rotate_signing_key, withdraw_planned_key};
use crate::domain::signing::{JwsAlgorithm, KeyState, SigningKeyView};
use crate::ui::components::{SaveToast, error_message, focus_follows_confirmation, minute};
use crate::ui::password_confirmation::retried_after_confirmation;

/// When a rotation's key signs: at once, or after being published for this many hours.
const WHEN: [(u32, &str); 4] = [
    (0, "at once"),
    (24, "after publishing it for a day"),
    (72, "after publishing it for 3 days"),
    (168, "after publishing it for a week"),
];

#[component]
pub fn SigningKeysCard() -> impl IntoView {
    let path = use_workspace_path();
    let rotations = RwSignal::new(0_u32);
    let keys = Resource::new(move || (path.get(), rotations.get()), |(p, _)| list_signing_keys(p.tenant, p.workspace));
    let algorithm = RwSignal::new(JwsAlgorithm::Ps256.as_str().to_owned());
    let hours = RwSignal::new(0_u32);
    let confirming = RwSignal::new(false);
    let (question, trigger) = (NodeRef::new(), NodeRef::new());
    focus_follows_confirmation(confirming, question, trigger);
    let rotate = Action::new(move |(algorithm, hours): &(String, u32)| {
        let (path, algorithm, hours) = (path.get_untracked(), algorithm.clone(), *hours);
        async move { rotate_signing_key(path.tenant, path.workspace, algorithm, Some(hours)).await }
    });
    retried_after_confirmation(rotate, "rotate the signing key");
    let withdraw = Action::new(move |kid: &String| {
        let (path, kid) = (path.get_untracked(), kid.clone());
        async move { withdraw_planned_key(path.tenant, path.workspace, kid).await }
    });
    retried_after_confirmation(withdraw, "withdraw the planned key");
    Effect::new(move |_| {
        let rotated = matches!(rotate.value().get(), Some(Ok(_)));
        let withdrawn = matches!(withdraw.value().get(), Some(Ok(())));
        if rotated || withdrawn {
            confirming.set(false);
            rotations.update(|n| *n += 1);
        }
    });
    // The key planned for the algorithm chosen, if any: rotating at once starts it early.
    let planned = move || keys.get().and_then(Result::ok).and_then(|rows| planned_for(&rows, &algorithm.get()));
    let question_text = move || rotation_question(&algorithm.get(), hours.get(), planned());
    let finished = move |planned_ahead: bool| {
        succeeded(rotate, move |key: &SigningKeyView| matches!(key.state, KeyState::Next { .. }) == planned_ahead)
    };
    let withdrawn = succeeded(withdraw, |()| true);
    view! {
        <section class="card" id="signing-keys" aria-labelledby="signing-keys-heading">
            <h2 id="signing-keys-heading">"Signing keys"</h2>
            <p class="hint spaced">
                "The keys this workspace signs access tokens with, published at its jwks.json. Rotating at once makes a new key that signs every token from then on, for a key that may be compromised; a planned rotation publishes the new key first, so resource servers that cache the key set have it before they meet it. The key replaced stays published for a day, until every token it signed has expired. Then it retires, and its private half is erased."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading keys…"</p> }>
                {move || {
                    keys.get()
                        .map(|result| match result {
                            Ok(rows) => view! { <KeysTable rows withdraw /> }.into_any(),
                            Err(error) => view! { <div class="alert error">{error_message(&error)}</div> }.into_any(),
                        })
                }}
            </Transition>
            <div class="rotate" class:hidden=move || confirming.get()>
                <label for="rotate-algorithm">"Rotate the key for"</label>
                <select id="rotate-algorithm" on:change=move |ev| algorithm.set(event_target_value(&ev)) prop:value=algorithm>
                    {[JwsAlgorithm::Ps256, JwsAlgorithm::Es256]
                        .into_iter()
                        .map(|alg| view! { <option value=alg.as_str()>{alg.as_str()}</option> })
                        .collect_view()}
                </select>
                <label for="rotate-when" class="sr-only">"When the new key signs"</label>
                <select
                    id="rotate-when"
                    on:change=move |ev| hours.set(event_target_value(&ev).parse().unwrap_or(0))
                    prop:value=move || hours.get().to_string()
                >
                    {WHEN.into_iter().map(|(value, label)| view! { <option value=value.to_string()>{label}</option> }).collect_view()}
                </select>
                <button type="button" class="button secondary" id="rotate-key" node_ref=trigger on:click=move |_| confirming.set(true)>
                    "Rotate…"
                </button>
            </div>
            <div class="confirm" node_ref=question class:hidden=move || !confirming.get() role="alertdialog" aria-labelledby="confirm-rotation">
                <p id="confirm-rotation">{question_text}</p>
                <button
                    type="button"
                    class="button"
                    id="confirm-rotation-button"
                    disabled=move || rotate.pending().get() || (planned().is_some() && hours.get() > 0)
                    on:click=move |_| {
                        rotate.dispatch((algorithm.get_untracked(), hours.get_untracked()));
                    }
                >
                    {move || match (rotate.pending().get(), hours.get()) {
                        (true, _) => "Rotating…",
                        (false, 0) => "Yes, rotate",
                        (false, _) => "Yes, publish it",
                    }}
                </button>
                <button type="button" class="button secondary" on:click=move |_| confirming.set(false)>
                    "Cancel"
                </button>
            </div>
            {move || rotate.value().get().and_then(Result::err).map(|e| view! { <div class="alert error">{error_message(&e)}</div> })}
            {move || withdraw.value().get().and_then(Result::err).map(|e| view! { <div class="alert error">{error_message(&e)}</div> })}
            <SaveToast outcome=finished(false) saved="Signing key rotated; it signs from now on" />
            <SaveToast outcome=finished(true) saved="New signing key published; it signs when its hour comes" />
            <SaveToast outcome=withdrawn saved="Planned key withdrawn" />
        </section>
    }
}

/// When the key a planned rotation published for `alg` signs from, if there is one.
fn planned_for(keys: &[SigningKeyView], alg: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    keys.iter().find_map(|key| match key.state {
        KeyState::Next { signs_from } if key.algorithm.as_str() == alg => Some(signs_from),
        _ => None,
    })
}

/// What the confirmation asks, for `hours` ahead (0: at once) given the key already planned
/// for the algorithm, if any.
fn rotation_question(alg: &str, hours: u32, planned: Option<chrono::DateTime<chrono::Utc>>) -> String {
    match (planned, hours) {
        (Some(_), 0) => {
            format!("Make the planned {alg} key sign every token from now on? The current one stays published for a day.")
        }
        (Some(signs_from), _) => format!(
            "A {alg} key is already planned to sign from {} UTC: rotate at once to start it early, or withdraw it first.",
            minute(signs_from)
        ),
        (None, 0) => {
            format!("Make a new {alg} key? It signs every token from now on; the current one stays published for a day.")
        }
        (None, hours) => format!(
            "Publish a new {alg} key now? It signs every token {hours} hours from now; until then the current one signs, and it stays published for a day after."
        ),
    }
}

/// `Some(true)` once `action` has ended with an answer `wanted` holds for: a toast's outcome.
fn succeeded<I: Send + Sync + 'static, T: Send + Sync + Clone + 'static>(
    action: Action<I, Result<T, ServerFnError>>,
    wanted: impl Fn(&T) -> bool + Send + Sync + 'static,
) -> Signal<Option<bool>> {
    Signal::derive(move || {
        let done = !action.pending().get() && action.value().with(|answer| matches!(answer, Some(Ok(value)) if wanted(value)));
        done.then_some(true)
    })
}

#[component]
fn KeysTable(rows: Vec<SigningKeyView>, withdraw: Action<String, Result<(), ServerFnError>>) -> impl IntoView {
    view! {
        <div class="table-wrap flat">
            <table class="table" id="signing-key-list">
                <thead>
                    <tr>
                        <th scope="col">"Key ID"</th>
                        <th scope="col">"Algorithm"</th>
                        <th scope="col">"Made (UTC)"</th>
                        <th scope="col">"State"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|key| {
                            let planned = matches!(key.state, KeyState::Next { .. }).then(|| key.kid.clone());
                            view! {
                                <tr>
                                    <td class="mono small kid" title=key.kid.clone()>{key.kid.clone()}</td>
                                    <td class="mono small">{key.algorithm.as_str()}</td>
                                    <td class="nowrap">{minute(key.created_at)}</td>
                                    <td><KeyStateBadge state=key.state erased=key.private_key_erased signs_tokens=key.signs_tokens /></td>
                                    <td class="row-actions">
                                        {planned.map(|kid| {
                                            view! {
                                                <button type="button" class="button secondary small" disabled=move || withdraw.pending().get() on:click=move |_| {
                                                    withdraw.dispatch(kid.clone());
                                                }>
                                                    "Withdraw"
                                                </button>
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

/// Where a key is in its life: the one that signs tokens says so, and the newest key of the
/// other algorithm says it is unused; a retired key says whether its private half is gone yet
/// (housekeeping erases it within ten minutes of its retirement).
#[component]
fn KeyStateBadge(state: KeyState, erased: bool, signs_tokens: bool) -> impl IntoView {
    match state {
        KeyState::Next { signs_from } => {
            view! { <span class="badge planned" title="Published now; signs every token from then on">{format!("Next: signs from {} UTC", minute(signs_from))}</span> }.into_any()
        }
        KeyState::Signing if signs_tokens => view! { <span class="badge ok">"Signs tokens"</span> }.into_any(),
        KeyState::Signing => {
            view! { <span class="badge neutral" title="Used if the General settings switch the signing algorithm to it">"Ready, not in use"</span> }
                .into_any()
        }
        KeyState::Retiring { until } => {
            view! { <span class="badge info">{format!("Published until {} UTC", minute(until))}</span> }.into_any()
        }
        KeyState::Retired if erased => view! { <span class="badge neutral">"Retired, private key erased"</span> }.into_any(),
        KeyState::Retired => view! { <span class="badge neutral">"Retired"</span> }.into_any(),
    }
}
