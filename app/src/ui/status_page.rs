//! `/app/status`: the server's version and whether its database answers.

use leptos::prelude::*;
use leptos_meta::Title;

use super::layout::TopBar;
use crate::api::status::{StatusReport, system_status};

#[component]
pub fn StatusPage() -> impl IntoView {
    let checks = RwSignal::new(1_u32);
    let status = Resource::new(move || checks.get(), |_| system_status());
    view! {
        <TopBar />
        <main class="page">
            <Title text="System status" />
            <h1>"System status"</h1>
            <p class="lead">"The version of this server, and whether its database answers."</p>
            <section class="card" aria-labelledby="status-title">
                <div class="card-header">
                    <h2 id="status-title">"This server"</h2>
                    <button
                        id="check-status"
                        class="button secondary"
                        on:click=move |_| checks.update(|n| *n += 1)
                    >
                        "Check again"
                    </button>
                </div>
                <Transition fallback=|| view! { <p class="muted">"Checking…"</p> }>
                    {move || {
                        status
                            .get()
                            .map(|result| match result {
                                Ok(status) => view! { <StatusTable status check=checks.get() /> }.into_any(),
                                Err(error) => {
                                    view! { <p class="error">"Status unavailable: " {error.to_string()}</p> }
                                        .into_any()
                                }
                            })
                    }}
                </Transition>
            </section>
        </main>
    }
}

#[component]
fn StatusTable(status: StatusReport, check: u32) -> impl IntoView {
    let (badge, label) = if status.database_reachable { ("badge ok", "reachable") } else { ("badge bad", "unreachable") };
    view! {
        <dl class="facts" id="status-facts">
            <dt>"Version"</dt>
            <dd>{status.version}</dd>
            <dt>"Database"</dt>
            <dd>
                {status.database} " " <span class=badge>{label}</span>
            </dd>
            <dt>"Checked"</dt>
            <dd id="status-checked">{status.checked_at} " (check " {check} ")"</dd>
        </dl>
    }
}
