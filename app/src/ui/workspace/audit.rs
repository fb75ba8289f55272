//! The audit log: registration and management events, and administrators' changes, newest
//! first, with their outcome and reason (or who made a change); filter by outcome and type.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

use super::use_workspace_path;
use crate::api::audit::{AuditPage, list_audit_events};
use crate::domain::audit::{AuditEvent, Outcome};
use crate::ui::components::{Badge, WrappingDn, error_message, or_dash, second, with_query};

const TYPES: [(&str, &str); 12] = [
    ("dcr_created", "Registered"),
    ("dcr_rejected", "Registration refused"),
    ("dcr_read", "Registration read"),
    ("dcr_updated", "Registration updated"),
    ("dcr_deleted", "Registration deleted"),
    ("client_created", "Client created"),
    ("client_deleted", "Client deleted"),
    ("settings_updated", "General settings changed"),
    ("dcr_settings_updated", "DCR settings changed"),
    ("policy_saved", "Policy saved"),
    ("policy_deleted", "Policy deleted"),
    ("signing_key_rotated", "Signing key rotated"),
];

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let path = use_workspace_path();
    let query = use_query_map();
    let outcome = Memo::new(move |_| query.read().get("outcome").unwrap_or_default());
    let event_type = Memo::new(move |_| query.read().get("type").unwrap_or_default());
    let before = Memo::new(move |_| query.read().get("before").and_then(|b| b.parse::<i64>().ok()));
    let events = Resource::new(
        move || (path.get(), outcome.get(), event_type.get(), before.get()),
        |(path, outcome, event_type, before)| list_audit_events(path.tenant, path.workspace, outcome, event_type, before),
    );
    view! {
        <Title text="Audit log" />
        <div class="page-header">
            <div>
                <h1>"Audit log"</h1>
                <p class="lead">"Every registration attempt, client change and administrator's change, with its outcome and reason."</p>
            </div>
        </div>
        <Form method="GET" action="" attr:class="toolbar filters">
            <div class="field inline">
                <label for="audit-outcome">"Outcome"</label>
                <select id="audit-outcome" name="outcome">
                    <option value="" selected=move || outcome.get().is_empty()>"Any"</option>
                    <option value="success" selected=move || outcome.get() == "success">"Success"</option>
                    <option value="failure" selected=move || outcome.get() == "failure">"Failure"</option>
                </select>
            </div>
            <div class="field inline">
                <label for="audit-type">"Event"</label>
                <select id="audit-type" name="type">
                    <option value="" selected=move || event_type.get().is_empty()>"Any"</option>
                    {TYPES.into_iter().map(|(value, label)| view! { <option value=value selected=move || event_type.get() == value>{label}</option> }).collect_view()}
                </select>
            </div>
            <button type="submit" class="button secondary small">"Filter"</button>
        </Form>
        <Transition fallback=|| view! { <p class="muted">"Loading events…"</p> }>
            {move || {
                events
                    .get()
                    .map(|result| match result {
                        Ok(AuditPage { events, older_than }) => {
                            let link = |before: Option<i64>| {
                                let (outcome, event_type) = (outcome.get(), event_type.get());
                                let before = before.map(|id| id.to_string()).unwrap_or_default();
                                with_query(&path.get().href("audit"), &[("outcome", &outcome), ("type", &event_type), ("before", &before)])
                            };
                            let newest = before.get().is_some().then(|| link(None));
                            let older = older_than.map(|id| link(Some(id)));
                            view! {
                                <EventsTable events />
                                <nav class="pager" aria-label="Pages">
                                    {newest.map(|href| view! { <A href=href>"← Newest events"</A> })}
                                    {older.map(|href| view! { <A href=href>"Older events →"</A> })}
                                </nav>
                            }
                                .into_any()
                        }
                        Err(error) => view! { <div class="alert error">{error_message(&error)}</div> }.into_any(),
                    })
            }}
        </Transition>
    }
}

fn label(event_type: &str) -> &'static str {
    TYPES.iter().find(|(value, _)| *value == event_type).map_or("Event", |(_, label)| label)
}

#[component]
fn EventsTable(events: Vec<AuditEvent>) -> impl IntoView {
    if events.is_empty() {
        return view! { <div class="empty">"No events match."</div> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table" id="audit-events">
                <thead>
                    <tr>
                        <th scope="col">"Time (UTC)"</th>
                        <th scope="col">"Event"</th>
                        <th scope="col">"Outcome"</th>
                        <th scope="col">"Reason"</th>
                        <th scope="col">"Software / organisation"</th>
                        <th scope="col">"Certificate"</th>
                        <th scope="col">"From / by"</th>
                    </tr>
                </thead>
                <tbody>
                    {events
                        .into_iter()
                        .map(|AuditEvent { event, .. }| {
                            let (outcome, tone) = match event.outcome {
                                Outcome::Success => ("success", "ok"),
                                Outcome::Failure => ("failure", "bad"),
                            };
                            let (code, detail) = match (event.error, event.error_description) {
                                (Some(code), description) => (Some(code), description.unwrap_or_default()),
                                (None, _) => (
                                    None,
                                    event.detail.or_else(|| event.client_id.map(|id| format!("client {id}"))).unwrap_or_default(),
                                ),
                            };
                            // An administrator's change says who made it; a protocol request, where it came from.
                            let from = event.actor.map(|actor| format!("by {actor}")).or(event.remote_addr);
                            let party = if event.software_id.is_none() && event.org_id.is_none() { Some("—") } else { None };
                            view! {
                                <tr>
                                    <td class="nowrap">{second(event.created_at)}</td>
                                    <td>{label(event.event_type.as_str())}</td>
                                    <td>
                                        <Badge text=outcome tone=tone />
                                    </td>
                                    <td class="reason">
                                        {code.map(|code| view! { <div class="mono small error-code">{code}</div> })}
                                        <div>{detail}</div>
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
                                    <td class="mono small party">{or_dash(from)}</td>
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
