//! `Conversation`: every cap (oldest dropped first, chronological order),
//! blank prompts, paging, tool call updates, serde.

use std::path::Path;

use jido_session::{
    Change, Conversation, ConversationError, ConversationLimits, FileOperation, Message,
    ReasoningStep, Role, Todo, TodoStatus, ToolCall, ToolStatus,
};
use serde_json::json;

fn texts(conversation: &Conversation) -> Vec<String> {
    conversation
        .iter_messages()
        .map(|m| m.content.clone())
        .collect()
}

#[test]
fn the_default_caps_are_jido_codes() {
    let mut conversation = Conversation::default();
    for n in 0..1005 {
        conversation.push_message(Message::new(Role::User, n.to_string()));
        conversation.push_reasoning_step(ReasoningStep::new(n.to_string()));
        conversation.push_tool_call(ToolCall::new(n.to_string(), json!({})));
        conversation.record_prompt(n.to_string());
        conversation.record_file_read(FileOperation::new(format!("r{n}")));
        conversation.record_file_write(FileOperation::new(format!("w{n}")));
    }
    assert_eq!(conversation.message_count(), 1000);
    assert_eq!(conversation.reasoning_steps().count(), 100);
    assert_eq!(conversation.tool_calls().count(), 500);
    assert_eq!(conversation.prompt_history().count(), 100);
    assert_eq!(conversation.file_reads().count(), 1000);
    assert_eq!(conversation.file_writes().count(), 1000);
    // Oldest dropped first; what is kept is in order.
    assert_eq!(texts(&conversation).first().map(String::as_str), Some("5"));
    assert_eq!(
        texts(&conversation).last().map(String::as_str),
        Some("1004")
    );
    let steps: Vec<&str> = conversation
        .reasoning_steps()
        .map(|s| s.content.as_str())
        .collect();
    assert_eq!((steps[0], steps[99]), ("905", "1004"));
    let calls: Vec<&str> = conversation.tool_calls().map(|c| c.name.as_str()).collect();
    assert_eq!((calls[0], calls[499]), ("505", "1004"));
    let prompts: Vec<&str> = conversation.prompt_history().map(String::as_str).collect();
    assert_eq!((prompts[0], prompts[99]), ("905", "1004"));
    assert!(!conversation.file_was_read(Path::new("r4")));
    assert!(conversation.file_was_read(Path::new("r5")));
}

#[test]
fn caps_are_configurable_and_shrinking_them_drops_the_oldest() {
    let mut conversation = Conversation::default();
    for n in 0..10 {
        conversation.push_message(Message::new(Role::Assistant, n.to_string()));
    }
    conversation.set_limits(ConversationLimits {
        messages: 3,
        ..ConversationLimits::default()
    });
    assert_eq!(texts(&conversation), ["7", "8", "9"]);
    conversation.set_limits(ConversationLimits {
        messages: 0,
        ..ConversationLimits::default()
    });
    conversation.push_message(Message::new(Role::User, "dropped at once"));
    assert_eq!(conversation.message_count(), 0);
}

#[test]
fn blank_prompts_are_ignored() {
    let mut conversation = Conversation::default();
    assert!(!conversation.record_prompt(""));
    assert!(!conversation.record_prompt(" \t\n"));
    assert!(conversation.record_prompt("run the tests"));
    let prompts: Vec<&String> = conversation.prompt_history().collect();
    assert_eq!(prompts, ["run the tests"]);
}

#[test]
fn pages_carry_their_place_in_the_history() {
    let mut conversation = Conversation::default();
    for n in 0..10 {
        conversation.push_message(Message::new(Role::User, n.to_string()));
    }
    let page = conversation.messages(2, Some(3));
    let items: Vec<&str> = page.items.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(items, ["2", "3", "4"]);
    assert_eq!(
        (
            page.meta.total,
            page.meta.offset,
            page.meta.limit,
            page.meta.returned,
            page.meta.has_more
        ),
        (10, 2, Some(3), 3, true)
    );
    let tail = conversation.messages(8, Some(5));
    assert_eq!((tail.meta.returned, tail.meta.has_more), (2, false));
    let all = conversation.messages(0, None);
    assert_eq!((all.meta.returned, all.meta.has_more), (10, false));
    let beyond = conversation.messages(50, Some(5));
    assert!(beyond.items.is_empty());
    assert_eq!((beyond.meta.total, beyond.meta.has_more), (10, false));
    let huge = conversation.messages(1, Some(usize::MAX));
    assert_eq!(huge.meta.returned, 9);
}

