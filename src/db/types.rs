//! The domain's state enums on their text columns, for both backends.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::domain::webhooks::{EndpointState, EventKind};
use crate::domain::{JobState, Role, RowState, RunState, ScheduleState, Status, UserType};

macro_rules! text_column {
    ($($name:ident),+) => {$(
        impl<DB: Backend> ToSql<Text, DB> for $name
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $name
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let text = String::from_sql(bytes)?;
                $name::parse(&text).ok_or_else(|| format!("unknown {} {text:?}", stringify!($name)).into())
            }
        }
    )+};
}

text_column!(
    Role,
    Status,
    UserType,
    JobState,
    RowState,
    RunState,
    EventKind,
    EndpointState,
    ScheduleState
);
