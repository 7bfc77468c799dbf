//! Database access: one connection type over SQLite and PostgreSQL.
//!
//! The backend is picked from `DATABASE_URL`; every query in the crate is
//! written once against [`DbConn`]. Only bulk inserts (seeding) match on the
//! variant, because multi-row inserts do not compile through `MultiConnection`.

pub mod audit_rows;
pub mod lists;
pub mod models;
pub mod schema;
pub mod types;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
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

/// Runs `$q.$run(conn)` on the connection underneath [`DbConn`]: diesel's
/// `MultiConnection` writes a query's whole SQL text at every execution,
/// several times (for the binds, the cache check, the statement), even when
/// the statement is cached; on the concrete connection a query whose type
/// names it is found by type, with no text written. For the statements
/// every page runs (issue 20: 13% of the name search's time).
#[macro_export]
macro_rules! direct {
    ($conn:expr, $q:expr, $run:ident) => {
        match $conn {
            $crate::db::DbConn::Sqlite(c) => $q.$run(c),
            $crate::db::DbConn::Pg(c) => $q.$run(c),
        }
    };
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
    #[error(
        "the database schema is newer than this binary (migrations {0} are unknown to it): \
         a newer Offboard has migrated it; run that version (or newer), never an older one"
    )]
    NewerSchema(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("cannot start the WAL checkpoint thread: {0}")]
    Thread(std::io::Error),
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
            // A checkpoint every 10,000 pages (40 MB of WAL) instead of 1,000
            // copies the pages a job rewrites at each batch (the audit log's
            // and the rows' last pages) ten times less often: a 100,000-row
            // delete applied 12% faster (issue 20).
            // busy_timeout first: switching a new file to WAL takes a lock
            // another process (a second `migrate`) may hold for a moment.
            conn.batch_execute(&format!(
                "{BUSY_TIMEOUT}; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                 PRAGMA wal_autocheckpoint = 10000;"
            ))
            .map_err(DbError::Query)?;
            Ok(DbConn::Sqlite(conn))
        }
    }
}

/// How long a SQLite writer waits for the write lock before "database is locked".
const BUSY_TIMEOUT: &str = "PRAGMA busy_timeout = 10000";

/// Runs `f`, one write in autocommit, unless another writer holds SQLite's
/// write lock right now: then it is skipped (`Ok(None)`) instead of waiting
/// for it. For a write that can as well be made on a later request (a
/// session's last-seen time): pages are read on the async workers, and a
/// request that waited there for a CSV job's batches held up every request
/// of its worker for as long (the Users page's p99 beside a 100,000-row
/// delete was ~1 s, once a minute). PostgreSQL runs `f` as it is.
pub fn unless_locked<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> diesel::QueryResult<T>,
) -> diesel::QueryResult<Option<T>> {
    if !matches!(conn, DbConn::Sqlite(_)) {
        return f(conn).map(Some);
    }
    conn.batch_execute("PRAGMA busy_timeout = 0")?;
    let result = f(conn);
    conn.batch_execute(BUSY_TIMEOUT)?;
    match result {
        Err(diesel::result::Error::DatabaseError(_, info)) if info.message().contains("database is locked") => Ok(None),
        other => other.map(Some),
    }
}

#[derive(Debug, Clone)]
pub struct Manager {
    url: DbUrl,
    /// SQLite: the WAL goes back into the database on a thread of its own
    /// ([`connect_serving`]), never in a writer's commit.
    checkpoints_elsewhere: bool,
    alive: std::sync::Arc<Alive>,
}

/// When a healthy connection was last given back to the pool. As HikariCP
/// does, a check-out within [`ALIVE_WINDOW`] of it skips the server check:
/// the database answered a moment ago. A connection that died meanwhile
/// fails its next statement, and diesel then marks it broken (libpq's
/// transaction status turns unknown), so the pool drops it on its return.
#[derive(Debug)]
struct Alive {
    since: std::time::Instant,
    given_back_ms: std::sync::atomic::AtomicU64,
}

/// How long a give-back vouches for the server (HikariCP's default).
pub const ALIVE_WINDOW: std::time::Duration = std::time::Duration::from_millis(500);

impl Alive {
    fn new() -> Self {
        Alive {
            since: std::time::Instant::now(),
            // Never given back yet: the first check-outs ask the server.
            given_back_ms: std::sync::atomic::AtomicU64::new(u64::MAX),
        }
    }

    fn now_ms(&self) -> u64 {
        self.since.elapsed().as_millis() as u64
    }

    fn given_back(&self) {
        let now = self.now_ms();
        self.given_back_ms.store(now, std::sync::atomic::Ordering::Relaxed);
    }

