//! The kill harness of issue 20 on PostgreSQL: a child process, a node of
//! the cluster, converses through a session's State (its changes journaled
//! in the database), printing the number of every message acknowledged; it
//! is killed with SIGKILL at a varying moment; its lease is then run out
//! (as the database's clock would once it stops renewing), and the session
//! is resumed here, on another node, and checked: every acknowledged
//! message, in order, each once. The next child resumes it and goes on.
//! Rounds per durability level: `JIDO_KILL_ROUNDS` (default 200).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use jido_cluster::{ClusterConfig, PgNode};
use jido_supervisor::SessionSupervisor;
use jido_supervisor::session::{ConversationLimits, State};
use jido_supervisor::store::Durability;
use jido_supervisor::tree::SessionSup;
use jido_testkit::TempPostgres;

const URL: &str = "JIDO_CRASH_PG_URL";
const PROJECT: &str = "JIDO_CRASH_PROJECT";
const SYNC: &str = "JIDO_CRASH_SYNC";

async fn node(url: &str) -> PgNode {
    PgNode::connect(
        ClusterConfig::new(url)
            .lease(Duration::from_secs(30))
            .call_timeout(Duration::from_secs(10))
            .pool_size(2),
    )
    .await
    .unwrap()
}

fn supervisor(node: &PgNode, durability: Durability) -> SessionSupervisor {
    // Every message kept: the check counts them all.
    let state = State::spec_with(ConversationLimits::all(1 << 20));
    SessionSupervisor::builder()
        .backend(node.clone())
        .persistence(node.persistence())
        .durability(durability)
        .session_child(SessionSup::new().child(state))
        .build()
}

fn durability(sync: bool) -> Durability {
    if sync {
        Durability::Sync
    } else {
        Durability::Os
    }
}

/// Ends every node's lease now, as the database's clock would once the
/// nodes stopped renewing: their claims are void.
async fn expire_every_lease(url: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    client
        .execute(
            "UPDATE jido_nodes SET expires_at = clock_timestamp() - interval '1 second'",
            &[],
        )
        .await
        .unwrap();
    drop(client);
    let _ = connection.await;
}

/// The child's part (does nothing unless run as the child).
#[test]
fn child_converses_until_killed() {
    let (Ok(url), Ok(project)) = (std::env::var(URL), std::env::var(PROJECT)) else {
        return;
    };
    let sync = std::env::var(SYNC).is_ok();
    let runtime = jido_testkit::multi_thread_runtime(2).unwrap();
    let ended = runtime.block_on(async {
        let node = node(&url).await;
        let supervisor = supervisor(&node, durability(sync));
        jido_testkit::converse_until_killed(&supervisor, Path::new(&project)).await
    });
    panic!("the child stopped conversing: {ended:?}");
}

#[test]
fn no_acknowledged_change_is_lost_when_a_node_is_killed() {
    let Some(server) = TempPostgres::start_or_skip("pg_kill_harness") else {
        return;
    };
    let url = server.url();
    let rounds = jido_testkit::kill_rounds_from_env(200);
    let me = std::env::current_exe().unwrap();
    for sync in [false, true] {
        let project = tempfile::tempdir().unwrap();
        let child = || {
            let mut command = Command::new(&me);
            command
                .args(["child_converses_until_killed", "--exact", "--nocapture"])
                .env(URL, &url)
                .env(PROJECT, project.path());
            if sync {
                command.env(SYNC, "1");
            }
            command
        };
        let check = |id| {
            let checker = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            checker.block_on(async {
                // The killed node's lease runs out.
                expire_every_lease(&url).await;
                let node = node(&url).await;
                let supervisor = supervisor(&node, durability(sync));
                supervisor.resume(id).await.map_err(|e| e.to_string())?;
                let page = supervisor.state(id).unwrap().messages(0, None).await;
                // This node goes too, its claim with it, for the next child.
                node.leave().await.map_err(|e| e.to_string())?;
                Ok(page.map_err(|e| e.to_string())?.items)
            })
        };
        let killed = jido_testkit::kill_rounds(rounds, child, check).unwrap();
        eprintln!(
            "{:?} on PostgreSQL: {} kills, {} messages acknowledged, none lost",
            durability(sync),
            killed.rounds,
            killed.acked
        );
    }
}
