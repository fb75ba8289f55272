//! Server functions of a workspace's audit log.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::audit::AuditEvent;

/// Events shown per page.
pub const AUDIT_PAGE_SIZE: u32 = 50;

/// One page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
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
) -> Result<AuditPage, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_administrator};
    use crate::domain::audit::AuditFilter;
    require_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    // One more than a page, to know whether older events exist.
    let filter = AuditFilter {
        event_type: event_type.parse().ok(),
        outcome: outcome.parse().ok(),
        before_id: before,
        limit: AUDIT_PAGE_SIZE + 1,
    };
    let fetched = crate::services::audit::list_audit_events(&app_state()?, &at, &filter).await.map_err(user_error)?;
    let (events, more) = cut_page(fetched, AUDIT_PAGE_SIZE as usize);
    let older_than = if more { events.last().map(|event| event.id) } else { None };
    Ok(AuditPage { events, older_than })
}

/// Splits items fetched one beyond `size` into a page and whether more exist.
pub fn cut_page<T>(mut items: Vec<T>, size: usize) -> (Vec<T>, bool) {
    let more = items.len() > size;
    items.truncate(size);
    (items, more)
}

#[cfg(test)]
mod tests {
    use super::cut_page;

    #[test]
    fn a_page_knows_whether_more_exist() {
        assert_eq!(cut_page((0..51).collect::<Vec<_>>(), 50), ((0..50).collect(), true));
        assert_eq!(cut_page((0..50).collect::<Vec<_>>(), 50), ((0..50).collect(), false), "exactly a page: nothing older");
        assert_eq!(cut_page(Vec::<i32>::new(), 50), (vec![], false));
    }
}