    fn vouched(&self) -> bool {
        let at = self.given_back_ms.load(std::sync::atomic::Ordering::Relaxed);
        self.now_ms()
            .checked_sub(at)
            .is_some_and(|ago| ago < ALIVE_WINDOW.as_millis() as u64)
    }
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = DbError;

    fn connect(&self) -> Result<DbConn, DbError> {
        let mut conn = establish(&self.url)?;
        if self.checkpoints_elsewhere {
            conn.batch_execute("PRAGMA wal_autocheckpoint = 0")?;
        }
        Ok(conn)
    }

    /// Checked at each check-out. A file has no connection to lose, so
    /// SQLite skips the round (two per page, each parsed anew); PostgreSQL
    /// asks the server, which may have restarted, unless a connection came
    /// back healthy within [`ALIVE_WINDOW`] (a busy server's every page
    /// paid two round trips for it, ~8% of its throughput; issue 20).
    fn is_valid(&self, conn: &mut DbConn) -> Result<(), DbError> {
        match conn {
            DbConn::Sqlite(_) => Ok(()),
            DbConn::Pg(_) if self.alive.vouched() => Ok(()),
            DbConn::Pg(_) => conn.batch_execute("SELECT 1").map_err(DbError::Query),
        }
    }

    /// A connection given back while its thread panics, or with a transaction
    /// still open, never goes back to the pool: on SQLite an open write
    /// transaction would block every later writer.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        let broken = std::thread::panicking() || diesel::r2d2::R2D2Connection::is_broken(conn);
        if !broken {
            self.alive.given_back();
        }
        broken
    }
}

/// Opens a pool and brings the schema up to date.
pub fn connect(url: &DbUrl, max_size: u32) -> Result<Pool, DbError> {
    open_pool(url, max_size, false)
}

/// [`connect`] for a long-running server. On SQLite a thread of its own
/// copies the write-ahead log back into the database every
/// [`CHECKPOINT_EVERY`], and the pool's connections never do: a commit that
/// crossed the WAL's size limit used to copy 40 MB and wait for the disk
/// before it returned, in the middle of a CSV job's batch or of its
/// validation (a fifth of a 100,000-row deactivate, issue 20). A passive
/// checkpoint waits for no reader or writer; it copies what no reader
/// still needs, and the WAL starts over once all of it is copied.
pub fn connect_serving(url: &DbUrl, max_size: u32) -> Result<Pool, DbError> {
    let pool = open_pool(url, max_size, url.is_sqlite())?;
    if url.is_sqlite() {
        spawn_checkpointer(establish(url)?)?;
    }
    Ok(pool)
}

/// How often the checkpoint thread looks at the WAL (a look finds nothing
/// to copy at once when nothing was written).
pub const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

fn spawn_checkpointer(mut conn: DbConn) -> Result<(), DbError> {
    std::thread::Builder::new()
        .name("offboard-checkpoint".into())
        .spawn(move || loop {
            std::thread::sleep(CHECKPOINT_EVERY);
            if let Err(error) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE)") {
                tracing::warn!(%error, "WAL checkpoint failed; trying again");
            }
        })
        .map(|_| ())
        .map_err(DbError::Thread)
}

/// The longest a request waits for a connection before it is told the
/// server is busy.
pub const POOL_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

fn open_pool(url: &DbUrl, max_size: u32, checkpoints_elsewhere: bool) -> Result<Pool, DbError> {
    // Fail fast with the real error before r2d2 turns it into a timeout.
    let mut first = establish(url)?;
    run_migrations(&mut first)?;
    drop(first);
    r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(POOL_WAIT)
        .build(Manager {
            url: url.clone(),
            checkpoints_elsewhere,
            alive: std::sync::Arc::new(Alive::new()),
        })
        .map_err(|e| DbError::Migrate(e.to_string()))
}

/// Brings the schema up to date, refusing a database that a newer Offboard
/// already migrated further. On PostgreSQL several instances starting
/// together serialise on an advisory lock, so the migrations run once.
pub fn run_migrations(conn: &mut DbConn) -> Result<(), DbError> {
    match conn {
        DbConn::Pg(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
            let result = refuse_newer(c, POSTGRES_MIGRATIONS).and_then(|()| {
                c.run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|_| ())
                    .map_err(|e| DbError::Migrate(e.to_string()))
            });
            // Released also when the connection closes (a crash mid-way).
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
            result
        }
        DbConn::Sqlite(c) => {
            refuse_newer(c, SQLITE_MIGRATIONS)?;
            c.run_pending_migrations(SQLITE_MIGRATIONS)
                .map(|_| ())
                .map_err(|e| DbError::Migrate(e.to_string()))
        }
    }
}

