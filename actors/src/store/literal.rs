//! Conditions written into the SQL text rather than bound as parameters. A partial index
//! (`… WHERE status <> 'CLOSED'`) serves a query only when the query's WHERE is known to imply
//! the index's condition when the statement is planned: SQLite plans at prepare time, before
//! any value is bound, and a generic PostgreSQL plan (a prepared statement's from its sixth run)
//! is made without the values. So the terms that select a partial index carry their value in
//! the text. Only `'static` values (the stored forms of the status enums) go in, never input.

use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef};

/// `column = 'value'`.
pub fn is(column: impl IntoColumnRef, value: &'static str) -> Expr {
    Expr::col(column).eq(quoted(value))
}

/// `column <> 'value'`.
pub fn is_not(column: impl IntoColumnRef, value: &'static str) -> Expr {
    Expr::col(column).ne(quoted(value))
}

/// The value as a constant: sea-query writes it into the text, quoted for the database.
fn quoted(value: &'static str) -> Expr {
    Expr::Constant(value.into())
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, PostgresQueryBuilder, Query, SqliteQueryBuilder};

    #[test]
    fn the_value_is_in_the_text_on_both_databases() {
        let q = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("t"))
            .and_where(super::is((Alias::new("t"), Alias::new("status")), "failed"))
            .and_where(super::is_not(Alias::new("status"), "it's"))
            .to_owned();
        // Each database's own quoting of a quote.
        let sqlite = r#"SELECT "id" FROM "t" WHERE "t"."status" = 'failed' AND "status" <> 'it''s'"#;
        let postgres = r#"SELECT "id" FROM "t" WHERE "t"."status" = 'failed' AND "status" <> E'it\'s'"#;
        assert_eq!(q.build(SqliteQueryBuilder).0, sqlite);
        assert_eq!(q.build(PostgresQueryBuilder).0, postgres);
    }
}
