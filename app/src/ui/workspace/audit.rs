//! The audit log: registration, management and token events, and administrators' changes, newest
//! first, with their outcome and reason (or who made a change); filter by outcome and type.

use leptos::prelude::*;
use leptos_meta::Title;

use super::use_workspace_path;
use crate::api::event_logs::{EventPage, list_audit_events};
use crate::domain::audit::AuditEvent;
use crate::ui::components::{WrappingDn, error_message, second};
use crate::ui::event_log::{EventFilters, EventPager, EventQuery, OutcomeBadge, from_or_by, type_label};

const TYPES: [(&str, &str); 16] = [
    ("dcr_created", "Registered"),
    ("dcr_rejected", "Registration refused"),
    ("dcr_read", "Registration read"),
    ("dcr_updated", "Registration updated"),
    ("dcr_deleted", "Registration deleted"),
    ("token_issued", "Token issued"),
    ("token_refused", "Token refused"),
    ("client_created", "Client created"),
    ("client_updated", "Client changed"),
    ("client_deleted", "Client deleted"),
    ("settings_updated", "General settings changed"),
    ("dcr_settings_updated", "DCR settings changed"),
    ("policy_saved", "Policy saved"),
    ("policy_deleted", "Policy deleted"),
    ("signing_key_rotated", "Signing key rotated"),
    ("signing_key_withdrawn", "Planned signing key withdrawn"),
];

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let path = use_workspace_path();
    let query = EventQuery::of_page();
    let events = Resource::new(
        move || (path.get(), query.outcome.get(), query.event_type.get(), query.before.get()),
        |(path, outcome, event_type, before)| list_audit_events(path.tenant, path.workspace, outcome, event_type, before),
    );
    view! {
        <Title text="Audit log" />
        <div class="page-header">
            <div>
                <h1>"Audit log"</h1>
                <p class="lead">"Every registration attempt, token request, client change and administrator's change, with its outcome and reason."</p>
            </div>
        </div>
        <EventFilters query id="audit" types=&TYPES />
        <Transition fallback=|| view! { <p class="muted">"Loading events…"</p> }>
            {move || {
                events
                    .get()
                    .map(|result| match result {
                        Ok(EventPage { events, older_than }) => {
                            view! {
                                <EventsTable
                                    events
                                    filtered=!query.outcome.get().is_empty() || !query.event_type.get().is_empty() || query.before.get().is_some()
                                />
                                <EventPager query base=path.get().href("audit") older_than />
                            }
                                .into_any()
                        }
                        Err(error) => view! { <div class="alert error">{error_message(&error)}</div> }.into_any(),
                    })
            }}
        </Transition>
    }
}

#[component]
fn EventsTable(events: Vec<AuditEvent>, filtered: bool) -> impl IntoView {
    if events.is_empty() {
        let said = if filtered {
            "No events match."
        } else {
            "No events yet. Every registration attempt, token request, client change and settings change made here will be listed."
        };
        return view! { <div class="empty">{said}</div> }.into_any();
    }
    view! {
        // Focusable, so a keyboard can scroll a table wider than the page.
        <div class="table-wrap" tabindex="0" role="region" aria-label="Audit events">
            <table class="table" id="audit-events">
                <thead>
                    <tr>
                        <th scope="col">"Time (UTC)"</th>
                        <th scope="col">"Event"</th>
                        <th scope="col">"Outcome"</th>
                        <th scope="col">"Details"</th>
                        <th scope="col">"Software / organisation"</th>
                        <th scope="col">"Certificate"</th>
                        <th scope="col">"From / by"</th>
                    </tr>
                </thead>
                <tbody>
                    {events
                        .into_iter()
                        .map(|AuditEvent { event, .. }| {
                            let client = event.client_id.map(|id| format!("client {id}"));
                            let (code, detail, refused_client) = match event.error {
                                // A refusal says why, and under it the client concerned (if any).
                                Some(code) => (Some(code), event.error_description.unwrap_or_default(), client),
                                // The client concerned, then what changed (or the scope granted).
                                None => (None, [client, event.detail].into_iter().flatten().collect::<Vec<_>>().join(", "), None),
                            };
                            let party = if event.software_id.is_none() && event.org_id.is_none() { Some("—") } else { None };
                            view! {
                                <tr>
                                    <td class="nowrap">{second(event.created_at)}</td>
                                    <td>{type_label(&TYPES, event.event_type.as_str())}</td>
                                    <td>
                                        <OutcomeBadge outcome=event.outcome />
                                    </td>
                                    <td class="reason">
                                        {code.map(|code| view! { <div class="mono small error-code">{code}</div> })}
                                        <div>{detail}</div>
                                        {refused_client.map(|client| view! { <div class="muted small mono">{client}</div> })}
                                    </td>
                                    <td>
                                        {party}
                                        <div class="mono small">{event.software_id}</div>
                                        <div class="muted small">{event.org_id}</div>
                                    </td>
                                    <td class="mono small subject">
                                        {match event.client_cert_subject {
                                            Some(subject) => view! { <WrappingDn dn=subject /> }.into_any(),
                                            None => "—".into_any(),
                                        }}
                                    </td>
                                    <td class="mono small party">{from_or_by(event.actor, event.remote_addr)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
