//! Several statements sent to the database as one query, so a write of several rows costs one
//! round trip instead of one per row. On SQLite every statement is a message to the
//! connection's thread and back, and those thread hops, not SQLite, were most of the group
//! commit writer's time; on PostgreSQL every statement is a network round trip.
//!
//! Rows of one table go the same way: [`rows`] makes a one-row `insert` take many, and
//! [`power_of_two_sizes`] splits a batch's rows so that a handful of statement texts (each
//! prepared once) serve every batch.
//!
//! SQLite runs a string of `;`-separated statements; PostgreSQL takes one statement, so all but
//! the last become data-modifying `with` clauses. Either way each statement keeps its own `$n`
//! placeholders, renumbered to follow the previous statement's, so the binds of a combined
//! query are simply each statement's binds in order.

use super::Backend;

/// `statements` as one query for `backend`.
pub fn combine(backend: Backend, statements: &[&str]) -> String {
    let mut offset = 0;
    let renumbered: Vec<String> = statements
        .iter()
        .map(|statement| {
            let (text, highest) = renumber(statement, offset);
            offset += highest;
            text
        })
        .collect();
    match (backend, renumbered.split_last()) {
        (_, None) => String::new(),
        (Backend::Sqlite, Some(_)) => renumbered.join(";\n"),
        (Backend::Postgres, Some((last, first))) => {
            let clauses: Vec<String> = first.iter().enumerate().map(|(i, statement)| format!("w{i} as ({statement})")).collect();
            if clauses.is_empty() { last.clone() } else { format!("with {}\n{last}", clauses.join(",\n")) }
        }
    }
}

/// `insert`, a one-row `insert ... values (...)`, made to insert `rows` rows, each row's
/// placeholders following on from the previous row's. A statement without ` values ` is
/// returned as it is.
pub fn rows(insert: &str, rows: usize) -> String {
    let Some((head, row)) = insert.rsplit_once(" values ") else { return insert.to_owned() };
    let (_, per_row) = renumber(row, 0);
    let values: Vec<String> = (0..rows).map(|n| renumber(row, n * per_row).0).collect();
    format!("{head} values {}", values.join(", "))
}

/// `n` as a sum of powers of two no larger than `most` (itself a power of two), largest first:
/// the sizes to insert `n` rows in with statements made by [`rows`].
pub fn power_of_two_sizes(n: usize, most: usize) -> impl Iterator<Item = usize> {
    let rest = n % most;
    std::iter::repeat_n(most, n / most)
        .chain((0..most.trailing_zeros()).rev().map(|bit| 1 << bit).filter(move |size| rest & size != 0))
}

/// `statement` with every `$n` made `$(n + offset)`, and the highest `n` it had.
fn renumber(statement: &str, offset: usize) -> (String, usize) {
    let mut text = String::with_capacity(statement.len() + 8);
    let mut highest = 0;
    let mut rest = statement;
    while let Some(dollar) = rest.find('$') {
        text.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let digits = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
        match after[..digits].parse::<usize>() {
            Ok(n) => {
                highest = highest.max(n);
                text.push('$');
                text.push_str(&(n + offset).to_string());
            }
            Err(_) => text.push('$'),
        }
        rest = &after[digits..];
    }
    text.push_str(rest);
    (text, highest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: &str = "insert into a (x, y) values ($1, $2)";
    const SECOND: &str = "insert into b (x, y, z) values ($1, $2, $2)";
    const THIRD: &str = "insert into c (x) values ($1)";

    #[test]
    fn sqlite_runs_the_statements_one_after_another_with_their_placeholders_following_on() {
        assert_eq!(
            combine(Backend::Sqlite, &[FIRST, SECOND, THIRD]),
            "insert into a (x, y) values ($1, $2);\ninsert into b (x, y, z) values ($3, $4, $4);\ninsert into c (x) values ($5)"
        );
    }

    #[test]
    fn postgres_makes_all_but_the_last_statement_with_clauses() {
        assert_eq!(
            combine(Backend::Postgres, &[FIRST, SECOND, THIRD]),
            "with w0 as (insert into a (x, y) values ($1, $2)),\nw1 as (insert into b (x, y, z) values ($3, $4, $4))\n\
             insert into c (x) values ($5)"
        );
    }

    #[test]
    fn one_statement_is_left_as_it_is() {
        assert_eq!(combine(Backend::Sqlite, &[SECOND]), SECOND);
        assert_eq!(combine(Backend::Postgres, &[SECOND]), SECOND);
        assert_eq!(combine(Backend::Postgres, &[]), "");
    }

    #[test]
    fn a_one_row_insert_takes_many_rows_with_placeholders_following_on() {
        assert_eq!(rows(SECOND, 3), "insert into b (x, y, z) values ($1, $2, $2), ($3, $4, $4), ($5, $6, $6)");
        assert_eq!(rows(SECOND, 1), SECOND);
        assert_eq!(rows("delete from a", 2), "delete from a");
    }

    #[test]
    fn a_batch_is_split_into_powers_of_two_largest_first() {
        let sizes = |n| power_of_two_sizes(n, 64).collect::<Vec<_>>();
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(37), [32, 4, 1]);
        assert_eq!(sizes(64), [64]);
        assert_eq!(sizes(200), [64, 64, 64, 8]);
        assert_eq!(sizes(127).iter().sum::<usize>(), 127);
    }

    #[test]
    fn placeholders_of_two_or_more_digits_and_a_lone_dollar_are_handled() {
        let (text, highest) = renumber("values ($9, $10, $11) -- $ x", 3);
        assert_eq!(text, "values ($12, $13, $14) -- $ x");
        assert_eq!(highest, 11);
    }
}