/// The advisory lock key that serialises migrations ("offboard" in ASCII, 1).
pub const MIGRATION_LOCK: i64 = 0x6f66_6662_6f61_0001;

/// The versions applied to the database that this binary does not carry.
fn unknown_versions<C>(conn: &mut C, known: EmbeddedMigrations) -> Result<Vec<String>, DbError>
where
    C: MigrationHarness<C::Backend> + Connection,
    EmbeddedMigrations: diesel::migration::MigrationSource<C::Backend>,
{
    let ours: Vec<String> = diesel::migration::MigrationSource::<C::Backend>::migrations(&known)
        .map_err(|e| DbError::Migrate(e.to_string()))?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    let applied = conn.applied_migrations().map_err(|e| DbError::Migrate(e.to_string()))?;
    Ok(applied
        .iter()
        .map(|v| v.to_string())
        .filter(|v| !ours.contains(v))
        .collect())
}

fn refuse_newer<C>(conn: &mut C, known: EmbeddedMigrations) -> Result<(), DbError>
where
    C: MigrationHarness<C::Backend> + Connection,
    EmbeddedMigrations: diesel::migration::MigrationSource<C::Backend>,
{
    let unknown = unknown_versions(conn, known)?;
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(DbError::NewerSchema(unknown.join(", ")))
    }
}

/// Whether the schema is exactly the one this binary was built for (`/readyz`):
/// Err names what is wrong (pending or unknown migrations).
pub fn schema_current(conn: &mut DbConn) -> Result<(), DbError> {
    let pending = match conn {
        DbConn::Pg(c) => {
            refuse_newer(c, POSTGRES_MIGRATIONS)?;
            c.has_pending_migration(POSTGRES_MIGRATIONS)
        }
        DbConn::Sqlite(c) => {
            refuse_newer(c, SQLITE_MIGRATIONS)?;
            c.has_pending_migration(SQLITE_MIGRATIONS)
        }
    }
    .map_err(|e| DbError::Migrate(e.to_string()))?;
    if pending {
        return Err(DbError::Migrate("migrations are pending".into()));
    }
    Ok(())
}

/// Errors that say "run the whole transaction again": PostgreSQL's
/// serialization failures and deadlocks.
pub trait Retryable {
    fn retryable(&self) -> bool;
}

impl Retryable for diesel::result::Error {
    fn retryable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
            Error::DatabaseError(_, info) => info.message().contains("deadlock detected"),
            _ => false,
        }
    }
}

/// How often a PostgreSQL transaction is tried before its error is returned.
const TRIES: u32 = 5;

thread_local! {
    static RETRIED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// How many PostgreSQL transactions this thread ran again after a
/// deadlock or a serialization failure: a retry hides both from the
/// caller, so a test of lock order reads this.
pub fn retried_on_this_thread() -> u32 {
    RETRIED.with(|r| r.get())
}

/// Several reads of one page: on SQLite one read transaction instead of
/// one per statement, each of which takes and drops the WAL index's shared
/// lock (a Users page runs seven statements; issue 20's profile). On
/// PostgreSQL, READ COMMITTED gives each statement a snapshot of its own
/// inside a transaction as well, so a BEGIN and a COMMIT would only add two
/// round trips to the page (a fifth of a Users page's, issue 20).
pub fn read_snapshot<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Sqlite(_) => conn.transaction(f),
        DbConn::Pg(_) => f(conn),
    }
}

/// Runs `f` where PostgreSQL reads rows in an index's order instead of
/// sorting them: a newest-first page of a log whose statistics are older
/// than its rows (a new account's audit log filling during a CSV job) was
/// planned as a scan of every entry and a sort, for an estimate of 19 rows
/// (0.1-0.9 s a page in `load.sh`, issue 20). Each listing it serves has
/// an index in its order. On SQLite, whose plans do not follow row counts
/// here, it only runs `f`.
pub fn in_index_order<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, diesel::result::Error>,
) -> Result<T, diesel::result::Error> {
    if let DbConn::Sqlite(_) = conn {
        return f(conn);
    }
    if transaction_depth(conn)?.is_some() {
        return conn.transaction(|conn| {
            conn.batch_execute("SET LOCAL enable_sort = off")?;
            f(conn)
        });
    }
    // The BEGIN and the setting in one round trip (a page's round trips are
    // most of its cost on PostgreSQL).
    if let DbConn::Pg(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN; SET LOCAL enable_sort = off")?;
    }
    let result = f(conn);
    finish(conn, result)
}

