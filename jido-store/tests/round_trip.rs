//! Save → load → equal, for any conversation: messages in chronological
//! order, todos with their ids, every history and field (upstream reversed
//! the messages, dropped todo ids and forgot fields). Signed and unsigned.

use chrono::{DateTime, TimeZone, Utc};
use jido_session::{
    Conversation, ConversationLimits, FileOperation, Message, ReasoningStep, Role, Session,
    SessionConfig, Todo, TodoStatus, ToolCall, ToolStatus,
};
use jido_store::{Persistence, ProjectIdentity, Snapshot};
use proptest::prelude::*;
use serde_json::json;

fn time() -> impl Strategy<Value = DateTime<Utc>> {
    (0_i64..4_000_000_000, 0_u32..1_000_000_000)
        .prop_map(|(secs, nanos)| Utc.timestamp_opt(secs, nanos).single().unwrap())
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,12}",
        Just("ünïcödé \u{1F600} \"quoted\" \\ back\nnew line".to_string()),
        Just(String::new()),
    ]
}

fn role() -> impl Strategy<Value = Role> {
    prop::sample::select(vec![Role::System, Role::User, Role::Assistant, Role::Tool])
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(json!(null)),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e9_f64..1e9).prop_map(|x| json!(x)),
        text().prop_map(|s| json!({ "path": s, "lines": [1, 2, 3] })),
    ]
}

#[derive(Debug, Clone)]
enum Entry {
    Message(Role, String, DateTime<Utc>),
    Reasoning(String, DateTime<Utc>),
    Tool(String, serde_json::Value, Option<serde_json::Value>, u8),
    Todos(Vec<(String, u8)>),
    Prompt(String),
    Read(String, DateTime<Utc>),
    Write(String, DateTime<Utc>),
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        4 => (role(), text(), time()).prop_map(|(r, t, at)| Entry::Message(r, t, at)),
        1 => (text(), time()).prop_map(|(t, at)| Entry::Reasoning(t, at)),
        2 => (text(), json_value(), prop::option::of(json_value()), 0_u8..4)
            .prop_map(|(n, a, r, s)| Entry::Tool(n, a, r, s)),
        1 => prop::collection::vec((text(), 0_u8..3), 0..4).prop_map(Entry::Todos),
        1 => text().prop_map(Entry::Prompt),
        1 => ("[a-z/]{1,10}", time()).prop_map(|(p, at)| Entry::Read(p, at)),
        1 => ("[a-z/]{1,10}", time()).prop_map(|(p, at)| Entry::Write(p, at)),
    ]
}

fn conversation() -> impl Strategy<Value = Conversation> {
    (prop::collection::vec(entry(), 0..40), 1_usize..8).prop_map(|(entries, cap)| {
        let mut c = Conversation::new(ConversationLimits::all(cap));
        for entry in entries {
            match entry {
                Entry::Message(role, text, at) => {
                    let mut m = Message::new(role, text);
                    m.timestamp = at;
                    c.push_message(m);
                }
                Entry::Reasoning(text, at) => {
                    let mut r = ReasoningStep::new(text);
                    r.timestamp = at;
                    c.push_reasoning_step(r);
                }
                Entry::Tool(name, args, result, status) => {
                    let mut t = ToolCall::new(name, args);
                    t.result = result;
                    t.status = [
                        ToolStatus::Pending,
                        ToolStatus::Running,
                        ToolStatus::Completed,
                        ToolStatus::Failed,
                    ][usize::from(status)];
                    c.push_tool_call(t);
                }
                Entry::Todos(todos) => c.set_todos(
                    todos
                        .into_iter()
                        .map(|(text, status)| {
                            let mut todo = Todo::new(text);
                            todo.status = [
                                TodoStatus::Pending,
                                TodoStatus::InProgress,
                                TodoStatus::Completed,
                            ][usize::from(status)];
                            todo
                        })
                        .collect(),
                ),
                Entry::Prompt(text) => {
                    c.record_prompt(text);
                }
                Entry::Read(path, at) => c.record_file_read(FileOperation {
                    path: path.into(),
                    at,
                }),
                Entry::Write(path, at) => c.record_file_write(FileOperation {
                    path: path.into(),
                    at,
                }),
            }
        }
        c
    })
}

/// One project directory for every case (sessions only need it to exist).
fn project() -> &'static std::path::Path {
    static PROJECT: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    PROJECT.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fn snapshot() -> impl Strategy<Value = Snapshot> {
    let session = Session::new(project()).unwrap();
    (
        conversation(),
        time(),
        "[a-z]{1,20}",
        (0.0_f64..=2.0, 1_u32..100_000),
        prop::option::of((any::<u64>(), any::<u64>(), any::<u32>())),
    )
        .prop_map(
            move |(conversation, closed_at, name, (temperature, max_tokens), identity)| {
                let mut session = session.clone();
                session.rename(name).unwrap();
                session
                    .update_config(SessionConfig {
                        temperature,
                        max_tokens,
                        ..SessionConfig::default()
                    })
                    .unwrap();
                Snapshot::new(
                    session.to_record(),
                    conversation,
                    closed_at,
                    identity.map(|(device, inode, owner)| ProjectIdentity {
                        device,
                        inode,
                        owner,
                    }),
                )
            },
        )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64),
        ..ProptestConfig::default()
    })]

    #[test]
    fn save_then_load_gives_the_same_snapshot(snapshot in snapshot(), signed in any::<bool>()) {
        let store = tempfile::tempdir().unwrap();
        let persistence = Persistence::in_dir(store.path()).unwrap();
        #[cfg(feature = "signing")]
        let persistence = if signed { persistence.signed_with(b"key") } else { persistence };
        #[cfg(not(feature = "signing"))]
        let _ = signed;
        let loaded = runtime().block_on(async {
            persistence.save(&snapshot).await.unwrap();
            persistence.load(snapshot.id()).await.unwrap()
        });
        prop_assert_eq!(&loaded, &snapshot);
        let in_order: Vec<&Message> = loaded.conversation.iter_messages().collect();
        let original: Vec<&Message> = snapshot.conversation.iter_messages().collect();
        prop_assert_eq!(in_order, original);
    }
}
