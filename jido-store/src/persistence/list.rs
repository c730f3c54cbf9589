//! Listing stored sessions: the catalog brought up to date, then read in
//! order — a page of it, or all.

use std::cmp::Reverse;
use std::collections::HashSet;
use std::iter::Peekable;

use chrono::Utc;
use futures_util::StreamExt;
use jido_session::SessionId;

use super::Persistence;
use crate::catalog::{Index, OrderKey};
use crate::journal::JournalStore;
use crate::{Listing, LoadError, Snapshot, SnapshotInfo, StoreError};

/// How many snapshots a refresh reads at once.
const READS_AT_ONCE: usize = 16;

/// What a refresh found beyond the catalog: the interrupted sessions (their
/// journals go on past their snapshots), which replace their snapshots'
/// entries in a listing.
#[derive(Debug, Default)]
pub(super) struct Refreshed {
    /// Interrupted sessions, in listing order.
    pub(super) interrupted: Vec<SnapshotInfo>,
    /// The sessions whose catalog entry a listing does not show: the
    /// interrupted, and those whose journal cannot be read.
    pub(super) hidden: HashSet<SessionId>,
    /// Sessions whose journal cannot be read.
    pub(super) unreadable: Vec<(SessionId, LoadError)>,
}

fn key(info: &SnapshotInfo) -> OrderKey {
    (Reverse(info.closed_at), info.id)
}

impl Persistence {
    /// Every stored session, newest closed first: its snapshot, or — for a
    /// session interrupted by its program's death, whose journal goes on past
    /// its snapshot — what its journal holds ([`SnapshotInfo::interrupted`]).
    /// Those that cannot be read are listed apart with why (and logged).
    ///
    /// A listing reads only what changed since the last one (with the file
    /// store: one read of the directory, and the snapshots saved since):
    /// see [`list_page`](Self::list_page) for a page of many.
    ///
    /// # Errors
    ///
    /// The store's, if it cannot list.
    pub async fn list(&self) -> Result<Listing, StoreError> {
        self.list_page(0, usize::MAX).await
    }

    /// At most `limit` stored sessions, from the `offset`-th (0 is the
    /// newest), in [`list`](Self::list)'s order; [`Listing::total`] says how
    /// many there are in all. Only the page is copied: at 100,000 snapshots
    /// a page costs one read of the directory and the snapshots saved since
    /// the last listing.
    ///
    /// ```
    /// use jido_session::{Conversation, Session};
    /// use jido_store::{Persistence, Snapshot};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let persistence = Persistence::in_dir(dir.path())?;
    /// let projects: Vec<_> = (0..3).map(|_| tempfile::tempdir()).collect::<Result<_, _>>()?;
    /// for project in &projects {
    ///     persistence.save(&Snapshot::of(&Session::new(project.path())?, Conversation::default())).await?;
    /// }
    /// let page = persistence.list_page(1, 10).await?;
    /// assert_eq!((page.total, page.snapshots.len()), (3, 2));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// The store's, if it cannot list.
    pub async fn list_page(&self, offset: usize, limit: usize) -> Result<Listing, StoreError> {
        let mut index = self.catalog.lock().await;
        let refreshed = self.refresh(&mut index).await?;
        Ok(page(&index, &refreshed, offset, limit, None))
    }

    /// [`list_page`](Self::list_page) of the sessions `keep` keeps: the
    /// page, and the total, count only those.
    ///
    /// # Errors
    ///
    /// The store's, if it cannot list.
    pub async fn list_where(
        &self,
        offset: usize,
        limit: usize,
        keep: impl Fn(&SnapshotInfo) -> bool,
    ) -> Result<Listing, StoreError> {
        let mut index = self.catalog.lock().await;
        let refreshed = self.refresh(&mut index).await?;
        Ok(page(&index, &refreshed, offset, limit, Some(&keep)))
    }