/// A query that PostgreSQL plans at each execution, for its parameters and
/// the table as it is now: diesel prepares it unnamed instead of keeping it.
/// For a read of a table that starts empty and grows while the server runs
/// (a new account's audit log): after five executions PostgreSQL keeps a
/// generic plan if it looks no dearer, and one made while the log was empty
/// does not know which index a filter's value makes cheap. Costs a parse
/// and a plan per execution, a fraction of a millisecond.
#[derive(Debug, Clone, Copy)]
pub struct Uncached<Q>(pub Q);

impl<Q> diesel::query_builder::QueryId for Uncached<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for Uncached<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, DB> diesel::query_builder::QueryFragment<DB> for Uncached<Q>
where
    Q: diesel::query_builder::QueryFragment<DB>,
    DB: diesel::backend::Backend,
{
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> diesel::QueryResult<()> {
        out.unsafe_to_cache_prepared();
        self.0.walk_ast(out.reborrow())
    }
}

impl<Q, C> diesel::RunQueryDsl<C> for Uncached<Q> {}

/// On PostgreSQL, plans each statement of the current transaction for its
/// parameters and the tables as they are now, reading rows in an index's
/// order. A worker's queue table is often empty when its connection first
/// runs a claim; after five runs PostgreSQL may keep a generic plan made
/// for that empty table and use it when 90,000 rows have arrived (a claim
/// of webhook deliveries ran for minutes). And a claim walks the queue's
/// partial index in id order, as a plain index scan: that marks the entries
/// of rows already handled as dead for the next claim, where a bitmap scan
/// (its plan for a few expected rows) visited all of them again, and their
/// heap pages, at every claim until a vacuum (168,000 entries, 25-2,200 ms
/// a claim, twice a second, after a 90,000-event job; issue 20). Workers
/// call it at the start of their claim transactions; the pages, whose
/// tables do not start empty, keep the cached plans.
pub fn plan_claim(conn: &mut DbConn) -> Result<(), diesel::result::Error> {
    match conn {
        DbConn::Pg(pg) => {
            pg.batch_execute("SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL enable_sort = off")
        }
        DbConn::Sqlite(_) => Ok(()),
    }
}

/// Runs `f` in a transaction that writes. On SQLite it starts as
/// `BEGIN IMMEDIATE`, so it waits (busy timeout) for the write lock before
/// reading anything, instead of failing with "database is locked" when it
/// upgrades a stale read; on PostgreSQL a serialization failure or deadlock
/// runs it again. Inside another transaction it is a savepoint.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, mut f: F) -> Result<T, E>
where
    F: FnMut(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error> + Retryable,
{
    if transaction_depth(conn)?.is_some() {
        return conn.transaction(f);
    }
    if let DbConn::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
        let result = f(conn);
        return finish(conn, result);
    }
    let mut tries = 1;
    loop {
        match conn.transaction(&mut f) {
            Err(e) if e.retryable() && tries < TRIES => {
                tries += 1;
                RETRIED.with(|r| r.set(r.get() + 1));
                std::thread::sleep(std::time::Duration::from_millis(
                    rand::random_range(5..50) * u64::from(tries),
                ));
            }
            other => return other,
        }
    }
}

fn transaction_depth(conn: &mut DbConn) -> diesel::QueryResult<Option<std::num::NonZeroU32>> {
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth(),
        DbConn::Pg(c) => AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth(),
    }
}

/// Commits a transaction begun with `begin_transaction_sql` if `result` is
/// a success, else rolls it back.
fn finish<T, E: From<diesel::result::Error>>(conn: &mut DbConn, result: Result<T, E>) -> Result<T, E> {
    match conn {
        DbConn::Sqlite(c) => end_transaction(c, result),
        DbConn::Pg(c) => end_transaction(c, result),
    }
}

fn end_transaction<C, T, E>(c: &mut C, result: Result<T, E>) -> Result<T, E>
where
    C: Connection<TransactionManager = AnsiTransactionManager>,
    E: From<diesel::result::Error>,
{
    match result {
        Ok(value) => match AnsiTransactionManager::commit_transaction(c) {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = AnsiTransactionManager::rollback_transaction(c);
                Err(e.into())
            }
        },
        Err(e) => {
            // A failed rollback marks the connection broken; the pool drops it.
            let _ = AnsiTransactionManager::rollback_transaction(c);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Alive, ALIVE_WINDOW};

    #[test]
    fn a_give_back_vouches_for_the_server_for_a_moment_only() {
        let alive = Alive::new();
        assert!(!alive.vouched(), "nothing given back yet: ask the server");
        alive.given_back();
        assert!(alive.vouched());
        std::thread::sleep(ALIVE_WINDOW + std::time::Duration::from_millis(20));
        assert!(!alive.vouched(), "a quiet pool asks again");
    }
}
