//! The database handle. SQLite allows one writer at a time and fails (rather than waits) when a
//! read transaction tries to become a write one while another writer committed, so on SQLite
//! every write transaction first takes a process-wide lock and begins IMMEDIATE (so writes made
//! outside it, single statements, wait for it instead of breaking it); PostgreSQL needs none.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

#[derive(Clone, Debug)]
pub struct Db {
    pub conn: DatabaseConnection,
    /// Serializes write transactions on SQLite; `None` on PostgreSQL.
    write_lock: Option<Arc<Mutex<()>>>,
    /// Connections in the pool: what admission to the database is sized from.
    pub pool_size: u32,
}

/// A write transaction; holds the SQLite writer lock until commit or drop.
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _guard: Option<OwnedMutexGuard<()>>,
}

impl std::ops::Deref for WriteTxn {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl WriteTxn {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }
}

impl Db {
    /// Connects to `sqlite://…` or `postgres://…`. A connection not free within
    /// `acquire_timeout` is an error (the work that waits for one is bounded before it gets
    /// here: see [`crate::admission`]).
    pub async fn connect(url: &str, max_connections: u32, acquire_timeout: Duration) -> Result<Db, DbErr> {
        let max_connections = max_connections.max(1);
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(acquire_timeout)
            .sqlx_logging(false);
        let is_sqlite = url.starts_with("sqlite:");
        if is_sqlite {
            opts.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(30))
                    .create_if_missing(true)
            });
        }
        let conn = Database::connect(opts).await?;
        let write_lock = (conn.get_database_backend() == DbBackend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Db { conn, write_lock, pool_size: max_connections })
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// Begins a transaction that will write.
    pub async fn begin_write(&self) -> Result<WriteTxn, DbErr> {
        let guard = match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let txn = match self.write_lock {
            // IMMEDIATE takes SQLite's write lock at BEGIN: a transaction that reads first can
            // then never fail to upgrade because a single-statement write elsewhere (outside
            // this process lock) committed in between.
            Some(_) => {
                let options = TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..TransactionOptions::default()
                };
                self.conn.begin_with_options(options).await?
            }
            None => self.conn.begin().await?,
        };
        Ok(WriteTxn { txn, _guard: guard })
    }
}
