//! Database access: one connection type over SQLite and PostgreSQL.
//!
//! The backend is picked from `DATABASE_URL`; every query in the crate is
//! written once against [`DbConn`]. Only bulk inserts (seeding) match on the
//! variant, because multi-row inserts do not compile through `MultiConnection`.

pub mod models;
pub mod schema;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the database {url}: {source}")]
    Connect {
        url: String,
        source: diesel::ConnectionError,
    },
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("migrations failed: {0}")]
    Migrate(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// Where the data lives, parsed once from `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    Postgres(String),
    Sqlite(String),
}

impl DbUrl {
    /// `postgres://...` or `postgresql://...` is PostgreSQL; `sqlite://PATH`,
    /// `sqlite:PATH` or a plain path is a SQLite file.
    pub fn parse(url: &str) -> DbUrl {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DbUrl::Postgres(url.to_string())
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            DbUrl::Sqlite(path.to_string())
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, DbUrl::Sqlite(_))
    }
}

/// Builds the variant from the URL itself so a real error ("connection
/// refused", "unable to open database file") reaches the user.
pub fn establish(url: &DbUrl) -> Result<DbConn, DbError> {
    match url {
        DbUrl::Postgres(u) => PgConnection::establish(u)
            .map(DbConn::Pg)
            .map_err(|source| DbError::Connect { url: u.clone(), source }),
        DbUrl::Sqlite(path) => {
            let mut conn = SqliteConnection::establish(path).map_err(|source| DbError::Connect {
                url: path.clone(),
                source,
            })?;
            // WAL lets readers go on while a bulk job writes; busy_timeout makes
            // concurrent writers wait instead of failing with SQLITE_BUSY.
            conn.batch_execute(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
            )
            .map_err(DbError::Query)?;
            Ok(DbConn::Sqlite(conn))
        }
    }
}

#[derive(Debug, Clone)]
pub struct Manager {
    url: DbUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = DbError;

    fn connect(&self) -> Result<DbConn, DbError> {
        establish(&self.url)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::Query)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

/// Opens a pool and brings the schema up to date.
pub fn connect(url: &DbUrl, max_size: u32) -> Result<Pool, DbError> {
    // Fail fast with the real error before r2d2 turns it into a timeout.
    let mut first = establish(url)?;
    run_migrations(&mut first)?;
    drop(first);
    r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(std::time::Duration::from_secs(30))
        .build(Manager { url: url.clone() })
        .map_err(|e| DbError::Migrate(e.to_string()))
}

pub fn run_migrations(conn: &mut DbConn) -> Result<(), DbError> {
    let result = match conn {
        DbConn::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| DbError::Migrate(e.to_string()))
}
