//! The SQL stores' [`PolicyStore`](crate::storage::PolicyStore): workspaces' DCR policies.

/// Implements [`PolicyStore`](crate::storage::PolicyStore) for a SQL store type (`sql_store!`, one
/// per backend).
macro_rules! policy_store {
    ($name:ident, $db:ty) => {
        impl $name {
            fn policy_from_row(row: &<$db as sqlx::Database>::Row) -> Result<Policy, StoreError> {
                Ok(Policy {
                    id: PolicyId::parse(row.try_get::<String, _>("id")?).map_err(|e| corrupt("dcr_policy.id")(e.to_string()))?,
                    name: row.try_get("name")?,
                    body: row.try_get::<Json<PolicyBody>, _>("body")?.0,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                })
            }
        }

        #[async_trait]
        impl PolicyStore for $name {
            async fn insert_policy(&self, at: &WorkspaceRef, policy: &Policy) -> Result<(), StoreError> {
                sqlx::query(
                    "insert into dcr_policy (tenant_id, workspace_id, id, name, language, body, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(at.tenant.as_str())
                .bind(at.workspace.as_str())
                .bind(policy.id.as_str())
                .bind(&policy.name)
                .bind(policy.body.language())
                .bind(Json(&policy.body))
                .bind(policy.created_at)
                .bind(policy.updated_at)
                .execute(&self.pool)
                .await
                .map_err(|e| classify(e, StoreError::Conflict))?;
                Ok(())
            }

            async fn policies(&self, at: &WorkspaceRef) -> Result<Vec<Policy>, StoreError> {
                let rows = sqlx::query(
                    "select id, name, body, created_at, updated_at from dcr_policy \
                     where tenant_id = $1 and workspace_id = $2 order by name, id",
                )
                .bind(at.tenant.as_str())
                .bind(at.workspace.as_str())
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::policy_from_row).collect()
            }

            async fn policy(&self, at: &WorkspaceRef, id: &PolicyId) -> Result<Option<Policy>, StoreError> {
                let row = sqlx::query(
                    "select id, name, body, created_at, updated_at from dcr_policy \
                     where tenant_id = $1 and workspace_id = $2 and id = $3",
                )
                .bind(at.tenant.as_str())
                .bind(at.workspace.as_str())
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(Self::policy_from_row).transpose()
            }

            async fn update_policy(
                &self,
                at: &WorkspaceRef,
                id: &PolicyId,
                draft: &PolicyDraft,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "update dcr_policy set name = $1, language = $2, body = $3, updated_at = $4 \
                     where tenant_id = $5 and workspace_id = $6 and id = $7",
                )
                .bind(&draft.name)
                .bind(draft.body.language())
                .bind(Json(&draft.body))
                .bind(now)
                .bind(at.tenant.as_str())
                .bind(at.workspace.as_str())
                .bind(id.as_str())
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete_policy(&self, at: &WorkspaceRef, id: &PolicyId) -> Result<PolicyDeletion, StoreError> {
                let mut tx = self.pool.begin().await?;
                // Hold the workspace row, as a DCR settings write does, then read the settings.
                sqlx::query("update workspace set updated_at = updated_at where tenant_id = $1 and id = $2")
                    .bind(at.tenant.as_str())
                    .bind(at.workspace.as_str())
                    .execute(&mut *tx)
                    .await?;
                let attached =
                    sqlx::query("select 1 from workspace where tenant_id = $1 and id = $2 and dcr_settings ->> 'policy_id' = $3")
                        .bind(at.tenant.as_str())
                        .bind(at.workspace.as_str())
                        .bind(id.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                if attached.is_some() {
                    return Ok(PolicyDeletion::Attached);
                }
                let done = sqlx::query("delete from dcr_policy where tenant_id = $1 and workspace_id = $2 and id = $3")
                    .bind(at.tenant.as_str())
                    .bind(at.workspace.as_str())
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(if done.rows_affected() == 1 { PolicyDeletion::Deleted } else { PolicyDeletion::NotFound })
            }
        }
    };
}

pub(super) use policy_store;
