//! [`Placements`]: a node's copy of the cluster's claims, kept current by
//! the database's notifications, so that `locate` is a local read.
//!
//! Every change of the claims table is numbered by the database (the
//! admission row's `version`, one more per row inserted or deleted, taken
//! under the row's lock, so numbers follow commit order) and announced with
//! its number. The copy is loaded from one consistent read (the version
//! and the table in one transaction), and applies change `v + 1` only at
//! version `v`: a change it missed shows as a gap, and the copy stops
//! answering until it is loaded again. So the copy at version `v` is the
//! claims table as it was at version `v`, never a mix.
//!
//! Invariants (2 and 3 checked in debug builds by `Placements::check`):
//! 1. While `ready`, `sessions` holds exactly the claim rows as of change
//!    `version` (by the protocol above: one consistent load, then each
//!    next change in order; the property test `placements.rs` compares
//!    every node's answers with the database's).
//! 2. While not `ready`, `sessions` is empty and the published version
//!    (the watch) is 0; while `ready`, the published version is `version`.
//! 3. A node's lease as held only moves forward (a higher generation, or
//!    the same one expiring later), whatever order its announcements come
//!    in.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use jido_registry::{Fence, NodeId, Placement};
use jido_session::SessionId;
use parking_lot::RwLock;
use tokio::sync::watch;
use uuid::Uuid;

/// One claim, as the copy holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cached {
    /// `None` when the path was too long to be announced.
    pub(crate) project: Option<PathBuf>,
    pub(crate) node: NodeId,
    pub(crate) lease: u64,
    pub(crate) fence: Fence,
}

/// A node's lease, as announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct NodeLease {
    pub(crate) lease: u64,
    /// Microseconds since the epoch, by the database's clock.
    pub(crate) expires: i64,
}

/// What the copy says about one session.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Known: placed there, or not placed at all.
    Known(Option<Placement>),
    /// The copy cannot say (not loaded, or the claim's project too long to
    /// announce): ask the database.
    AskTheDatabase,
}

/// The copy's state, behind its lock.
#[derive(Debug, Default)]
pub(crate) struct Table {
    pub(crate) ready: bool,
    pub(crate) version: u64,
    pub(crate) sessions: HashMap<SessionId, Cached>,
    pub(crate) nodes: HashMap<NodeId, NodeLease>,
    /// The database's clock minus this node's, in microseconds, as measured
    /// when the copy was loaded.
    pub(crate) clock_offset: i64,
}

/// Why a notification could not be applied.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Gap {
    /// A change was missed (or came twice out of order): load again.
    Missed { at: u64, got: u64 },
    /// A line that does not parse.
    Garbled(String),
}

/// A node's copy of the claims, shared by its `locate` and the task that
/// listens.
#[derive(Debug)]
pub(crate) struct Placements {
    table: RwLock<Table>,
    /// The version applied (0 while not loaded).
    applied: watch::Sender<u64>,
}

impl Default for Placements {
    fn default() -> Self {
        Placements {
            table: RwLock::new(Table::default()),
            applied: watch::Sender::new(0),
        }
    }
}

