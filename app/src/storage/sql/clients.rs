//! The SQL stores' [`ClientStore`](crate::storage::ClientStore): clients, the access tokens issued
//! to them, and the replay guards of requests' and assertions' `jti`s.

/// Implements [`ClientStore`](crate::storage::ClientStore) for a SQL store type (`sql_store!`, one
/// per backend).
macro_rules! client_store {
    ($name:ident, $db:ty) => {
        impl $name {
            fn client_summary_from_row(row: &<$db as sqlx::Database>::Row) -> Result<ClientSummary, StoreError> {
                let method: &str = row.try_get("token_endpoint_auth_method")?;
                Ok(ClientSummary {
                    client_id: row.try_get("client_id")?,
                    name: row.try_get("name")?,
                    dynamically_registered: row.try_get("dynamically_registered")?,
                    software_id: row.try_get("software_id")?,
                    org_id: row.try_get("org_id")?,
                    org_name: row.try_get("org_name")?,
                    last_token_at: row.try_get("last_token_at")?,
                    token_endpoint_auth_method: method.parse().map_err(|e: crate::domain::oauth::UnknownValue| {
                        corrupt("client.token_endpoint_auth_method")(e.to_string())
                    })?,
                    created_at: row.try_get("created_at")?,
                })
            }
        }

        #[async_trait]
        impl ClientStore for $name {
            async fn register_client(
                &self,
                mut client: NewClient,
                replay: Option<&ReplayGuard>,
                consumed_token: Option<&str>,
                max_dynamic_clients: u32,
                audit: &NewAuditEvent,
            ) -> Result<(), StoreError> {
                // Serialized here, and the tree dropped here, on the caller's task rather than
                // the writer's, which every registration waits on.
                let metadata = stored_metadata::serialized(&client.metadata, client.software_statement.as_deref())?;
                drop(std::mem::take(&mut client.metadata));
                self.writes
                    .submit(Write::Registration {
                        client: Box::new(client),
                        metadata,
                        replay: replay.cloned(),
                        consumed_token: consumed_token.map(str::to_owned),
                        max_dynamic_clients,
                        audit: Box::new(audit.clone()),
                    })
                    .await
            }

            async fn clients(&self, at: &WorkspaceRef, selection: &ClientSelection) -> Result<Vec<ClientSummary>, StoreError> {
                if !storable(&selection.search) {
                    return Ok(Vec::new());
                }
                let (offset, cursor) = match &selection.start {
                    PageStart::Offset(offset) => (*offset, None),
                    PageStart::After(cursor) => (0, Some(cursor)),
                };
                let rows = sqlx::query(concat!(
                    "select c.client_id, c.name, c.dynamically_registered, c.software_id, c.org_id, c.org_name, \
                     c.token_endpoint_auth_method, c.created_at, ",
                    last_token_at_of_c!(),
                    " ",
                    selected_clients!(),
                    // After a cursor's place ($6, $7: null, from the start), in the list's order.
                    " and ($6 is null or c.created_at < $6 or (c.created_at = $6 and c.client_id > $7)) \
                     order by c.created_at desc, c.client_id limit $8 offset $9",
                ))
                .bind(at.tenant.as_str())
                .bind(at.workspace.as_str())
                .bind(filter_flag(selection.filter))
                .bind(selection.unused_since)
                .bind(containing(&selection.search))
                .bind(cursor.map(|c| c.created_at))
                .bind(cursor.map(|c| c.client_id.as_str()))
                .bind(selection.limit.map_or(i64::MAX, saturating_i64))
                .bind(saturating_i64(offset))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::client_summary_from_row).collect()
            }

            async fn count_clients(&self, at: &WorkspaceRef, selection: &ClientSelection) -> Result<u64, StoreError> {
                if !storable(&selection.search) {
                    return Ok(0);
                }
                let count: i64 = sqlx::query_scalar(concat!("select count(*) ", selected_clients!()))
                    .bind(at.tenant.as_str())
                    .bind(at.workspace.as_str())
                    .bind(filter_flag(selection.filter))
                    .bind(selection.unused_since)
                    .bind(containing(&selection.search))
                    .fetch_one(&self.pool)
                    .await?;
                u64::try_from(count).map_err(|e| corrupt("count(*)")(e.to_string()))
            }

            #[cfg(test)]
            async fn dynamic_client_count(&self, at: &WorkspaceRef) -> Result<u64, StoreError> {
                let count: Option<i64> =
                    sqlx::query_scalar("select clients from dynamic_client_count where tenant_id = $1 and workspace_id = $2")
                        .bind(at.tenant.as_str())
                        .bind(at.workspace.as_str())
                        .fetch_optional(&self.pool)
                        .await?;
                u64::try_from(count.unwrap_or(0)).map_err(|e| corrupt("dynamic_client_count.clients")(e.to_string()))
            }

            async fn client_with_credentials(
                &self,
                at: &WorkspaceRef,
                client_id: &str,
            ) -> Result<Option<(ClientDetails, StoredCredentials)>, StoreError> {
                if !storable(client_id) {
                    return Ok(None);
                }
                let mut reader = self.readers.lend().await?;
                let row = sqlx::query(SELECT_CLIENT_WITH_CREDENTIALS)
                    .bind(at.tenant.as_str())
                    .bind(at.workspace.as_str())
                    .bind(client_id)
                    .fetch_optional(&mut *reader)
                    .await?;
                reader.give_back();
                row.as_ref()
                    .map(|row| {
                        let software_statement: Option<String> = row.try_get("software_statement")?;
                        let metadata = row.try_get::<Json<Value>, _>("metadata")?.0;
                        let details = ClientDetails {
                            summary: Self::client_summary_from_row(row)?,
                            metadata: stored_metadata::restored(metadata, software_statement.clone()),
                            software_statement,
                            updated_at: row.try_get("updated_at")?,
                        };
                        let credentials = StoredCredentials {
                            client_secret_hash: row.try_get("client_secret_hash")?,
                            registration_access_token_hash: row.try_get("registration_access_token_hash")?,
                            registration_access_token_subject: row.try_get("registration_access_token_subject")?,
                        };
                        Ok((details, credentials))
                    })
                    .transpose()
            }

            async fn delete_client(&self, at: &WorkspaceRef, client_id: &str, audit: &NewAuditEvent) -> Result<bool, StoreError> {
                self.delete_client_if(at, client_id, None, audit).await
            }

            async fn delete_unused_client(
                &self,
                at: &WorkspaceRef,
                client_id: &str,
                unused_since: DateTime<Utc>,
                audit: &NewAuditEvent,
            ) -> Result<bool, StoreError> {
                self.delete_client_if(at, client_id, Some(unused_since), audit).await
            }

            async fn update_client(
                &self,
                client: &NewClient,
                replay: Option<&ReplayGuard>,
                audit: &NewAuditEvent,
            ) -> Result<bool, StoreError> {
                let mut tx = self.pool.begin().await?;
                if let Some(guard) = replay {
                    Self::insert_guard(&mut *tx, guard).await?;
                }
                let summary = &client.summary;
                let done = sqlx::query(
                    "update client set name = $1, software_id = $2, org_id = $3, org_name = $4, token_endpoint_auth_method = $5, \
                     metadata = $6, software_statement = $7, updated_at = $8, client_secret_hash = $12 \
                     where client_id = (with c as materialized \
                     (select client_id, tenant_id, workspace_id from client where client_id = $11) \
                     select client_id from c where tenant_id = $9 and workspace_id = $10)",
                )
                .bind(summary.name.as_deref())
                .bind(summary.software_id.as_deref())
                .bind(summary.org_id.as_deref())
                .bind(summary.org_name.as_deref())
                .bind(summary.token_endpoint_auth_method.as_str())
                .bind(Json(stored_metadata::for_storage(&client.metadata, client.software_statement.as_deref())))
                .bind(client.software_statement.as_deref())
                .bind(audit.created_at)
                .bind(client.workspace.tenant.as_str())
                .bind(client.workspace.workspace.as_str())
                .bind(&summary.client_id)
                .bind(client.client_secret_hash.as_deref())
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Ok(false);
                }
                Self::insert_audit_event(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn insert_replay_guard(&self, guard: &ReplayGuard) -> Result<(), StoreError> {
                self.writes.submit(Write::ReplayGuard(guard.clone())).await
            }

            async fn insert_access_token(
                &self,
                token: &AccessTokenRecord,
                token_hash: &str,
                replay: Option<&ReplayGuard>,
                audit: &NewAuditEvent,
            ) -> Result<(), StoreError> {
                let write = Write::AccessToken {
                    record: token.clone(),
                    token_hash: token_hash.to_owned(),
                    replay: replay.cloned(),
                    audit: Box::new(audit.clone()),
                };
                self.writes.submit(write).await
            }

            async fn access_token(&self, jti: &str) -> Result<Option<(AccessTokenRecord, SecretHash)>, StoreError> {
                let mut reader = self.readers.lend().await?;
                let row = sqlx::query(
                    "select jti, token_hash, tenant_id, workspace_id, client_id, scope, certificate_thumbprint, issued_at, \
                     expires_at, revoked_at is not null as revoked from access_token where jti = $1",
                )
                .bind(jti)
                .fetch_optional(&mut *reader)
                .await?;
                reader.give_back();
                row.map(|row| {
                    let record = AccessTokenRecord {
                        jti: row.try_get("jti")?,
                        workspace: WorkspaceRef {
                            tenant: parse_tenant(row.try_get("tenant_id")?)?,
                            workspace: parse_workspace_id(row.try_get("workspace_id")?)?,
                        },
                        client_id: row.try_get("client_id")?,
                        scope: row.try_get("scope")?,
                        certificate_thumbprint: row.try_get("certificate_thumbprint")?,
                        issued_at: row.try_get("issued_at")?,
                        expires_at: row.try_get("expires_at")?,
                        revoked: row.try_get("revoked")?,
                    };
                    Ok((record, SecretHash::from_stored(row.try_get("token_hash")?)))
                })
                .transpose()
            }

            async fn revoke_access_token(&self, jti: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
                let done = sqlx::query("update access_token set revoked_at = $1 where jti = $2 and revoked_at is null")
                    .bind(now)
                    .bind(jti)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn replay_guard_exists(&self, guard: &ReplayGuard) -> Result<bool, StoreError> {
                let row = sqlx::query(
                    "select 1 from replay_guard where tenant_id = $1 and workspace_id = $2 and issuer = $3 and jti = $4",
                )
                .bind(guard.scope.tenant().as_str())
                .bind(guard.scope.workspace_column())
                .bind(&guard.issuer)
                .bind(&guard.jti)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.is_some())
            }

            async fn purge_expired_access_tokens(&self, now_epoch: i64, batch: u64) -> Result<u64, StoreError> {
                // Read before the batch's transaction, whose first statement then writes: a
                // SQLite transaction that read first cannot write once another has.
                let expired: Vec<(String, String, DateTime<Utc>, i64)> = sqlx::query_as(
                    "select jti, client_id, issued_at, expires_at from access_token where expires_at < $1 \
                     order by expires_at, jti limit $2",
                )
                .bind(now_epoch)
                .bind(saturating_i64(batch))
                .fetch_all(&self.pool)
                .await?;
                let Some((last_jti, _, _, last_expiry)) = expired.last() else { return Ok(0) };
                let mut tx = self.pool.begin().await?;
                for (client_id, issued_at) in newest_issue_per_client(&expired) {
                    sqlx::query(
                        "update client set purged_token_at = $2 where client_id = $1 \
                         and (purged_token_at is null or purged_token_at < $2)",
                    )
                    .bind(client_id)
                    .bind(issued_at)
                    .execute(&mut *tx)
                    .await?;
                }
                // The batch is the first rows in (expiry, jti) order: every row up to its last.
                let done = sqlx::query("delete from access_token where expires_at < $1 or (expires_at = $1 and jti <= $2)")
                    .bind(last_expiry)
                    .bind(last_jti)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done.rows_affected())
            }

            async fn purge_expired_replay_guards(&self, now_epoch: i64, batch: u64) -> Result<u64, StoreError> {
                let done = sqlx::query(
                    "delete from replay_guard where (tenant_id, workspace_id, issuer, jti) in \
                     (select tenant_id, workspace_id, issuer, jti from replay_guard where expires_at < $1 \
                     order by expires_at limit $2)",
                )
                .bind(now_epoch)
                .bind(saturating_i64(batch))
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }
        }
    };
}

pub(super) use client_store;
