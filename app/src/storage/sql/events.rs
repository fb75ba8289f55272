//! The SQL stores' [`EventStore`](crate::storage::EventStore): each workspace's audit log and the
//! administrators' activity.

/// Implements [`EventStore`](crate::storage::EventStore) for a SQL store type (`sql_store!`, one
/// per backend).
macro_rules! event_store {
    ($name:ident, $db:ty) => {
        impl $name {
            fn audit_event_from_row(row: &<$db as sqlx::Database>::Row) -> Result<AuditEvent, StoreError> {
                let event_type: &str = row.try_get("event_type")?;
                let outcome: &str = row.try_get("outcome")?;
                Ok(AuditEvent {
                    id: row.try_get("id")?,
                    event: NewAuditEvent {
                        workspace: WorkspaceRef {
                            tenant: parse_tenant(row.try_get("tenant_id")?)?,
                            workspace: parse_workspace_id(row.try_get("workspace_id")?)?,
                        },
                        event_type: event_type
                            .parse()
                            .map_err(|e: crate::domain::oauth::UnknownValue| corrupt("audit_event.event_type")(e.to_string()))?,
                        outcome: outcome
                            .parse()
                            .map_err(|e: crate::domain::oauth::UnknownValue| corrupt("audit_event.outcome")(e.to_string()))?,
                        client_id: row.try_get("client_id")?,
                        error: row.try_get("error")?,
                        error_description: row.try_get("error_description")?,
                        software_id: row.try_get("software_id")?,
                        org_id: row.try_get("org_id")?,
                        client_cert_subject: row.try_get("client_cert_subject")?,
                        remote_addr: row.try_get("remote_addr")?,
                        actor: row.try_get("actor")?,
                        detail: row.try_get("detail")?,
                        created_at: row.try_get("created_at")?,
                    },
                })
            }

            fn administrator_event_from_row(row: &<$db as sqlx::Database>::Row) -> Result<AdministratorEvent, StoreError> {
                let event_type: &str = row.try_get("event_type")?;
                let outcome: &str = row.try_get("outcome")?;
                Ok(AdministratorEvent {
                    id: row.try_get("id")?,
                    event: NewAdministratorEvent {
                        event_type: event_type.parse().map_err(|e: crate::domain::oauth::UnknownValue| {
                            corrupt("administrator_event.event_type")(e.to_string())
                        })?,
                        outcome: outcome.parse().map_err(|e: crate::domain::oauth::UnknownValue| {
                            corrupt("administrator_event.outcome")(e.to_string())
                        })?,
                        email: row.try_get("email")?,
                        actor: row.try_get("actor")?,
                        remote_addr: row.try_get("remote_addr")?,
                        detail: row.try_get("detail")?,
                        created_at: row.try_get("created_at")?,
                    },
                })
            }
        }

        #[async_trait]
        impl EventStore for $name {
            async fn record_audit_event(&self, event: &NewAuditEvent) -> Result<(), StoreError> {
                self.writes.submit(Write::AuditEvent(Box::new(event.clone()))).await
            }

            async fn queue_audit_event(&self, event: NewAuditEvent) {
                self.writes.submit_detached(Write::AuditEvent(Box::new(event))).await;
            }

            async fn audit_events(&self, at: &WorkspaceRef, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
                let rows = sqlx::query(
                    "select id, tenant_id, workspace_id, event_type, outcome, client_id, error, error_description, \
                     software_id, org_id, client_cert_subject, remote_addr, actor, detail, created_at from audit_event \
                     where tenant_id = $1 and workspace_id = $2 and ($3 is null or event_type = $3) \
                     and ($4 is null or outcome = $4) and ($5 is null or id < $5) \
                     order by id desc limit $6",
                )
                .bind(at.tenant.as_str())
                .bind(at.workspace.as_str())
                .bind(filter.event_type.map(|t| t.as_str()))
                .bind(filter.outcome.map(|o| o.as_str()))
                .bind(filter.before_id)
                .bind(i64::from(filter.effective_limit()))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::audit_event_from_row).collect()
            }

            async fn purge_audit_events(&self, cut_off: DateTime<Utc>, batch: u64) -> Result<u64, StoreError> {
                let done = sqlx::query(
                    "delete from audit_event where id in (select id from audit_event order by id limit $2) and created_at < $1",
                )
                .bind(cut_off)
                .bind(saturating_i64(batch))
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }

            async fn purge_administrator_events(&self, cut_off: DateTime<Utc>, batch: u64) -> Result<u64, StoreError> {
                let done = sqlx::query(
                    "delete from administrator_event where id in \
                     (select id from administrator_event order by id limit $2) and created_at < $1",
                )
                .bind(cut_off)
                .bind(saturating_i64(batch))
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }

            async fn record_administrator_event(&self, event: &NewAdministratorEvent) -> Result<(), StoreError> {
                sqlx::query(
                    "insert into administrator_event (event_type, outcome, email, actor, remote_addr, detail, created_at) \
                     values ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(event.event_type.as_str())
                .bind(event.outcome.as_str())
                .bind(&event.email)
                .bind(&event.actor)
                .bind(&event.remote_addr)
                .bind(&event.detail)
                .bind(event.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn administrator_events(
                &self,
                filter: &AdministratorEventFilter,
            ) -> Result<Vec<AdministratorEvent>, StoreError> {
                let rows = sqlx::query(
                    "select id, event_type, outcome, email, actor, remote_addr, detail, created_at from administrator_event \
                     where ($1 is null or event_type = $1) and ($2 is null or outcome = $2) and ($3 is null or id < $3) \
                     order by id desc limit $4",
                )
                .bind(filter.event_type.map(|t| t.as_str()))
                .bind(filter.outcome.map(|o| o.as_str()))
                .bind(filter.before_id)
                .bind(i64::from(filter.effective_limit()))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::administrator_event_from_row).collect()
            }
        }
    };
}

pub(super) use event_store;
