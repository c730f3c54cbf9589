//! Cleaning up stored sessions: by age, and by the cap on how many are kept.
//! Both walk the catalog from the oldest, so that they cost what they
//! delete (and what they skip), not what they keep.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jido_session::SessionId;

use super::Persistence;
use super::list::{Refreshed, listed_count, oldest_first, unreadable};
use crate::catalog::Index;
use crate::{CleanupError, CleanupReport, Skipped, StoreError};

/// Whether a session is open, as the caller knows it (the session
/// supervisor: registered there).
pub type IsOpen<'a> = &'a (dyn Fn(SessionId) -> bool + Send + Sync);

impl Persistence {
    /// Deletes every session (snapshot and journal) closed — or, if
    /// interrupted, last written — more than `max_age` ago
    /// ([`DEFAULT_MAX_AGE`](crate::DEFAULT_MAX_AGE) upstream), then, past
    /// the [cap](Self::keep_at_most), the oldest closed ones; reports what
    /// it deleted, skipped (pinned, or unreadable: their age is unknown)
    /// and failed to delete, and counts what it kept.
    ///
    /// ```
    /// use std::time::Duration;
    /// use jido_store::{CleanupError, Persistence};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let persistence = Persistence::in_dir(dir.path())?;
    /// assert_eq!(persistence.cleanup(Duration::ZERO).await, Err(CleanupError::ZeroMaxAge));
    /// assert!(persistence.cleanup(jido_store::DEFAULT_MAX_AGE).await?.deleted.is_empty());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`CleanupError::ZeroMaxAge`] for a maximum age of zero (nothing is
    /// deleted); the store's, if it cannot list.
    pub async fn cleanup(&self, max_age: Duration) -> Result<CleanupReport, CleanupError> {
        self.cleanup_at(max_age, Utc::now()).await
    }

    /// [`cleanup`](Self::cleanup) as if it were `now`.
    ///
    /// # Errors
    ///
    /// As [`cleanup`](Self::cleanup).
    pub async fn cleanup_at(
        &self,
        max_age: Duration,
        now: DateTime<Utc>,
    ) -> Result<CleanupReport, CleanupError> {
        self.cleanup_with(max_age, now, &|_| false).await
    }

    /// [`cleanup`](Self::cleanup), sparing the sessions `open` says are
    /// open (reported as [`Skipped::Open`]): what the session supervisor
    /// runs, with its registry.
    ///
    /// # Errors
    ///
    /// As [`cleanup`](Self::cleanup).
    pub async fn cleanup_sparing(
        &self,
        max_age: Duration,
        open: IsOpen<'_>,
    ) -> Result<CleanupReport, CleanupError> {
        self.cleanup_with(max_age, Utc::now(), open).await
    }

