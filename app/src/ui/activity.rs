//! `/app/activity`: administrators' activity, newest first: sign-ins (refused ones and locked
//! addresses too), sign-outs, accounts created or given a new password on the command line,
//! workspaces created, and sandbox software enrolled, deleted and downloaded.

use leptos::prelude::*;
use leptos_meta::Title;

use super::components::{error_message, or_dash, second};
use super::event_log::{EventFilters, EventPager, EventQuery, OutcomeBadge, from_or_by, type_label};
use super::layout::TopBar;
use crate::api::event_logs::{EventPage, list_administrator_events};
use crate::domain::activity::AdministratorEvent;

/// The path of this page.
pub const ACTIVITY_PATH: &str = "/app/activity";

const TYPES: [(&str, &str); 18] = [
    ("signed_in", "Signed in"),
    ("sign_in_refused", "Sign-in refused"),
    ("sign_in_locked", "Address locked"),
    ("browser_locked", "Browser locked"),
    ("signed_out", "Signed out"),
    ("sessions_ended", "Sessions ended"),
    ("administrator_created", "Administrator created"),
    ("password_changed", "Password changed"),
    ("two_step_enabled", "Two-step sign-in on"),
    ("two_step_disabled", "Two-step sign-in off"),
    ("recovery_codes_replaced", "New recovery codes"),
    ("workspace_created", "Workspace created"),
    ("sandbox_software_enrolled", "Sandbox software enrolled"),
    ("sandbox_statement_issued", "Sandbox statement issued"),
    ("sandbox_software_deleted", "Sandbox software deleted"),
    ("sandbox_bundle_downloaded", "Sandbox bundle downloaded"),
    ("admin_api_key_changed", "Admin API key changed"),
    ("key_encryption_key_rotated", "Key encryption key rotated"),
];

#[component]
pub fn ActivityPage() -> impl IntoView {
    let query = EventQuery::of_page();
    let events = Resource::new(
        move || (query.outcome.get(), query.event_type.get(), query.before.get()),
        |(outcome, event_type, before)| list_administrator_events(outcome, event_type, before),
    );
    view! {
        <Title text="Administrator activity" />
        <TopBar />
        <main class="page">
            <div class="page-header">
                <div>
                    <h1>"Administrator activity"</h1>
                    <p class="lead">
                        "Sign-ins and sign-outs, refused ones and locked addresses too, accounts and passwords, and what administrators do outside a single workspace. Changes inside a workspace are in its audit log."
                    </p>
                </div>
            </div>
            <EventFilters query id="activity" types=&TYPES />
            <Transition fallback=|| view! { <p class="muted">"Loading activity…"</p> }>
                {move || {
                    events
                        .get()
                        .map(|result| match result {
                            Ok(EventPage { events, older_than }) => {
                                view! {
                                    <ActivityTable events />
                                    <EventPager query base=ACTIVITY_PATH.to_owned() older_than />
                                }
                                    .into_any()
                            }
                            Err(error) => view! { <div class="alert error">{error_message(&error)}</div> }.into_any(),
                        })
                }}
            </Transition>
        </main>
    }
}

#[component]
fn ActivityTable(events: Vec<AdministratorEvent>) -> impl IntoView {
    if events.is_empty() {
        return view! { <div class="empty">"No activity matches."</div> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table" id="administrator-events">
                <thead>
                    <tr>
                        <th scope="col">"Time (UTC)"</th>
                        <th scope="col">"Event"</th>
                        <th scope="col">"Outcome"</th>
                        <th scope="col">"Administrator"</th>
                        <th scope="col">"What"</th>
                        <th scope="col">"From / by"</th>
                    </tr>
                </thead>
                <tbody>
                    {events
                        .into_iter()
                        .map(|AdministratorEvent { event, .. }| {
                            view! {
                                <tr>
                                    <td class="nowrap">{second(event.created_at)}</td>
                                    <td>{type_label(&TYPES, event.event_type.as_str())}</td>
                                    <td>
                                        <OutcomeBadge outcome=event.outcome />
                                    </td>
                                    <td class="mono small nowrap">{or_dash(event.email)}</td>
                                    <td>{or_dash(event.detail)}</td>
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

#[cfg(test)]
mod tests {
    use super::TYPES;
    use crate::domain::activity::AdministratorEventType;

    #[test]
    fn every_event_type_has_a_label_and_a_filter() {
        let listed: Vec<_> = TYPES.iter().map(|(value, _)| *value).collect();
        let known: Vec<_> = AdministratorEventType::ALL.iter().map(|kind| kind.as_str()).collect();
        assert_eq!(listed, known);
    }
}