    /// Brings the catalog up to date with the store (see
    /// [`Catalog`](crate::catalog::Catalog)) and reads the journals.
    pub(super) async fn refresh(&self, index: &mut Index) -> Result<Refreshed, StoreError> {
        self.catalog
            .read_cache(index, &self.codec, self.max_bytes)
            .await;
        index.begin_refresh();
        let (listed, journals) = match &self.dir_store {
            // One read of the directory for snapshots and journals alike.
            Some(store) => {
                let (snapshots, journals) = store.list_with_journals().await?;
                (snapshots, Some(journals))
            }
            None => (self.store.list_stamped().await?, None),
        };
        let mut to_read = Vec::new();
        for (id, stamp) in listed {
            if !index.see(id, stamp) {
                to_read.push((id, stamp));
            }
        }
        index.drop_unseen();
        let reads = to_read.len();
        let read_at = std::time::SystemTime::now();
        let mut loads = futures_util::stream::iter(to_read)
            .map(|(id, stamp)| async move { (id, stamp, self.load(id).await) })
            .buffer_unordered(READS_AT_ONCE);
        while let Some((id, stamp, loaded)) = loads.next().await {
            match loaded {
                Ok(snapshot) => index.insert(id, stamp, read_at, Ok(SnapshotInfo::from(&snapshot))),
                // Deleted since the store listed it: simply gone.
                Err(LoadError::NotFound { .. }) => index.remove(id),
                Err(error) => {
                    tracing::warn!(%id, %error, "skipping an unreadable snapshot");
                    // What the bytes say is kept with their stamp; a failure
                    // to read them (I/O, a timeout) is tried again next time.
                    let stamp = if matches!(error, LoadError::Store(_)) {
                        None
                    } else {
                        stamp
                    };
                    index.insert(id, stamp, read_at, Err(error));
                }
            }
        }
        drop(loads);
        index.count_reads(reads);
        let refreshed = match &self.journal {
            Some(journal) => {
                let ids = match journals {
                    Some(ids) => ids,
                    None => journal.list().await?,
                };
                self.read_journals(&**journal, ids, index).await?
            }
            None => {
                index.journals.clear();
                Refreshed::default()
            }
        };
        self.catalog.drain(index);
        index.check();
        self.catalog
            .write_cache_if_due(index, &self.codec, self.max_bytes)
            .await;
        Ok(refreshed)
    }

    /// The sessions with a journal, and which of them are interrupted.
    async fn read_journals(
        &self,
        journal: &dyn JournalStore,
        ids: Vec<SessionId>,
        index: &mut Index,
    ) -> Result<Refreshed, StoreError> {
        let mut refreshed = Refreshed::default();
        index.journals = ids.into_iter().collect();
        for &id in &index.journals {
            let saved = if index.is_readable(id) {
                self.load(id).await.ok()
            } else {
                None
            };
            match interrupted(journal, id, saved.as_ref()).await {
                Ok(Some(info)) => {
                    refreshed.hidden.insert(id);
                    refreshed.interrupted.push(info);
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%id, %error, "skipping an unreadable journal");
                    refreshed.hidden.insert(id);
                    refreshed.unreadable.push((id, LoadError::Store(error)));
                }
            }
        }
        refreshed.interrupted.sort_by_key(key);
        Ok(refreshed)
    }
}

/// The listing's sessions, in order: the catalog's readable entries but the
/// hidden ones, merged with the interrupted sessions.
pub(super) fn in_order<'a>(
    index: &'a Index,
    refreshed: &'a Refreshed,
) -> impl Iterator<Item = &'a SnapshotInfo> + 'a {
    Merge {
        a: index.listings().filter(shown(refreshed)).peekable(),
        b: refreshed.interrupted.iter().peekable(),
        oldest_first: false,
    }
}

/// [`in_order`], reversed: the oldest first, for a cleanup that stops at
/// its cutoff.
pub(super) fn oldest_first<'a>(
    index: &'a Index,
    refreshed: &'a Refreshed,
) -> impl Iterator<Item = &'a SnapshotInfo> + 'a {
    Merge {
        a: index.listings().rev().filter(shown(refreshed)).peekable(),
        b: refreshed.interrupted.iter().rev().peekable(),
        oldest_first: true,
    }
}