    async fn cleanup_with(
        &self,
        max_age: Duration,
        now: DateTime<Utc>,
        open: IsOpen<'_>,
    ) -> Result<CleanupReport, CleanupError> {
        if max_age.is_zero() {
            return Err(CleanupError::ZeroMaxAge);
        }
        let max_age = chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::MAX);
        let cutoff = now
            .checked_sub_signed(max_age)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let mut index = self.catalog.lock().await;
        let refreshed = self.refresh(&mut index).await?;
        let mut report = CleanupReport::default();
        let mut victims = Vec::new();
        // Oldest first, up to the cutoff: the listing's order, reversed.
        let listed = listed_count(&index, &refreshed);
        let old = oldest_first(&index, &refreshed).take_while(|info| info.closed_at < cutoff);
        for info in old {
            // Open, or journaled but not interrupted (its journal adds
            // nothing to its snapshot: open elsewhere, or a stop that could
            // not cut it): spared.
            if open(info.id) || (!info.interrupted && index.journals.contains(&info.id)) {
                report.skipped.push((info.id, Skipped::Open));
            } else {
                victims.push(info.id);
            }
        }
        let chosen: HashSet<SessionId> = victims.iter().copied().collect();
        victims.extend(self.over_cap(&index, &refreshed, listed, &chosen, open));
        self.delete_victims(&mut index, victims, &mut report).await;
        for (id, error) in unreadable(&index, &refreshed) {
            report.skipped.push((id, Skipped::Unreadable(error)));
        }
        report.kept = listed - report.deleted.len();
        Ok(report)
    }

    /// Deletes, past the [cap](Self::keep_at_most), the sessions closed
    /// longest ago — never one `open` says is open, one with a journal
    /// (interrupted, or open and journaled) or one [pinned](Self::pin).
    /// What the session supervisor runs after each save. Without a cap,
    /// deletes nothing.
    ///
    /// # Errors
    ///
    /// The store's, if it cannot list.
    pub async fn enforce_cap(&self, open: IsOpen<'_>) -> Result<CleanupReport, StoreError> {
        let mut report = CleanupReport::default();
        if self.keep_at_most.is_none() {
            return Ok(report);
        }
        let mut index = self.catalog.lock().await;
        let refreshed = self.refresh(&mut index).await?;
        let listed = listed_count(&index, &refreshed);
        let victims = self.over_cap(&index, &refreshed, listed, &HashSet::new(), open);
        self.delete_victims(&mut index, victims, &mut report).await;
        report.kept = listed - report.deleted.len();
        Ok(report)
    }

    /// The sessions to delete, oldest first, to bring the `listed` ones
    /// within the cap once `chosen` are gone.
    fn over_cap(
        &self,
        index: &Index,
        refreshed: &Refreshed,
        listed: usize,
        chosen: &HashSet<SessionId>,
        open: IsOpen<'_>,
    ) -> Vec<SessionId> {
        let Some(cap) = self.keep_at_most else {
            return Vec::new();
        };
        let mut excess = listed
            .saturating_sub(chosen.len())
            .saturating_sub(cap.get());
        let mut victims = Vec::new();
        // Closed snapshots only (the interrupted are not in `order`'s
        // shown part), oldest first.
        for info in index.listings().rev() {
            if excess == 0 {
                break;
            }
            let id = info.id;
            if chosen.contains(&id)
                || refreshed.hidden.contains(&id)
                || index.journals.contains(&id)
                || open(id)
            {
                continue;
            }
            victims.push(id);
            excess -= 1;
        }
        victims
    }

    /// Deletes `victims` but the pinned ones (skipped as open), their
    /// journals too, and drops them from the catalog. Each one with a
    /// snapshot is read again first: one whose snapshot is no longer what
    /// the catalog said (saved since through another handle, say) is kept,
    /// and its entry brought up to date. Cancel-safe: dropped half-way, its
    /// marks are cleared all the same.
    async fn delete_victims(
        &self,
        index: &mut Index,
        victims: Vec<SessionId>,
        report: &mut CleanupReport,
    ) {
        let marked = Deleting {
            ids: self.pins.start_deleting(victims.iter().copied()),
            pins: &self.pins,
        };
        let marked_set: HashSet<SessionId> = marked.ids.iter().copied().collect();
        for id in victims.iter().filter(|id| !marked_set.contains(id)) {
            report.skipped.push((*id, Skipped::Open));
        }
        let mut confirmed = Vec::with_capacity(marked.ids.len());
        for &id in &marked.ids {
            let Some(listed) = index.closed_at(id) else {
                // Interrupted: its time is its journal's, read just now.
                confirmed.push(id);
                continue;
            };
            match self.load(id).await {
                Ok(snapshot) if snapshot.closed_at == listed => confirmed.push(id),
                Ok(snapshot) => {
                    let info = crate::SnapshotInfo::from(&snapshot);
                    index.insert(id, None, std::time::SystemTime::UNIX_EPOCH, Ok(info));
                }
                Err(crate::LoadError::NotFound { .. }) => index.remove(id),
                Err(error) => {
                    index.insert(id, None, std::time::SystemTime::UNIX_EPOCH, Err(error));
                }
            }
        }
        let failed = self.store.delete_many(&confirmed).await;
        let failed_ids: HashSet<SessionId> = failed.iter().map(|(id, _)| *id).collect();
        report.failed.extend(failed);
        for &id in &confirmed {
            if failed_ids.contains(&id) {
                continue;
            }
            if let Some(journal) = &self.journal
                && index.journals.contains(&id)
                && let Err(error) = journal.delete(id).await
            {
                report.failed.push((id, error));
                continue;
            }
            index.remove(id);
            index.journals.remove(&id);
            report.deleted.push(id);
        }
        for (id, error) in &report.failed {
            tracing::warn!(%id, %error, "could not delete an old session");
        }
        drop(marked);
    }
}

/// Sessions marked as being deleted; unmarked when dropped, however the
/// deletion ends.
struct Deleting<'a> {
    pins: &'a crate::pins::Pins,
    ids: Vec<SessionId>,
}

impl Drop for Deleting<'_> {
    fn drop(&mut self) {
        self.pins.deleted(&self.ids);
    }
}
