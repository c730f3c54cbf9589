//! The file journal against `kill -9`: a child process appends records and
//! prints the sequence number of each one acknowledged; it is killed with
//! SIGKILL after a varying number of them, again and again on one journal
//! (each child recovers it and goes on); after every kill, the journal read
//! back holds every acknowledged record, in order, without a gap, and no
//! corruption. Rounds per durability level: `JIDO_KILL_ROUNDS` (default
//! 40).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use jido_session::SessionId;
use jido_store::journal::{self, Durability, FileJournal, JournalStore};

const DIR: &str = "JIDO_JOURNAL_KILL_DIR";
const ID: &str = "JIDO_JOURNAL_KILL_ID";
const SYNC: &str = "JIDO_JOURNAL_KILL_SYNC";

fn durability(sync: bool) -> Durability {
    if sync {
        Durability::Sync
    } else {
        Durability::Os
    }
}

/// The child's part: appends ~1 KiB records until killed, printing each
/// acknowledged sequence number. Does nothing unless run as the child.
#[test]
fn child_appends_until_killed() {
    let (Ok(dir), Ok(id)) = (std::env::var(DIR), std::env::var(ID)) else {
        return;
    };
    let id: SessionId = id.parse().unwrap();
    let sync = std::env::var(SYNC).is_ok();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let journals = FileJournal::new(dir).unwrap();
        let recovered = journals.recover(id).await.unwrap();
        let mut seq = recovered.records.last().map_or(0, |record| record.seq);
        loop {
            seq += 1;
            let payload = format!("{seq:>1024}");
            let mut frame = Vec::new();
            journal::encode(seq, payload.as_bytes(), &mut frame).unwrap();
            journals
                .append(id, frame, seq, durability(sync))
                .await
                .unwrap();
            println!("acked {seq}");
        }
    });
}

#[test]
fn no_acknowledged_record_is_lost_when_the_writer_is_killed() {
    let rounds: u64 = std::env::var("JIDO_KILL_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(40);
    let me = std::env::current_exe().unwrap();
    for sync in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let id = SessionId::new();
        let mut acked = 0u64;
        let mut torn_tails = 0;
        for round in 0..rounds {
            let mut command = Command::new(&me);
            command
                .args(["child_appends_until_killed", "--exact", "--nocapture"])
                .env(DIR, dir.path())
                .env(ID, id.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::null());
            if sync {
                command.env(SYNC, "1");
            }
            let mut child = command.spawn().unwrap();
            // Killed after a number of acknowledgements that varies by round
            // (1 to 97), at whatever point of its next append it is.
            let target = 1 + (round * 37 + 11) % 97;
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let mut seen = 0;
            while seen < target {
                let line = lines.next().expect("the child ended early").unwrap();
                if let Some(seq) = line.strip_prefix("acked ") {
                    acked = seq.parse().unwrap();
                    seen += 1;
                }
            }
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            // Acknowledgements printed before the kill landed count too.
            for line in lines.map_while(Result::ok) {
                if let Some(seq) = line.strip_prefix("acked ") {
                    acked = seq.parse().unwrap();
                }
            }

            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let read = runtime.block_on(async {
                FileJournal::new(dir.path())
                    .unwrap()
                    .recover(id)
                    .await
                    .unwrap_or_else(|error| panic!("round {round}: {error}"))
            });
            torn_tails += usize::from(read.torn.is_some());
            let seqs: Vec<u64> = read.records.iter().map(|record| record.seq).collect();
            let last = seqs.last().copied().unwrap_or(0);
            assert_eq!(seqs, (1..=last).collect::<Vec<_>>(), "round {round}: a gap");
            assert!(last >= acked, "round {round}: acked {acked}, kept {last}");
            for record in &read.records {
                assert_eq!(
                    record.payload,
                    format!("{:>1024}", record.seq).as_bytes(),
                    "round {round}"
                );
            }
        }
        eprintln!(
            "{:?}: {rounds} kills, {acked} acknowledged, none lost; {torn_tails} torn tails cut",
            durability(sync)
        );
    }
}
