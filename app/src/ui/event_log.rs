//! What the event logs (a workspace's audit log, administrators' activity) share: the filter by
//! outcome and event type kept in the page's query, and the pager back through older events.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::web_sys;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

use super::components::{Badge, or_dash, with_query};
use crate::domain::event_log::Outcome;

/// The filter and page a log's query names: `outcome`, `type` and `before` (an event id).
#[derive(Clone, Copy)]
pub struct EventQuery {
    pub outcome: Memo<String>,
    pub event_type: Memo<String>,
    pub before: Memo<Option<i64>>,
}

impl EventQuery {
    pub fn of_page() -> Self {
        let query = use_query_map();
        Self {
            outcome: Memo::new(move |_| query.read().get("outcome").unwrap_or_default()),
            event_type: Memo::new(move |_| query.read().get("type").unwrap_or_default()),
            before: Memo::new(move |_| query.read().get("before").and_then(|b| b.parse::<i64>().ok())),
        }
    }

    /// The log at `base` with this filter, from the newest event or from before `before`. Read
    /// as the page is drawn: a new query draws the page again.
    fn link(self, base: &str, before: Option<i64>) -> String {
        let before = before.map(|id| id.to_string()).unwrap_or_default();
        let (outcome, event_type) = (self.outcome.get_untracked(), self.event_type.get_untracked());
        with_query(base, &[("outcome", &outcome), ("type", &event_type), ("before", &before)])
    }
}

/// An event's "From / by" cell: who acted, when someone is named (`by admin API key`), else the
/// address the request came from.
pub fn from_or_by(actor: Option<String>, remote_addr: Option<String>) -> String {
    or_dash(actor.map(|actor| format!("by {actor}")).or(remote_addr))
}

/// The label of an event type among `types` (value, label).
pub fn type_label(types: &[(&str, &'static str)], event_type: &str) -> &'static str {
    types.iter().find(|(value, _)| *value == event_type).map_or("Event", |(_, label)| label)
}

/// The outcome and event-type filter; `id` names its fields (`{id}-outcome`, `{id}-type`).
#[component]
pub fn EventFilters(query: EventQuery, id: &'static str, types: &'static [(&'static str, &'static str)]) -> impl IntoView {
    let (outcome, event_type) = (query.outcome, query.event_type);
    let (outcome_id, type_id) = (format!("{id}-outcome"), format!("{id}-type"));
    view! {
        <Form method="GET" action="" attr:class="toolbar filters" on_form_data=Arc::new(only_chosen_filters)>
            <div class="field inline">
                <label for=outcome_id.clone()>"Outcome"</label>
                <select id=outcome_id name="outcome">
                    <option value="" selected=move || outcome.get().is_empty()>"Any"</option>
                    <option value="success" selected=move || outcome.get() == "success">"Success"</option>
                    <option value="failure" selected=move || outcome.get() == "failure">"Failure"</option>
                </select>
            </div>
            <div class="field inline">
                <label for=type_id.clone()>"Event"</label>
                <select id=type_id name="type">
                    <option value="" selected=move || event_type.get().is_empty()>"Any"</option>
                    {types
                        .iter()
                        .map(|&(value, label)| view! { <option value=value selected=move || event_type.get() == value>{label}</option> })
                        .collect_view()}
                </select>
            </div>
            <button type="submit" class="button secondary">"Filter"</button>
        </Form>
    }
}

/// Leaves out of the query what says nothing: a filter left at "Any", and the nameless entry
/// Leptos adds for the submit button (`&=`).
fn only_chosen_filters(form: &web_sys::FormData) {
    for name in ["", "outcome", "type"] {
        if form.get(name).as_string().is_none_or(|value| value.is_empty()) {
            form.delete(name);
        }
    }
}

/// Links to the newest events (when this page is an older one) and to older events (when
/// `older_than` says there are some), keeping the filter; `base` is the log's path.
#[component]
#[expect(clippy::needless_pass_by_value, reason = "a component's props are owned")]
pub fn EventPager(query: EventQuery, base: String, older_than: Option<i64>) -> impl IntoView {
    let newest = query.before.get_untracked().is_some().then(|| query.link(&base, None));
    let older = older_than.map(|id| query.link(&base, Some(id)));
    view! {
        <nav class="pager" aria-label="Pages">
            {newest.map(|href| view! { <A href=href>"← Newest events"</A> })}
            {older.map(|href| view! { <A href=href>"Older events →"</A> })}
        </nav>
    }
}

/// An event's outcome as a badge.
#[component]
pub fn OutcomeBadge(outcome: Outcome) -> impl IntoView {
    let tone = match outcome {
        Outcome::Success => "ok",
        Outcome::Failure => "bad",
    };
    view! { <Badge text=outcome.as_str() tone /> }
}
