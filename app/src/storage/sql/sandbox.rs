//! The SQL stores' [`SandboxStore`](crate::storage::SandboxStore): each tenant's sandbox directory
//! and its software.

/// Implements [`SandboxStore`](crate::storage::SandboxStore) for a SQL store type (`sql_store!`,
/// one per backend).
macro_rules! sandbox_store {
    ($name:ident, $db:ty) => {
        #[async_trait]
        impl SandboxStore for $name {
            async fn sandbox_directory(&self, tenant: &TenantId) -> Result<Option<SandboxDirectoryKeys>, StoreError> {
                let row = sqlx::query(
                    "select signing_key_pem, ca_cert_pem, ca_key_pem, created_at from sandbox_directory where tenant_id = $1",
                )
                .bind(tenant.as_str())
                .fetch_optional(&self.pool)
                .await?;
                row.map(|row| {
                    Ok(SandboxDirectoryKeys {
                        signing_key_pem: row.try_get("signing_key_pem")?,
                        ca_cert_pem: row.try_get("ca_cert_pem")?,
                        ca_key_pem: row.try_get("ca_key_pem")?,
                        created_at: row.try_get("created_at")?,
                    })
                })
                .transpose()
            }

            async fn ensure_sandbox_directory(
                &self,
                tenant: &TenantId,
                keys: &SandboxDirectoryKeys,
            ) -> Result<SandboxDirectoryKeys, StoreError> {
                sqlx::query(
                    "insert into sandbox_directory (tenant_id, signing_key_pem, ca_cert_pem, ca_key_pem, created_at) \
                     values ($1, $2, $3, $4, $5) on conflict (tenant_id) do nothing",
                )
                .bind(tenant.as_str())
                .bind(&keys.signing_key_pem)
                .bind(&keys.ca_cert_pem)
                .bind(&keys.ca_key_pem)
                .bind(keys.created_at)
                .execute(&self.pool)
                .await
                .map_err(|e| classify(e, StoreError::Conflict))?;
                self.sandbox_directory(tenant).await?.ok_or(StoreError::NotFound)
            }

            async fn put_sandbox_software(
                &self,
                tenant: &TenantId,
                software: &SandboxSoftware,
                held_bundle: Option<&str>,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "insert into sandbox_software (tenant_id, software_id, document, held_bundle, created_at) \
                     values ($1, $2, $3, $4, $5) on conflict (tenant_id, software_id) do update \
                     set document = excluded.document, held_bundle = excluded.held_bundle, created_at = excluded.created_at",
                )
                .bind(tenant.as_str())
                .bind(&software.details.software_id)
                .bind(Json(software))
                .bind(held_bundle)
                .bind(software.created_at)
                .execute(&self.pool)
                .await
                .map_err(|e| classify(e, StoreError::Conflict))?;
                Ok(())
            }

            async fn sandbox_software(&self, tenant: &TenantId, software_id: &str) -> Result<Option<SandboxSoftware>, StoreError> {
                let row = sqlx::query("select document from sandbox_software where tenant_id = $1 and software_id = $2")
                    .bind(tenant.as_str())
                    .bind(software_id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|row| row.try_get::<Json<SandboxSoftware>, _>("document")).transpose()?.map(|json| json.0))
            }

            async fn sandbox_software_list(&self, tenant: &TenantId) -> Result<Vec<SandboxSoftwareSummary>, StoreError> {
                let rows = sqlx::query(
                    "select document, held_bundle is not null as held from sandbox_software where tenant_id = $1 \
                     order by created_at desc, software_id",
                )
                .bind(tenant.as_str())
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        let software = row.try_get::<Json<SandboxSoftware>, _>("document")?.0;
                        Ok(SandboxSoftwareSummary {
                            details: software.details,
                            created_at: software.created_at,
                            held: row.try_get("held")?,
                        })
                    })
                    .collect()
            }

            async fn sandbox_held_bundle(&self, tenant: &TenantId, software_id: &str) -> Result<Option<String>, StoreError> {
                let row = sqlx::query("select held_bundle from sandbox_software where tenant_id = $1 and software_id = $2")
                    .bind(tenant.as_str())
                    .bind(software_id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|row| row.try_get::<Option<String>, _>("held_bundle")).transpose()?.flatten())
            }

            async fn delete_sandbox_software(&self, tenant: &TenantId, software_id: &str) -> Result<bool, StoreError> {
                let done = sqlx::query("delete from sandbox_software where tenant_id = $1 and software_id = $2")
                    .bind(tenant.as_str())
                    .bind(software_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

pub(super) use sandbox_store;