/// Whether a catalog listing is shown: not hidden by its journal.
fn shown(refreshed: &Refreshed) -> impl Fn(&&SnapshotInfo) -> bool + '_ {
    let hidden = &refreshed.hidden;
    move |info| hidden.is_empty() || !hidden.contains(&info.id)
}

/// How many sessions a listing shows: the catalog's readable entries but
/// the hidden ones, and the interrupted (without walking them).
pub(super) fn listed_count(index: &Index, refreshed: &Refreshed) -> usize {
    let hidden_saved = refreshed
        .hidden
        .iter()
        .filter(|id| index.is_readable(**id))
        .count();
    index.readable() - hidden_saved + refreshed.interrupted.len()
}

/// Two iterators in the same order, merged.
struct Merge<'a, A: Iterator<Item = &'a SnapshotInfo>, B: Iterator<Item = &'a SnapshotInfo>> {
    a: Peekable<A>,
    b: Peekable<B>,
    /// Both run oldest first (else newest first).
    oldest_first: bool,
}

impl<'a, A, B> Iterator for Merge<'a, A, B>
where
    A: Iterator<Item = &'a SnapshotInfo>,
    B: Iterator<Item = &'a SnapshotInfo>,
{
    type Item = &'a SnapshotInfo;

    fn next(&mut self) -> Option<&'a SnapshotInfo> {
        match (self.a.peek(), self.b.peek()) {
            (Some(a), Some(b)) if (key(b) < key(a)) != self.oldest_first => self.b.next(),
            (Some(_), _) => self.a.next(),
            (None, _) => self.b.next(),
        }
    }
}

/// The unreadable sessions, by id: snapshots that cannot be read, and
/// journals.
pub(super) fn unreadable(index: &Index, refreshed: &Refreshed) -> Vec<(SessionId, LoadError)> {
    let mut unreadable: Vec<_> = index
        .unreadable()
        .filter(|(id, _)| !refreshed.hidden.contains(id))
        .map(|(id, error)| (id, error.clone()))
        .chain(refreshed.unreadable.iter().cloned())
        .collect();
    unreadable.sort_by_key(|(id, _)| *id);
    unreadable
}

fn page(
    index: &Index,
    refreshed: &Refreshed,
    offset: usize,
    limit: usize,
    keep: Option<&dyn Fn(&SnapshotInfo) -> bool>,
) -> Listing {
    let mut listing = Listing::default();
    match keep {
        // Every one kept: the total without a walk past the page.
        None => {
            listing.total = listed_count(index, refreshed);
            listing.snapshots = in_order(index, refreshed)
                .skip(offset)
                .take(limit)
                .cloned()
                .collect();
        }
        Some(keep) => {
            for info in in_order(index, refreshed).filter(|info| keep(info)) {
                if listing.total >= offset && listing.snapshots.len() < limit {
                    listing.snapshots.push(info.clone());
                }
                listing.total += 1;
            }
        }
    }
    listing.unreadable = unreadable(index, refreshed);
    listing
}

/// The listing of session `id` if its journal goes on past its snapshot
/// `saved` (or it has only a journal): an interrupted session.
async fn interrupted(
    journal: &dyn JournalStore,
    id: SessionId,
    saved: Option<&Snapshot>,
) -> Result<Option<SnapshotInfo>, StoreError> {
    let read = journal.read(id).await?;
    let Some(replayed) = crate::journal::replay(saved, &read).map_err(StoreError::Journal)? else {
        return Ok(None);
    };
    if replayed.replayed == 0 {
        return Ok(None);
    }
    let closed_at = journal
        .last_written(id)
        .await?
        .or(saved.map(|snapshot| snapshot.closed_at))
        .unwrap_or_else(Utc::now);
    Ok(Some(SnapshotInfo {
        id,
        name: replayed.session.name,
        project_path: replayed.session.project_path,
        closed_at,
        messages: replayed.conversation.message_count(),
        interrupted: true,
    }))
}
