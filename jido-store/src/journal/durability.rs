//! [`Durability`]: what an acknowledged change survives.

/// How durable a change is when it is acknowledged, and so what it
/// survives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Durability {
    /// Each change is written to the operating system (one `write(2)`)
    /// before it is acknowledged: it survives the death of the program — a
    /// kill, an out-of-memory kill, a panic that aborts, a closed terminal —
    /// but not a power loss or a kernel crash, which may lose the last
    /// changes the disk had not been given yet. A few microseconds per
    /// change. The default.
    #[default]
    Os,
    /// Each change is also on the disk before it is acknowledged: it
    /// survives a power loss. Syncs are shared (group commit): a change is
    /// written to its journal and to the store's sync log (`sync.log`),
    /// and one `fdatasync` of that one file covers every change written
    /// meanwhile, by any session of the store. Opening the store writes
    /// back to a journal what the log holds past its end (a journal's
    /// unsynced tail lost in a power cut); the journals are synced and the
    /// log emptied every 8 MiB of it.
    Sync,
    /// Nothing is journaled: a session is saved only when it stops
    /// gracefully, and a killed program loses its conversations (the
    /// behaviour before journals).
    OnStop,
}
