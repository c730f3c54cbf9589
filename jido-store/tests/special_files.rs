//! Issue 21, item 8: a FIFO (or any file that is not a regular file) named
//! like a snapshot or a journal is refused at once, with a typed error,
//! instead of hanging the listing, the cleanup and the resume.

use std::path::Path;
use std::time::Duration;

use jido_session::SessionId;
use jido_store::{LoadError, Persistence, StoreError};

fn fifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
}

/// Runs `work` on a runtime of its own on another thread; fails if it has
/// not answered in 20 s (it is wedged) instead of hanging the test run.
fn answers<T: Send + 'static>(work: impl std::future::Future<Output = T> + Send + 'static) -> T {
    let (sent, answer) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _ = sent.send(runtime.block_on(work));
    });
    answer
        .recv_timeout(Duration::from_secs(20))
        .expect("wedged by a FIFO")
}

#[test]
fn a_fifo_named_like_a_snapshot_or_a_journal_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let (snapshot, journal) = (SessionId::new(), SessionId::new());
    fifo(&dir.path().join(format!("{snapshot}.json")));
    fifo(&dir.path().join(format!("{journal}.journal")));
    let path = dir.path().to_owned();
    let (listing, loaded, journal_read) = answers(async move {
        let persistence = Persistence::in_dir(&path).unwrap();
        let listing = persistence.list().await;
        let loaded = persistence.load(snapshot).await;
        let journal_read = persistence.journal().unwrap().read(journal).await;
        (listing, loaded, journal_read)
    });
    let listing = listing.unwrap_or_else(|error| panic!("{error}"));
    assert!(listing.snapshots.is_empty());
    let mut unreadable: Vec<_> = listing.unreadable.iter().map(|(id, _)| *id).collect();
    unreadable.sort();
    let mut both = vec![snapshot, journal];
    both.sort();
    assert_eq!(unreadable, both, "both listed as unreadable");
    assert!(
        matches!(
            loaded,
            Err(LoadError::Store(StoreError::Io {
                kind: Some(std::io::ErrorKind::InvalidInput),
                ..
            }))
        ),
        "{loaded:?}"
    );
    assert!(
        matches!(
            journal_read,
            Err(StoreError::Io {
                kind: Some(std::io::ErrorKind::InvalidInput),
                ..
            })
        ),
        "{journal_read:?}"
    );
}
