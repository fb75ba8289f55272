//! The General tab's signing keys: the keys the workspace signs access tokens with, where each
//! is in its life, and a confirmed rotation.

use leptos::prelude::*;

use super::use_workspace_path;
use crate::api::signing_keys::{list_signing_keys, rotate_signing_key};
use crate::domain::signing::{JwsAlgorithm, KeyState, SigningKeyView};
use crate::ui::components::{SaveToast, error_message, focus_follows_confirmation, minute};
use crate::ui::password_confirmation::retried_after_confirmation;

#[component]
pub fn SigningKeysCard() -> impl IntoView {
    let path = use_workspace_path();
    let rotations = RwSignal::new(0_u32);
    let keys = Resource::new(move || (path.get(), rotations.get()), |(p, _)| list_signing_keys(p.tenant, p.workspace));
    let algorithm = RwSignal::new(JwsAlgorithm::Ps256.as_str().to_owned());
    let confirming = RwSignal::new(false);
    let (question, trigger) = (NodeRef::new(), NodeRef::new());
    focus_follows_confirmation(confirming, question, trigger);
    let rotate = Action::new(move |algorithm: &String| {
        let (path, algorithm) = (path.get_untracked(), algorithm.clone());
        async move { rotate_signing_key(path.tenant, path.workspace, algorithm).await }
    });
    retried_after_confirmation(rotate, "rotate the signing key");
    Effect::new(move |_| {
        if let Some(Ok(_)) = rotate.value().get() {
            confirming.set(false);
            rotations.update(|n| *n += 1);
        }
    });
    let rotated = Signal::derive(move || {
        let done = !rotate.pending().get() && rotate.value().get().is_some_and(|result| result.is_ok());
        done.then_some(true)
    });
    view! {
        <section class="card" id="signing-keys" aria-labelledby="signing-keys-heading">
            <h2 id="signing-keys-heading">"Signing keys"</h2>
            <p class="hint spaced">
                "The keys this workspace signs access tokens with, published at its jwks.json. Rotating makes a new key that signs every token from then on; the key it replaces stays published for a day, until every token it signed has expired. Then it retires, and its private half is erased."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading keys…"</p> }>
                {move || {
                    keys.get()
                        .map(|result| match result {
                            Ok(rows) => view! { <KeysTable rows /> }.into_any(),
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
                <button type="button" class="button secondary" id="rotate-key" node_ref=trigger on:click=move |_| confirming.set(true)>
                    "Rotate…"
                </button>
            </div>
            <div class="confirm" node_ref=question class:hidden=move || !confirming.get() role="alertdialog" aria-labelledby="confirm-rotation">
                <p id="confirm-rotation">
                    {move || format!("Make a new {} key? It signs every token from now on; the current one stays published for a day.", algorithm.get())}
                </p>
                <button type="button" class="button" id="confirm-rotation-button" disabled=move || rotate.pending().get() on:click=move |_| {
                    rotate.dispatch(algorithm.get_untracked());
                }>
                    {move || if rotate.pending().get() { "Rotating…" } else { "Yes, rotate" }}
                </button>
                <button type="button" class="button secondary" on:click=move |_| confirming.set(false)>
                    "Cancel"
                </button>
            </div>
            {move || rotate.value().get().and_then(Result::err).map(|e| view! { <div class="alert error">{error_message(&e)}</div> })}
            <SaveToast outcome=rotated saved="New signing key made; it signs from now on" />
        </section>
    }
}

#[component]
fn KeysTable(rows: Vec<SigningKeyView>) -> impl IntoView {
    view! {
        <div class="table-wrap flat">
            <table class="table" id="signing-key-list">
                <thead>
                    <tr>
                        <th scope="col">"Key ID"</th>
                        <th scope="col">"Algorithm"</th>
                        <th scope="col">"Made (UTC)"</th>
                        <th scope="col">"State"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|key| {
                            view! {
                                <tr>
                                    <td class="mono small">{key.kid}</td>
                                    <td class="mono small">{key.algorithm.as_str()}</td>
                                    <td class="nowrap">{minute(key.created_at)}</td>
                                    <td><KeyStateBadge state=key.state erased=key.private_key_erased signs_tokens=key.signs_tokens /></td>
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
