//! The SQL stores' [`AdministratorStore`](crate::storage::AdministratorStore): console
//! administrators, their failed sign-ins and trusted browsers, and the admin API key.

/// Implements [`AdministratorStore`](crate::storage::AdministratorStore) for a SQL store type
/// (`sql_store!`, one per backend).
macro_rules! administrator_store {
    ($name:ident, $db:ty) => {
        impl $name {
            fn admin_user_from_row(row: &<$db as sqlx::Database>::Row) -> Result<AdminUser, StoreError> {
                Ok(AdminUser {
                    id: row.try_get("id")?,
                    email: row.try_get("email")?,
                    password_hash: row.try_get("password_hash")?,
                    created_at: row.try_get("created_at")?,
                })
            }

            /// Stores recovery codes of the administrator's, in `tx`.
            async fn insert_recovery_codes(
                tx: &mut sqlx::Transaction<'_, $db>,
                administrator_id: &str,
                code_hashes: &[SecretHash],
            ) -> Result<(), StoreError> {
                for code_hash in code_hashes {
                    sqlx::query("insert into admin_recovery_code (administrator_id, code_hash) values ($1, $2)")
                        .bind(administrator_id)
                        .bind(code_hash.as_str())
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            }
        }

        #[async_trait]
        impl AdministratorStore for $name {
            async fn replace_admin_api_key(&self, key_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
                sqlx::query(
                    "insert into admin_api_key (id, key_hash, created_at) values ('primary', $1, $2) \
                     on conflict (id) do update set key_hash = excluded.key_hash, created_at = excluded.created_at",
                )
                .bind(key_hash)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn admin_api_key_hashes(&self) -> Result<Vec<String>, StoreError> {
                let rows = sqlx::query("select key_hash from admin_api_key").fetch_all(&self.pool).await?;
                rows.iter().map(|row| Ok(row.try_get("key_hash")?)).collect()
            }

            async fn insert_admin_user(&self, user: &AdminUser) -> Result<(), StoreError> {
                sqlx::query(
                    "insert into admin_user (id, email, password_hash, created_at) values ($1, $2, $3, $4)",
                )
                .bind(&user.id)
                .bind(&user.email)
                .bind(&user.password_hash)
                .bind(user.created_at)
                .execute(&self.pool)
                .await
                .map_err(|e| classify(e, StoreError::Conflict))?;
                Ok(())
            }

            async fn admin_user_by_email(&self, email: &str) -> Result<Option<AdminUser>, StoreError> {
                let row = sqlx::query(
                    "select id, email, password_hash, created_at from admin_user where email = $1",
                )
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(Self::admin_user_from_row).transpose()
            }

            async fn set_admin_password(&self, email: &str, password_hash: &str, replacing: Option<&str>) -> Result<(), StoreError> {
                let done = sqlx::query("update admin_user set password_hash = $2 where email = $1 and ($3 is null or password_hash = $3)")
                    .bind(email)
                    .bind(password_hash)
                    .bind(replacing)
                    .execute(&self.pool)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn admin_user_by_id(&self, id: &str) -> Result<Option<AdminUser>, StoreError> {
                let row = sqlx::query("select id, email, password_hash, created_at from admin_user where id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::admin_user_from_row).transpose()
            }

            async fn admin_accounts(&self) -> Result<Vec<AdminAccount>, StoreError> {
                let rows = sqlx::query(
                    "select id, email, password_hash, created_at, last_signed_in_at, \
                     (select failed_codes from admin_two_step where administrator_id = admin_user.id) as two_step_wrong_codes, \
                     (select count(*) from admin_recovery_code where administrator_id = admin_user.id) as recovery_codes_left \
                     from admin_user",
                )
                .fetch_all(&self.pool)
                .await?;
                let mut accounts = rows
                    .iter()
                    .map(|row| {
                        Ok(AdminAccount {
                            user: Self::admin_user_from_row(row)?,
                            last_signed_in_at: row.try_get("last_signed_in_at")?,
                            two_step_wrong_codes: row.try_get("two_step_wrong_codes")?,
                            recovery_codes_left: row.try_get("recovery_codes_left")?,
                        })
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?;
                // Sorted here, by bytes: PostgreSQL's collation would order them otherwise than SQLite.
                accounts.sort_by(|a, b| a.user.email.cmp(&b.user.email));
                Ok(accounts)
            }

            async fn note_admin_sign_in(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
                sqlx::query("update admin_user set last_signed_in_at = $2 where id = $1").bind(id).bind(at).execute(&self.pool).await?;
                Ok(())
            }

            async fn admin_two_step(&self, administrator_id: &str) -> Result<Option<StoredTwoStep>, StoreError> {
                let row = sqlx::query(
                    "select secret_sealed, enabled_at, last_used_step, failed_codes, \
                     (select count(*) from admin_recovery_code where administrator_id = $1) as recovery_codes_left \
                     from admin_two_step where administrator_id = $1",
                )
                    .bind(administrator_id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|row| {
                    Ok(StoredTwoStep {
                        secret_sealed: row.try_get("secret_sealed")?,
                        enabled_at: row.try_get("enabled_at")?,
                        last_used_step: row.try_get("last_used_step")?,
                        failed_codes: row.try_get("failed_codes")?,
                        recovery_codes_left: row.try_get("recovery_codes_left")?,
                    })
                })
                .transpose()
            }

            async fn enable_admin_two_step(
                &self,
                administrator_id: &str,
                secret_sealed: &str,
                at: i64,
                used_step: i64,
                recovery_code_hashes: &[SecretHash],
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "insert into admin_two_step (administrator_id, secret_sealed, enabled_at, last_used_step) values ($1, $2, $3, $4)",
                )
                .bind(administrator_id)
                .bind(secret_sealed)
                .bind(at)
                .bind(used_step)
                .execute(&mut *tx)
                .await
                .map_err(|e| classify(e, StoreError::Conflict))?;
                Self::insert_recovery_codes(&mut tx, administrator_id, recovery_code_hashes).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn replace_recovery_codes(&self, administrator_id: &str, recovery_code_hashes: &[SecretHash]) -> Result<bool, StoreError> {
                let mut tx = self.pool.begin().await?;
                // Holds the administrator's row until the commit, so replacements one after the
                // other leave the last one's codes, never both.
                let on = sqlx::query("update admin_two_step set failed_codes = failed_codes where administrator_id = $1")
                    .bind(administrator_id)
                    .execute(&mut *tx)
                    .await?;
                if on.rows_affected() == 0 {
                    return Ok(false);
                }
                sqlx::query("delete from admin_recovery_code where administrator_id = $1").bind(administrator_id).execute(&mut *tx).await?;
                Self::insert_recovery_codes(&mut tx, administrator_id, recovery_code_hashes).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn use_recovery_code(&self, administrator_id: &str, code_hash: &SecretHash, blocked_at: i32) -> Result<Option<i64>, StoreError> {
                let mut tx = self.pool.begin().await?;
                // The administrator's row first, as replacing the codes and turning two-step
                // sign-in off lock it, so none of them waits on another in the other order.
                let open = sqlx::query("update admin_two_step set failed_codes = 0 where administrator_id = $1 and failed_codes < $2")
                    .bind(administrator_id)
                    .bind(blocked_at)
                    .execute(&mut *tx)
                    .await?;
                if open.rows_affected() == 0 {
                    return Ok(None);
                }
                let used = sqlx::query("delete from admin_recovery_code where administrator_id = $1 and code_hash = $2")
                    .bind(administrator_id)
                    .bind(code_hash.as_str())
                    .execute(&mut *tx)
                    .await?;
                if used.rows_affected() == 0 {
                    // Not theirs, or used already: the wrong codes stand (the transaction is undone).
                    return Ok(None);
                }
                let left = sqlx::query_scalar::<_, i64>("select count(*) from admin_recovery_code where administrator_id = $1")
                    .bind(administrator_id)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Some(left))
            }

            async fn disable_admin_two_step(&self, administrator_id: &str) -> Result<bool, StoreError> {
                let done = sqlx::query("delete from admin_two_step where administrator_id = $1").bind(administrator_id).execute(&self.pool).await?;
                Ok(done.rows_affected() > 0)
            }

            async fn use_admin_two_step(&self, administrator_id: &str, step: i64, blocked_at: i32) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "update admin_two_step set last_used_step = $2, failed_codes = 0 \
                     where administrator_id = $1 and last_used_step < $2 and failed_codes < $3",
                )
                .bind(administrator_id)
                .bind(step)
                .bind(blocked_at)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn count_wrong_two_step_code(&self, administrator_id: &str) -> Result<Option<i32>, StoreError> {
                Ok(sqlx::query_scalar::<_, i32>(
                    "update admin_two_step set failed_codes = failed_codes + 1 where administrator_id = $1 returning failed_codes",
                )
                .bind(administrator_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn admin_user_count(&self) -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar::<_, i64>("select count(*) from admin_user").fetch_one(&self.pool).await?)
            }

            async fn sign_in_locked_until(&self, email: &str, now_epoch: i64) -> Result<Option<i64>, StoreError> {
                Ok(sqlx::query_scalar::<_, i64>("select locked_until from sign_in_failure where email = $1 and locked_until > $2")
                    .bind(email)
                    .bind(now_epoch)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn count_sign_in_attempt(&self, email: &str, now_epoch: i64) -> Result<Option<i32>, StoreError> {
                Ok(sqlx::query_scalar::<_, i32>(
                    "insert into sign_in_failure (email, failures, locked_until, last_attempt_at) values ($1, 1, null, $2) \
                     on conflict (email) do update set failures = sign_in_failure.failures + 1, last_attempt_at = excluded.last_attempt_at \
                     where sign_in_failure.locked_until is null or sign_in_failure.locked_until <= excluded.last_attempt_at \
                     returning failures",
                )
                .bind(email)
                .bind(now_epoch)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn lock_sign_in(&self, email: &str, until_epoch: i64) -> Result<(), StoreError> {
                sqlx::query("update sign_in_failure set failures = 0, locked_until = $2 where email = $1")
                    .bind(email)
                    .bind(until_epoch)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn clear_sign_in_attempts(&self, email: &str) -> Result<(), StoreError> {
                sqlx::query("delete from sign_in_failure where email = $1").bind(email).execute(&self.pool).await?;
                Ok(())
            }

            async fn purge_sign_in_attempts(&self, now_epoch: i64, before_epoch: i64, batch: u64) -> Result<u64, StoreError> {
                let done = sqlx::query(
                    "delete from sign_in_failure where email in (select email from sign_in_failure \
                     where last_attempt_at < $1 and (locked_until is null or locked_until <= $2) \
                     order by last_attempt_at limit $3)",
                )
                .bind(before_epoch)
                .bind(now_epoch)
                .bind(saturating_i64(batch))
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }

            async fn trust_device(&self, token_hash: &str, email: &str, password_hash: &str, now_epoch: i64) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "insert into trusted_device (token_hash, email, failures, locked_until, last_used_at) \
                     select $1, $2, 0, null, $4 where exists (select 1 from admin_user where email = $2 and password_hash = $3)",
                )
                .bind(token_hash)
                .bind(email)
                .bind(password_hash)
                .bind(now_epoch)
                .execute(&self.pool)
                .await
                .map_err(|e| classify(e, StoreError::Conflict))?;
                Ok(done.rows_affected() == 1)
            }

            async fn trusted_device(
                &self,
                token_hash: &str,
                email: &str,
                used_since_epoch: i64,
            ) -> Result<Option<Option<i64>>, StoreError> {
                Ok(sqlx::query_scalar::<_, Option<i64>>(
                    "select locked_until from trusted_device where token_hash = $1 and email = $2 and last_used_at >= $3",
                )
                .bind(token_hash)
                .bind(email)
                .bind(used_since_epoch)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn count_device_attempt(&self, token_hash: &str, now_epoch: i64) -> Result<Option<i32>, StoreError> {
                Ok(sqlx::query_scalar::<_, i32>(
                    "update trusted_device set failures = failures + 1 \
                     where token_hash = $1 and (locked_until is null or locked_until <= $2) returning failures",
                )
                .bind(token_hash)
                .bind(now_epoch)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn lock_device(&self, token_hash: &str, until_epoch: i64) -> Result<(), StoreError> {
                sqlx::query("update trusted_device set failures = 0, locked_until = $2 where token_hash = $1")
                    .bind(token_hash)
                    .bind(until_epoch)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn clear_device_attempts(&self, token_hash: &str, now_epoch: i64) -> Result<(), StoreError> {
                sqlx::query("update trusted_device set failures = 0, locked_until = null, last_used_at = $2 where token_hash = $1")
                    .bind(token_hash)
                    .bind(now_epoch)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn forget_devices(&self, email: &str) -> Result<(), StoreError> {
                sqlx::query("delete from trusted_device where email = $1").bind(email).execute(&self.pool).await?;
                Ok(())
            }

            async fn purge_unused_devices(&self, now_epoch: i64, before_epoch: i64, batch: u64) -> Result<u64, StoreError> {
                let done = sqlx::query(
                    "delete from trusted_device where token_hash in (select token_hash from trusted_device \
                     where last_used_at < $1 and (locked_until is null or locked_until <= $2) \
                     order by last_used_at limit $3)",
                )
                .bind(before_epoch)
                .bind(now_epoch)
                .bind(saturating_i64(batch))
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }
        }
    };
}

pub(super) use administrator_store;
