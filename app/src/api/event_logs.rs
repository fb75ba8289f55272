//! Server functions of the event logs: a workspace's audit log, and administrators' activity.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::activity::AdministratorEvent;
use crate::domain::audit::AuditEvent;

/// Events shown per page.
pub const EVENT_PAGE_SIZE: u32 = 50;

/// One page of an event log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPage<Event> {
    pub events: Vec<Event>,
    /// When older events match too: the id to page back from.
    pub older_than: Option<i64>,
}

/// Events newest first, filtered by `outcome` (`success`, `failure` or empty: any) and
/// `event_type` (a type name or empty: any); `before` pages back from an event id.
#[server(prefix = "/app/fn", endpoint = "list_audit_events")]
pub async fn list_audit_events(
    tenant: String,
    workspace: String,
    outcome: String,
    event_type: String,
    before: Option<i64>,
) -> Result<EventPage<AuditEvent>, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_administrator};
    require_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let filter = ssr::page_filter(&event_type, &outcome, before);
    let fetched = crate::services::audit::list_audit_events(&app_state()?, &at, &filter).await.map_err(user_error)?;
    Ok(ssr::page(fetched, |event| event.id))
}

/// Administrators' activity newest first, filtered and paged as [`list_audit_events`].
#[server(prefix = "/app/fn", endpoint = "list_administrator_events")]
pub async fn list_administrator_events(
    outcome: String,
    event_type: String,
    before: Option<i64>,
) -> Result<EventPage<AdministratorEvent>, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_administrator};
    require_administrator().await?;
    let filter = ssr::page_filter(&event_type, &outcome, before);
    let fetched = crate::services::activity::list_administrator_events(&app_state()?, &filter).await.map_err(user_error)?;
    Ok(ssr::page(fetched, |event| event.id))
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{EVENT_PAGE_SIZE, EventPage};
    use crate::domain::event_log::EventFilter;

    /// A page's filter, from the console's query: a type or outcome it does not know shows
    /// every event. One more than a page is fetched, to know whether older events exist.
    pub fn page_filter<Kind: std::str::FromStr>(event_type: &str, outcome: &str, before: Option<i64>) -> EventFilter<Kind> {
        EventFilter {
            event_type: event_type.parse().ok(),
            outcome: outcome.parse().ok(),
            before_id: before,
            limit: EVENT_PAGE_SIZE + 1,
        }
    }

    /// A page of events fetched one beyond [`EVENT_PAGE_SIZE`].
    pub fn page<Event>(fetched: Vec<Event>, id: impl Fn(&Event) -> i64) -> EventPage<Event> {
        let (events, more) = cut_page(fetched, EVENT_PAGE_SIZE as usize);
        let older_than = if more { events.last().map(id) } else { None };
        EventPage { events, older_than }
    }

    /// Splits items fetched one beyond `size` into a page and whether more exist.
    pub fn cut_page<T>(mut items: Vec<T>, size: usize) -> (Vec<T>, bool) {
        let more = items.len() > size;
        items.truncate(size);
        (items, more)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_page_knows_whether_more_exist() {
            assert_eq!(cut_page((0..51).collect::<Vec<_>>(), 50), ((0..50).collect(), true));
            assert_eq!(cut_page((0..50).collect::<Vec<_>>(), 50), ((0..50).collect(), false), "exactly a page: nothing older");
            assert_eq!(cut_page(Vec::<i32>::new(), 50), (vec![], false));
        }

        #[test]
        fn a_full_page_points_back_from_its_oldest_event() {
            let page = page((0..=i64::from(EVENT_PAGE_SIZE)).rev().collect(), |id| *id);
            assert_eq!(page.events.len(), EVENT_PAGE_SIZE as usize);
            assert_eq!(page.older_than, Some(1));
            assert_eq!(super::page(vec![3_i64, 2], |id| *id).older_than, None);
        }
    }
}
