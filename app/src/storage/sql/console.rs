//! The SQL stores' [`ConsoleStore`](crate::storage::ConsoleStore): console sessions (tower-sessions
//! records) and the sign-ins they carry.

/// The columns of a console sign-in `s` as `console_sign_in_from_row` reads them.
macro_rules! console_sign_in_columns {
    () => {
        "s.id as sign_in_id, s.administrator_id as sign_in_administrator_id, s.password_mark, s.signed_in_at, \
         s.last_seen_at, s.confirmed_at, s.address, s.user_agent"
    };
}

/// Implements [`ConsoleStore`](crate::storage::ConsoleStore) for a SQL store type (`sql_store!`,
/// one per backend).
macro_rules! console_store {
    ($name:ident, $db:ty) => {
        impl $name {
            /// A console sign-in from a row whose columns are named `sign_in_id`,
            /// `sign_in_administrator_id`, `password_mark`, `signed_in_at`, `last_seen_at`,
            /// `confirmed_at`, `address` and `user_agent` (apart from a joined administrator's).
            fn console_sign_in_from_row(row: &<$db as sqlx::Database>::Row) -> Result<ConsoleSignIn, StoreError> {
                Ok(ConsoleSignIn {
                    id: row.try_get("sign_in_id")?,
                    administrator_id: row.try_get("sign_in_administrator_id")?,
                    password_mark: row.try_get("password_mark")?,
                    signed_in_at: row.try_get("signed_in_at")?,
                    last_seen_at: row.try_get("last_seen_at")?,
                    confirmed_at: row.try_get("confirmed_at")?,
                    address: row.try_get("address")?,
                    user_agent: row.try_get("user_agent")?,
                })
            }
        }

        #[async_trait]
        impl ConsoleStore for $name {
            async fn insert_console_sign_in(&self, sign_in: &ConsoleSignIn) -> Result<(), StoreError> {
                sqlx::query(
                    "insert into console_sign_in \
                     (id, administrator_id, password_mark, signed_in_at, last_seen_at, confirmed_at, address, user_agent) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&sign_in.id)
                .bind(&sign_in.administrator_id)
                .bind(&sign_in.password_mark)
                .bind(sign_in.signed_in_at)
                .bind(sign_in.last_seen_at)
                .bind(sign_in.confirmed_at)
                .bind(&sign_in.address)
                .bind(&sign_in.user_agent)
                .execute(&self.pool)
                .await
                .map_err(|e| classify(e, StoreError::Conflict))?;
                Ok(())
            }

            async fn console_sign_in(&self, id: &str) -> Result<Option<(ConsoleSignIn, AdminUser)>, StoreError> {
                let row = sqlx::query(concat!(
                    "select ", console_sign_in_columns!(), ", u.id, u.email, u.password_hash, u.created_at \
                     from console_sign_in s join admin_user u on u.id = s.administrator_id where s.id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(|row| Ok((Self::console_sign_in_from_row(row)?, Self::admin_user_from_row(row)?))).transpose()
            }

            async fn confirm_console_sign_in(&self, id: &str, password_mark: &str, at: i64) -> Result<bool, StoreError> {
                let done = sqlx::query("update console_sign_in set confirmed_at = $3 where id = $1 and password_mark = $2")
                    .bind(id)
                    .bind(password_mark)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn touch_console_sign_in(&self, id: &str, now_epoch: i64, address: Option<&str>) -> Result<(), StoreError> {
                sqlx::query("update console_sign_in set last_seen_at = $2, address = coalesce($3, address) where id = $1")
                    .bind(id)
                    .bind(now_epoch)
                    .bind(address)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn console_sign_ins(
                &self,
                administrator_id: &str,
                password_mark: &str,
                signed_in_since: i64,
                seen_since: i64,
                limit: u32,
            ) -> Result<Vec<ConsoleSignIn>, StoreError> {
                let rows = sqlx::query(concat!(
                    "select ", console_sign_in_columns!(), " from console_sign_in s \
                     where s.administrator_id = $1 and s.password_mark = $5 and s.signed_in_at >= $2 and s.last_seen_at >= $3 \
                     order by s.last_seen_at desc, s.id desc limit $4"
                ))
                .bind(administrator_id)
                .bind(signed_in_since)
                .bind(seen_since)
                .bind(i64::from(limit))
                .bind(password_mark)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::console_sign_in_from_row).collect()
            }

            async fn count_console_sign_ins(
                &self,
                administrator_id: &str,
                password_mark: &str,
                signed_in_since: i64,
                seen_since: i64,
            ) -> Result<u64, StoreError> {
                let count = sqlx::query_scalar::<_, i64>(
                    "select count(*) from console_sign_in \
                     where administrator_id = $1 and password_mark = $2 and signed_in_at >= $3 and last_seen_at >= $4",
                )
                .bind(administrator_id)
                .bind(password_mark)
                .bind(signed_in_since)
                .bind(seen_since)
                .fetch_one(&self.pool)
                .await?;
                Ok(u64::try_from(count).unwrap_or_default())
            }

            async fn end_console_sign_in(&self, administrator_id: &str, id: &str) -> Result<bool, StoreError> {
                let done = sqlx::query("delete from console_sign_in where id = $1 and administrator_id = $2")
                    .bind(id)
                    .bind(administrator_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn end_console_sign_ins(&self, administrator_id: &str, except: Option<&str>) -> Result<u64, StoreError> {
                let done = sqlx::query("delete from console_sign_in where administrator_id = $1 and ($2 is null or id <> $2)")
                    .bind(administrator_id)
                    .bind(except)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn purge_console_sign_ins(&self, signed_in_before: i64, seen_before: i64, batch: u64) -> Result<u64, StoreError> {
                let done = sqlx::query(
                    "delete from console_sign_in where id in (select id from console_sign_in \
                     where signed_in_at < $1 or last_seen_at < $2 order by signed_in_at limit $3)",
                )
                .bind(signed_in_before)
                .bind(seen_before)
                .bind(saturating_i64(batch))
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }

            async fn insert_session(&self, id: &str, data: &Value, expires_at: i64) -> Result<(), StoreError> {
                sqlx::query("insert into console_session (id, data, expires_at) values ($1, $2, $3)")
                    .bind(id)
                    .bind(Json(data))
                    .bind(expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| classify(e, StoreError::Conflict))?;
                Ok(())
            }

            async fn update_session(&self, id: &str, data: &Value, expires_at: i64) -> Result<(), StoreError> {
                sqlx::query("update console_session set data = $2, expires_at = $3 where id = $1")
                    .bind(id)
                    .bind(Json(data))
                    .bind(expires_at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn load_session(&self, id: &str, now_epoch: i64) -> Result<Option<(Value, i64)>, StoreError> {
                let row = sqlx::query("select data, expires_at from console_session where id = $1 and expires_at > $2")
                    .bind(id)
                    .bind(now_epoch)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|row| Ok((row.try_get::<Json<Value>, _>("data")?.0, row.try_get("expires_at")?))).transpose()
            }

            async fn delete_session(&self, id: &str) -> Result<(), StoreError> {
                sqlx::query("delete from console_session where id = $1").bind(id).execute(&self.pool).await?;
                Ok(())
            }

            async fn purge_expired_sessions(&self, now_epoch: i64, batch: u64) -> Result<u64, StoreError> {
                let done = sqlx::query(
                    "delete from console_session where id in \
                     (select id from console_session where expires_at <= $1 order by expires_at limit $2)",
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

pub(super) use {console_sign_in_columns, console_store};