#[test]
fn tool_calls_are_updated_by_id() {
    let mut conversation = Conversation::default();
    let call = ToolCall::new("read_file", json!({ "path": "src/lib.rs" }));
    let id = call.id.clone();
    conversation.push_tool_call(call);

    conversation
        .update_tool_call(&id, ToolStatus::Completed, Some(json!("fn main() {}")))
        .unwrap();

    let kept = conversation.tool_calls().next().unwrap();
    assert_eq!(kept.status, ToolStatus::Completed);
    assert_eq!(kept.result, Some(json!("fn main() {}")));
    assert_eq!(
        conversation.update_tool_call("nope", ToolStatus::Failed, None),
        Err(ConversationError::UnknownToolCall { id: "nope".into() })
    );
}

#[test]
fn todos_keep_their_ids_and_order() {
    let mut conversation = Conversation::default();
    let todos = vec![
        Todo::new("write tests"),
        Todo {
            id: "custom".into(),
            content: "ship".into(),
            status: TodoStatus::InProgress,
            active_form: Some("Shipping".into()),
        },
    ];
    conversation.set_todos(todos.clone());
    assert_eq!(conversation.todos(), todos.as_slice());
}

#[test]
fn serde_keeps_everything_in_order_and_reapplies_the_caps() {
    let mut conversation = Conversation::new(ConversationLimits {
        messages: 3,
        ..ConversationLimits::default()
    });
    for n in 0..5 {
        conversation.push_message(Message::new(Role::User, n.to_string()));
    }
    conversation.set_todos(vec![Todo::new("a"), Todo::new("b")]);
    conversation.record_file_read(FileOperation::new("src/lib.rs"));
    conversation.record_prompt("hello");

    let json = serde_json::to_value(&conversation).unwrap();
    let back: Conversation = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, conversation);
    assert!(back.file_was_read(Path::new("src/lib.rs")));

    // A stored history longer than its cap loses its oldest entries.
    let mut longer = json;
    longer["limits"]["messages"] = json!(2);
    let back: Conversation = serde_json::from_value(longer).unwrap();
    assert_eq!(texts(&back), ["3", "4"]);
}

#[test]
fn a_null_tool_result_reads_back_as_null_not_as_no_result() {
    let mut call = jido_session::ToolCall::new("t", serde_json::json!({ "x": 0.1 + 0.2 }));
    call.result = Some(serde_json::Value::Null);
    let back: jido_session::ToolCall =
        serde_json::from_str(&serde_json::to_string(&call).unwrap()).unwrap();
    assert_eq!(back, call);
    call.result = None;
    let json = serde_json::to_string(&call).unwrap();
    assert!(!json.contains("result"));
    assert_eq!(
        serde_json::from_str::<jido_session::ToolCall>(&json).unwrap(),
        call
    );
}

#[test]
fn a_todo_keeps_its_active_form_through_serde_and_reads_without_one() {
    let todo = Todo::new("Run the tests").with_active_form("Running the tests");
    let json = serde_json::to_value(&todo).unwrap();
    assert_eq!(json["active_form"], "Running the tests");
    assert_eq!(serde_json::from_value::<Todo>(json).unwrap(), todo);
    // An older snapshot's todo, without the field.
    let old: Todo =
        serde_json::from_str(r#"{"id":"t1","content":"x","status":"pending"}"#).unwrap();
    assert_eq!(old.active_form, None);
    assert!(
        serde_json::to_value(&old)
            .unwrap()
            .get("active_form")
            .is_none()
    );
}

#[test]
fn clearing_messages_or_reasoning_keeps_the_other_histories() {
    let mut conversation = Conversation::default();
    conversation.push_message(Message::new(Role::User, "hello"));
    conversation.push_reasoning_step(ReasoningStep::new("thinking"));
    conversation.record_prompt("hello");
    conversation.clear_messages();
    assert_eq!(conversation.message_count(), 0);
    assert_eq!(conversation.reasoning_steps().count(), 1);
    conversation.clear_reasoning_steps();
    assert_eq!(conversation.reasoning_steps().count(), 0);
    assert_eq!(conversation.prompt_history().count(), 1);
    // Through `apply`, as a journal replays them.
    conversation.push_message(Message::new(Role::User, "again"));
    assert_eq!(conversation.apply(Change::ClearMessages), Ok(true));
    assert_eq!(conversation.message_count(), 0);
}

#[test]
fn set_prompt_history_replaces_leaves_out_blanks_and_keeps_the_newest() {
    let mut conversation = Conversation::new(ConversationLimits {
        prompt_history: 3,
        ..ConversationLimits::default()
    });
    conversation.record_prompt("old");
    let prompts = ["a", "", "b", "  ", "c", "d"].map(String::from).to_vec();
    assert_eq!(conversation.apply(Change::PromptHistory(prompts)), Ok(true));
    let kept: Vec<&String> = conversation.prompt_history().collect();
    assert_eq!(kept, ["b", "c", "d"]);
    conversation.set_prompt_history(Vec::new());
    assert_eq!(conversation.prompt_history().count(), 0);
}
