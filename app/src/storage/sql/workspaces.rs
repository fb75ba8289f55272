//! The SQL stores' [`WorkspaceStore`](crate::storage::WorkspaceStore): tenants, workspaces with
//! their settings, and workspaces' signing keys.

/// Implements [`WorkspaceStore`](crate::storage::WorkspaceStore) for a SQL store type
/// (`sql_store!`, one per backend).
macro_rules! workspace_store {
    ($name:ident, $db:ty) => {
        impl $name {
            fn workspace_from_row(row: &<$db as sqlx::Database>::Row) -> Result<Workspace, StoreError> {
                Ok(Workspace {
                    tenant: parse_tenant(row.try_get("tenant_id")?)?,
                    id: parse_workspace_id(row.try_get("id")?)?,
                    name: row.try_get("name")?,
                    profile: parse_profile(row.try_get::<&str, _>("profile")?)?,
                    settings: row.try_get::<Json<WorkspaceSettings>, _>("settings")?.0,
                    dcr: row.try_get::<Json<DcrSettings>, _>("dcr_settings")?.0,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                })
            }

            /// A row of [`SELECT_SIGNING_KEYS`].
            fn signing_key_from_row(row: &<$db as sqlx::Database>::Row) -> Result<WorkspaceSigningKey, StoreError> {
                let algorithm: &str = row.try_get("algorithm")?;
                Ok(WorkspaceSigningKey {
                    workspace: WorkspaceRef {
                        tenant: parse_tenant(row.try_get("tenant_id")?)?,
                        workspace: parse_workspace_id(row.try_get("workspace_id")?)?,
                    },
                    material: SigningKeyMaterial {
                        kid: row.try_get("kid")?,
                        algorithm: JwsAlgorithm::parse(algorithm)
                            .ok_or_else(|| StoreError::Corrupt(format!("signing_key.algorithm: {algorithm}")))?,
                        sealed_private_key: row.try_get("private_key_pem")?,
                        public_jwk: row.try_get::<Json<Value>, _>("public_jwk")?.0,
                    },
                    created_at: row.try_get("created_at")?,
                    signs_from: row.try_get("signs_from")?,
                })
            }
        }

        #[async_trait]
        impl WorkspaceStore for $name {
            async fn ensure_tenant(&self, id: &TenantId, name: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
                sqlx::query("insert into tenant (id, name, created_at) values ($1, $2, $3) on conflict (id) do nothing")
                    .bind(id.as_str())
                    .bind(name)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn tenant_exists(&self, id: &TenantId) -> Result<bool, StoreError> {
                let found = sqlx::query("select 1 from tenant where id = $1")
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(found.is_some())
            }

            async fn insert_workspace(&self, workspace: &Workspace) -> Result<(), StoreError> {
                sqlx::query(
                    "insert into workspace (tenant_id, id, name, profile, settings, dcr_settings, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(workspace.tenant.as_str())
                .bind(workspace.id.as_str())
                .bind(&workspace.name)
                .bind(workspace.profile.as_str())
                .bind(Json(&workspace.settings))
                .bind(Json(&workspace.dcr))
                .bind(workspace.created_at)
                .bind(workspace.updated_at)
                .execute(&self.pool)
                .await
                .map_err(|e| classify(e, StoreError::Conflict))?;
                Ok(())
            }

            async fn workspace(&self, at: &WorkspaceRef) -> Result<Option<std::sync::Arc<Workspace>>, StoreError> {
                if let Some(workspace) = self.workspaces.get(at) {
                    return Ok(Some(workspace));
                }
                let generation = self.workspaces.generation();
                let row = sqlx::query(
                    "select tenant_id, id, name, profile, settings, dcr_settings, created_at, updated_at \
                     from workspace where tenant_id = $1 and id = $2",
                )
                .bind(at.tenant.as_str())
                .bind(at.workspace.as_str())
                .fetch_optional(&self.pool)
                .await?;
                let workspace = row.as_ref().map(Self::workspace_from_row).transpose()?.map(std::sync::Arc::new);
                if let Some(workspace) = &workspace {
                    self.workspaces.put(at, workspace.clone(), generation);
                }
                Ok(workspace)
            }

            async fn workspaces(&self, tenant: &TenantId) -> Result<Vec<WorkspaceSummary>, StoreError> {
                let rows = sqlx::query(
                    "select w.tenant_id, w.id, w.name, w.profile, w.dcr_settings, \
                     (select count(*) from client c where c.tenant_id = w.tenant_id and c.workspace_id = w.id) as client_count \
                     from workspace w where w.tenant_id = $1 order by w.created_at, w.id",
                )
                .bind(tenant.as_str())
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(WorkspaceSummary {
                            tenant: parse_tenant(row.try_get("tenant_id")?)?,
                            id: parse_workspace_id(row.try_get("id")?)?,
                            name: row.try_get("name")?,
                            profile: parse_profile(row.try_get::<&str, _>("profile")?)?,
                            dcr_enabled: row.try_get::<Json<DcrSettings>, _>("dcr_settings")?.0.enabled,
                            client_count: row.try_get("client_count")?,
                        })
                    })
                    .collect()
            }

            async fn update_workspace_settings(
                &self,
                at: &WorkspaceRef,
                settings: &WorkspaceSettings,
                read_at: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "update workspace set settings = $1, updated_at = $2 where tenant_id = $3 and id = $4 and updated_at = $5",
                )
                    .bind(Json(settings))
                    .bind(now)
                    .bind(at.tenant.as_str())
                    .bind(at.workspace.as_str())
                    .bind(read_at)
                    .execute(&self.pool)
                    .await;
                self.workspaces.forget(at);
                Ok(done?.rows_affected() == 1)
            }

            async fn update_dcr_settings(
                &self,
                at: &WorkspaceRef,
                dcr: &DcrSettings,
                read_at: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> Result<DcrSettingsWrite, StoreError> {
                let mut tx = self.pool.begin().await?;
                // Writing the row first holds it against a concurrent policy deletion.
                let done = sqlx::query(
                    "update workspace set dcr_settings = $1, updated_at = $2 where tenant_id = $3 and id = $4 and updated_at = $5",
                )
                    .bind(Json(dcr))
                    .bind(now)
                    .bind(at.tenant.as_str())
                    .bind(at.workspace.as_str())
                    .bind(read_at)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() != 1 {
                    self.workspaces.forget(at);
                    return Ok(DcrSettingsWrite::NotAsRead);
                }
                if let Some(id) = &dcr.policy_id {
                    let found = sqlx::query("select 1 from dcr_policy where tenant_id = $1 and workspace_id = $2 and id = $3")
                        .bind(at.tenant.as_str())
                        .bind(at.workspace.as_str())
                        .bind(id.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                    if found.is_none() {
                        return Ok(DcrSettingsWrite::NoPolicy);
                    }
                }
                tx.commit().await?;
                self.workspaces.forget(at);
                Ok(DcrSettingsWrite::Saved)
            }

            async fn insert_signing_key(&self, key: &WorkspaceSigningKey) -> Result<(), StoreError> {
                let done = sqlx::query(
                    "insert into signing_key (kid, tenant_id, workspace_id, algorithm, private_key_pem, public_jwk, created_at, \
                     signs_from) values ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&key.material.kid)
                .bind(key.workspace.tenant.as_str())
                .bind(key.workspace.workspace.as_str())
                .bind(key.material.algorithm.as_str())
                .bind(key.material.sealed_private_key.as_deref())
                .bind(Json(&key.material.public_jwk))
                .bind(key.created_at)
                .bind(key.signs_from)
                .execute(&self.pool)
                .await;
                self.signing_keys.forget(&key.workspace);
                done.map_err(|e| classify(e, StoreError::Conflict))?;
                Ok(())
            }

            async fn signing_keys(&self, at: &WorkspaceRef) -> Result<std::sync::Arc<[WorkspaceSigningKey]>, StoreError> {
                if let Some(keys) = self.signing_keys.get(at) {
                    return Ok(keys);
                }
                let generation = self.signing_keys.generation();
                let query = format!("{SELECT_SIGNING_KEYS} where tenant_id = $1 and workspace_id = $2 order by created_at desc, kid");
                let rows = sqlx::query(&query).bind(at.tenant.as_str()).bind(at.workspace.as_str()).fetch_all(&self.pool).await?;
                rows.iter()
                    .map(Self::signing_key_from_row)
                    .collect::<Result<std::sync::Arc<[_]>, StoreError>>()
                    .inspect(|keys| self.signing_keys.put(at, keys.clone(), generation))
            }

            async fn every_signing_key(&self) -> Result<Vec<WorkspaceSigningKey>, StoreError> {
                let query = format!("{SELECT_SIGNING_KEYS} order by tenant_id, workspace_id, created_at desc, kid");
                sqlx::query(&query).fetch_all(&self.pool).await?.iter().map(Self::signing_key_from_row).collect()
            }

            async fn erase_private_key(&self, at: &WorkspaceRef, kid: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "update signing_key set private_key_pem = '', retired_at = $1 \
                     where tenant_id = $2 and workspace_id = $3 and kid = $4 and retired_at is null",
                )
                .bind(now)
                .bind(at.tenant.as_str())
                .bind(at.workspace.as_str())
                .bind(kid)
                .execute(&self.pool)
                .await;
                self.signing_keys.forget(at);
                Ok(done?.rows_affected() == 1)
            }

            async fn start_signing(&self, at: &WorkspaceRef, kid: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "update signing_key set signs_from = $1 \
                     where tenant_id = $2 and workspace_id = $3 and kid = $4 and signs_from > $1",
                )
                .bind(now)
                .bind(at.tenant.as_str())
                .bind(at.workspace.as_str())
                .bind(kid)
                .execute(&self.pool)
                .await;
                self.signing_keys.forget(at);
                Ok(done?.rows_affected() == 1)
            }

            async fn delete_planned_signing_key(
                &self,
                at: &WorkspaceRef,
                kid: &str,
                not_before: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "delete from signing_key where tenant_id = $1 and workspace_id = $2 and kid = $3 and signs_from > $4",
                )
                .bind(at.tenant.as_str())
                .bind(at.workspace.as_str())
                .bind(kid)
                .bind(not_before)
                .execute(&self.pool)
                .await;
                self.signing_keys.forget(at);
                Ok(done?.rows_affected() == 1)
            }

            async fn insert_planned_signing_key(
                &self,
                key: &WorkspaceSigningKey,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "insert into signing_key (kid, tenant_id, workspace_id, algorithm, private_key_pem, public_jwk, created_at, \
                     signs_from) select $1, $2, $3, $4, $5, $6, $7, $8 where not exists (select 1 from signing_key \
                     where tenant_id = $2 and workspace_id = $3 and algorithm = $4 and signs_from > $9)",
                )
                .bind(&key.material.kid)
                .bind(key.workspace.tenant.as_str())
                .bind(key.workspace.workspace.as_str())
                .bind(key.material.algorithm.as_str())
                .bind(key.material.sealed_private_key.as_deref())
                .bind(Json(&key.material.public_jwk))
                .bind(key.created_at)
                .bind(key.signs_from)
                .bind(now)
                .execute(&self.pool)
                .await;
                self.signing_keys.forget(&key.workspace);
                Ok(done.map_err(|e| classify(e, StoreError::Conflict))?.rows_affected() == 1)
            }
        }
    };
}

pub(super) use workspace_store;
