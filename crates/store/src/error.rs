//! The storage layer's one error type.

/// What can go wrong in storage. `Conflict` and `NotFound` are the caller's business;
/// the others are operational faults the caller logs and reports without details.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value (a name, a number) is already taken.
    #[error("{0}")]
    Conflict(String),
    /// A record the operation needs does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The database URL names something this build cannot open.
    #[error("{0}")]
    Unsupported(String),
    /// A sealed secret cannot be opened (no master key, or another one).
    #[error("a stored secret could not be opened: {0}")]
    Secret(String),
    /// A stored value could not be read back.
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    /// The database did not answer in time.
    #[error("{0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("could not create the database folder {path}: {source}")]
    Folder { path: String, source: std::io::Error },
}
