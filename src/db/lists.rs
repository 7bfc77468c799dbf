//! `column IN (list)` with the list as one bound value, so the statement's
//! text does not depend on the list's length and is prepared once per
//! connection. diesel's `eq_any` writes `IN (?, ?, ...)` on SQLite, which it
//! never caches: a 500-id batch or a page's 51 emails were compiled again at
//! every call (issue 20's profiles). On SQLite the list is a JSON array read
//! by `json_each`; on PostgreSQL an array (`= ANY($1)`, as `eq_any` does).

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Array, Bool, HasSqlType, SingleValue, Text};
use diesel::sqlite::Sqlite;
use diesel::QueryResult;
use serde::Serialize;

use super::MultiBackend;

/// `column IN (values)`; build it with [`in_list`].
#[derive(Debug, Clone)]
pub struct InList<C, T> {
    column: C,
    values: Vec<T>,
    json: String,
}

/// `column IN (values)` as one bound value (see the module's comment).
/// `T` must serialise to JSON as SQLite stores the column (integers,
/// strings): a type whose JSON form differs (a date, an enum) would match
/// nothing on SQLite while it works on PostgreSQL.
pub fn in_list<C, T: Serialize + Clone>(column: C, values: &[T]) -> InList<C, T> {
    // A list of integers or strings always serialises.
    let json = serde_json::to_string(values).unwrap_or_else(|_| "[]".into());
    InList {
        column,
        values: values.to_vec(),
        json,
    }
}

impl<C, T> Expression for InList<C, T> {
    type SqlType = Bool;
}

impl<C: AppearsOnTable<QS>, T, QS> AppearsOnTable<QS> for InList<C, T> {}

impl<C: SelectableExpression<QS>, T, QS> SelectableExpression<QS> for InList<C, T> {}

impl<C: ValidGrouping<GB>, T, GB> ValidGrouping<GB> for InList<C, T> {
    type IsAggregate = C::IsAggregate;
}

/// The SQL text depends on the column only: cached by type.
impl<C: QueryId, T> QueryId for InList<C, T> {
    type QueryId = InList<C::QueryId, ()>;
    const HAS_STATIC_QUERY_ID: bool = C::HAS_STATIC_QUERY_ID;
}

impl<C: QueryFragment<Sqlite>, T> QueryFragment<Sqlite> for InList<C, T> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(&self.json)?;
        out.push_sql("))");
        Ok(())
    }
}

impl<C, T> QueryFragment<Pg> for InList<C, T>
where
    C: QueryFragment<Pg> + Expression,
    C::SqlType: SingleValue,
    Vec<T>: ToSql<Array<C::SqlType>, Pg>,
    Pg: HasSqlType<C::SqlType>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" = ANY(");
        out.push_bind_param::<Array<C::SqlType>, _>(&self.values)?;
        out.push_sql(")");
        Ok(())
    }
}

impl<C, T> QueryFragment<MultiBackend> for InList<C, T>
where
    Self: QueryFragment<Sqlite> + QueryFragment<Pg>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        MultiBackend::walk_variant_ast(self, pass)
    }
}

#[cfg(test)]
mod tests {
    use super::in_list;
    use crate::db::schema::user_counts as uc;
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    fn sql_of(values: &[&str]) -> String {
        let q = uc::table.filter(in_list(uc::status, values)).select(uc::n);
        let text = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&q).to_string();
        text.split(" -- binds").next().unwrap_or_default().to_string()
    }

    #[test]
    fn the_statement_is_the_same_for_every_length() {
        assert_eq!(sql_of(&["a"]), sql_of(&["a", "b", "c", "d"]));
        assert!(sql_of(&[]).contains("json_each"));
    }

    #[test]
    fn values_with_quotes_backslashes_and_accents_match_exactly() {
        let mut c = SqliteConnection::establish(":memory:").expect("memory database");
        c.batch_execute(
            "CREATE TABLE user_counts (account_id BIGINT, status TEXT, n BIGINT);
             INSERT INTO user_counts VALUES (1, 'a\"b', 1), (1, 'c\\d', 2), (1, 'é''x', 3), (1, 'other', 4);",
        )
        .expect("table");
        let wanted = ["a\"b", "c\\d", "é'x", "missing"];
        let mut n: Vec<i64> = uc::table
            .filter(in_list(uc::status, &wanted))
            .select(uc::n)
            .load(&mut c)
            .expect("query");
        n.sort_unstable();
        assert_eq!(n, vec![1, 2, 3]);
        let none: Vec<i64> = uc::table
            .filter(in_list(uc::status, &[] as &[&str]))
            .select(uc::n)
            .load(&mut c)
            .expect("query");
        assert!(none.is_empty());
    }
}
