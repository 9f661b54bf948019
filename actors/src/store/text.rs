//! Text search in SQL that behaves the same on SQLite and PostgreSQL.

use sea_orm::sea_query::{BinOper, Expr, ExprTrait, Func, IntoColumnRef};

/// `column` contains `text`, ignoring case: both sides go through the database's `lower()`
/// (ASCII-only on SQLite, so there `É` and `é` stay different), and `%`, `_` and `\` in `text`
/// match themselves (an explicit `ESCAPE`, which SQLite has no default for).
pub fn contains(column: impl IntoColumnRef, text: &str) -> Expr {
    let pattern = format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    // What `LikeExpr` writes for its escape clause, around a pattern the database lowers too.
    let pattern = Expr::expr(Func::lower(Expr::val(pattern))).binary(BinOper::Escape, Expr::Constant('\\'.into()));
    Expr::expr(Func::lower(Expr::col(column))).binary(BinOper::Like, pattern)
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, PostgresQueryBuilder, Query, SqliteQueryBuilder};

    #[test]
    fn the_pattern_is_escaped_and_lowered_on_both_databases() {
        let q = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("t"))
            .and_where(super::contains(Alias::new("name"), "50%_a\\"))
            .to_owned();
        assert_eq!(
            q.to_string(SqliteQueryBuilder),
            r#"SELECT "id" FROM "t" WHERE LOWER("name") LIKE LOWER('%50\%\_a\\%') ESCAPE '\'"#
        );
        assert_eq!(
            q.to_string(PostgresQueryBuilder),
            r#"SELECT "id" FROM "t" WHERE LOWER("name") LIKE LOWER(E'%50\\%\\_a\\\\%') ESCAPE E'\\'"#
        );
    }
}