/// Microseconds since the epoch by this node's clock.
pub(crate) fn local_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| i64::try_from(since.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Placements {
    /// Whether session `id` is placed, and where, by the copy; `me` is this
    /// node (whose own claims the caller answers from its own record: an
    /// entry of `me`'s here is one it released, or never made for anyone).
    pub(crate) fn answer(&self, id: SessionId, me: NodeId) -> Answer {
        let table = self.table.read();
        if !table.ready {
            return Answer::AskTheDatabase;
        }
        let Some(cached) = table.sessions.get(&id) else {
            return Answer::Known(None);
        };
        if cached.node == me {
            return Answer::Known(None);
        }
        let Some(project) = &cached.project else {
            return Answer::AskTheDatabase;
        };
        let now = local_micros().saturating_add(table.clock_offset);
        let live = table
            .nodes
            .get(&cached.node)
            .is_some_and(|node| node.lease == cached.lease && node.expires > now);
        Answer::Known(live.then(|| Placement {
            id,
            project: project.clone(),
            node: cached.node,
            fence: cached.fence,
        }))
    }

    /// The version applied, to wait on.
    pub(crate) fn applied(&self) -> watch::Receiver<u64> {
        self.applied.subscribe()
    }

    /// Sets the database's clock minus this node's (measured again at each
    /// check, so that a drifting clock is followed).
    pub(crate) fn set_clock_offset(&self, offset: i64) {
        self.table.write().clock_offset = offset;
    }

    /// Whether the copy answers.
    pub(crate) fn is_ready(&self) -> bool {
        self.table.read().ready
    }

    /// Stops answering (the listening connection is gone, or a change was
    /// missed) until [`load`](Self::load).
    pub(crate) fn unload(&self) {
        let mut table = self.table.write();
        table.ready = false;
        table.sessions.clear();
        self.applied.send_replace(0);
        self.check(&table);
    }

    /// Replaces the copy with `table` (from one consistent read) and
    /// answers from it.
    pub(crate) fn load(&self, mut table: Table) {
        table.ready = true;
        let version = table.version;
        {
            let mut current = self.table.write();
            // Leases only move forward: keep a later one already heard.
            for (node, lease) in std::mem::take(&mut current.nodes) {
                let entry = table.nodes.entry(node).or_insert(lease);
                *entry = (*entry).max(lease);
            }
            *current = table;
            self.applied.send_replace(version);
            self.check(&current);
        }
    }

    /// Applies one notification's lines; a [`Gap`] leaves the copy
    /// unloaded.
    pub(crate) fn apply(&self, payload: &str) -> Result<(), Gap> {
        let mut table = self.table.write();
        let result = apply_lines(&mut table, payload);
        match &result {
            Ok(()) if table.ready => {
                self.applied.send_replace(table.version);
            }
            Ok(()) => {}
            Err(_) => {
                table.ready = false;
                table.sessions.clear();
                self.applied.send_replace(0);
            }
        }
        self.check(&table);
        result
    }

    /// Checks invariant 2 (debug builds only).
    fn check(&self, table: &Table) {
        if cfg!(debug_assertions) {
            let published = *self.applied.borrow();
            if table.ready {
                debug_assert_eq!(published, table.version, "published another version");
            } else {
                debug_assert!(table.sessions.is_empty(), "an unloaded copy holds claims");
                debug_assert_eq!(published, 0, "an unloaded copy publishes a version");
            }
        }
    }
}

fn apply_lines(table: &mut Table, payload: &str) -> Result<(), Gap> {
    for line in payload.lines().filter(|line| !line.is_empty()) {
        let garbled = || Gap::Garbled(line.to_owned());
        let mut words = line.split(' ');
        let first = words.next().ok_or_else(garbled)?;
        if first == "n" {
            let node = parse_uuid(words.next()).ok_or_else(garbled)?;
            let lease = words
                .next()
                .and_then(|w| w.parse().ok())
                .ok_or_else(garbled)?;
            let expires = words
                .next()
                .and_then(|w| w.parse().ok())
                .ok_or_else(garbled)?;
            let heard = NodeLease { lease, expires };
            let entry = table.nodes.entry(NodeId::from_uuid(node)).or_insert(heard);
            *entry = (*entry).max(heard);
            continue;
        }
        let version: u64 = first.parse().map_err(|_| garbled())?;
        if !table.ready || version <= table.version {
            // Before the copy was loaded, or already in it.
            continue;
        }
        if version != table.version + 1 {
            return Err(Gap::Missed {
                at: table.version,
                got: version,
            });
        }
        let kind = words.next().ok_or_else(garbled)?;
        let id = parse_uuid(words.next())
            .and_then(|uuid| SessionId::from_uuid(uuid).ok())
            .ok_or_else(garbled)?;
        match kind {
            "c" => {
                let node = parse_uuid(words.next()).ok_or_else(garbled)?;
                let lease = words
                    .next()
                    .and_then(|w| w.parse().ok())
                    .ok_or_else(garbled)?;
                let fence = words
                    .next()
                    .and_then(|w| w.parse().ok())
                    .ok_or_else(garbled)?;
                let project = match words.next().ok_or_else(garbled)? {
                    "-" => None,
                    hex => Some(parse_hex(hex).ok_or_else(garbled)?),
                };
                table.sessions.insert(
                    id,
                    Cached {
                        project,
                        node: NodeId::from_uuid(node),
                        lease,
                        fence: Fence(fence),
                    },
                );
            }
            "r" => {
                table.sessions.remove(&id);
            }
            _ => return Err(garbled()),
        }
        table.version = version;
    }
    Ok(())
}

fn parse_uuid(word: Option<&str>) -> Option<Uuid> {
    word.and_then(|word| Uuid::parse_str(word).ok())
}

/// A path from its bytes in hex.
pub(crate) fn parse_hex(hex: &str) -> Option<PathBuf> {
    let digits = hex.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let value = |digit: u8| char::from(digit).to_digit(16);
    let bytes = digits
        .chunks_exact(2)
        .map(|pair| u8::try_from(value(pair[0])? * 16 + value(pair[1])?).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some(OsStr::from_bytes(&bytes).into())
}
