-- Console sessions are now kept under the SHA-256 of their id (the cookie's value), not the id
-- itself, so whoever reads this table or a backup of it holds no session. Rows of before are
-- keyed by the id in clear and would never be found again: they are dropped, and
-- administrators sign in once more.
delete from console_session;
