//! Issue 22, item 2: one slow renewal lost the lease. After a renewal that
//! timed out, the keeper waited a whole renew interval before trying again;
//! with `call_timeout` at a third of the lease (what `ClusterConfig::lease`
//! recommends), that next try was the lease's end. Here a proxy between
//! the node and the database holds one renewal for 1.5 s (half the 3 s
//! lease): the renewal times out, is retried at once, and the lease holds.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jido_cluster::{ClusterConfig, PgNode};
use jido_registry::RegistryBackend;
use jido_testkit::TempPostgres;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A TCP proxy to `port`: once `armed` counts down to zero (one write a
/// client sends per count), that write is held for `stall`, as a database
/// that stops answering would.
async fn proxy(port: u16, armed: Arc<AtomicUsize>, stall: Duration) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            let armed = Arc::clone(&armed);
            tokio::spawn(async move {
                let mut buffer = vec![0; 64 * 1024];
                while let Ok(n) = client_read.read(&mut buffer).await {
                    if n == 0 {
                        break;
                    }
                    let held = armed.fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                        left.checked_sub(1)
                    }) == Ok(1);
                    if held {
                        tokio::time::sleep(stall).await;
                    }
                    if server_write.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                }
            });
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
            });
        }
    });
    local
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_renewal_held_for_half_the_lease_does_not_lose_it() {
    let Some(server) = TempPostgres::start_or_skip("one_slow_renewal") else {
        return;
    };
    let armed = Arc::new(AtomicUsize::new(0));
    let port = proxy(
        server.port(),
        Arc::clone(&armed),
        Duration::from_millis(1500),
    )
    .await;
    let url = server
        .url()
        .replace(&format!("port={}", server.port()), &format!("port={port}"));
    let lease = Duration::from_secs(3);
    let node = PgNode::connect(
        ClusterConfig::new(url)
            .lease(lease)
            .call_timeout(lease / 3)
            .pool_size(1),
    )
    .await
    .unwrap();
    let mut generation = node.lease();
    let before = *generation.borrow_and_update();

    // The second thing the node sends from now on — a renewal: an idle
    // node sends nothing else but a stray first write — is held.
    armed.store(2, Ordering::Release);
    // Two leases' time: the old keeper lost it one lease after the held
    // renewal was sent at the latest.
    let changed = tokio::time::timeout(2 * lease, generation.changed()).await;
    assert!(
        changed.is_err(),
        "the lease was lost: {:?} → {:?}",
        before,
        *generation.borrow()
    );
    assert_eq!(armed.load(Ordering::Acquire), 0, "no renewal was held");
    assert!(node.has_lease());
}
