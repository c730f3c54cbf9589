//! The reference model follows the documented rules: limit before project,
//! ids by successful start, scripts decide the rest.

use jido_supervisor::ExitReason;
use jido_testkit::Script;
use jido_testkit::model::{Model, ModelId, Outcome};
use jido_testkit::strategies::{CrashKind, Op};

fn start(project: usize, script: Script) -> Op {
    Op::Start {
        project,
        alias: false,
        script,
    }
}

#[test]
fn the_limit_is_checked_before_the_project() {
    let mut model = Model::new(2);
    assert_eq!(
        model.apply(&start(0, Script::Succeed)),
        Outcome::Started(ModelId(0))
    );
    assert_eq!(
        model.apply(&start(0, Script::Succeed)),
        Outcome::DuplicateProject { owner: ModelId(0) }
    );
    assert_eq!(
        model.apply(&start(1, Script::IgnoreStop)),
        Outcome::Started(ModelId(1))
    );
    assert_eq!(
        model.apply(&start(0, Script::Succeed)),
        Outcome::LimitReached { count: 2, limit: 2 }
    );
    // Refused by the registry: the child was never called.
    assert_eq!(model.stub_calls(), 2);
    assert_eq!(model.count(), 2);
}

#[test]
fn failed_starts_take_no_id_and_leave_nothing() {
    let mut model = Model::new(3);
    let failures = [
        (
            Script::Fail("no key".into()),
            Outcome::Child("no key".into()),
        ),
        (Script::Ignore, Outcome::Ignored),
        (
            Script::Panic("boom".into()),
            Outcome::Panicked("boom".into()),
        ),
        (Script::Hang, Outcome::Timeout),
    ];
    for (script, expected) in failures {
        let outcome = model.apply(&start(0, script));
        assert!(outcome.is_failed_start());
        assert_eq!(outcome, expected);
    }
    assert_eq!(
        model.apply(&Op::StartCancelled {
            project: 0,
            polls: 0
        }),
        Outcome::Cancelled
    );
    assert_eq!(
        model.apply(&Op::StartCancelled {
            project: 0,
            polls: 3
        }),
        Outcome::Cancelled
    );
    assert_eq!(model.count(), 0);
    assert_eq!(model.started(), 0);
    // Four scripted starts and one cancelled after it began; not the one
    // dropped before its first poll.
    assert_eq!(model.stub_calls(), 5);
    assert_eq!(
        model.apply(&start(0, Script::Succeed)),
        Outcome::Started(ModelId(0))
    );
}

#[test]
fn a_session_that_exits_at_once_takes_an_id_but_no_slot() {
    let mut model = Model::new(1);
    let reason = ExitReason::error("boom");
    assert_eq!(
        model.apply(&start(0, Script::CrashAfterStart(reason.clone()))),
        Outcome::StartedThenExited {
            id: ModelId(0),
            reason
        }
    );
    assert_eq!(model.count(), 0);
    assert_eq!(
        model.apply(&start(0, Script::Succeed)),
        Outcome::Started(ModelId(1))
    );
    assert_eq!(model.apply(&Op::List), Outcome::Listed(vec![ModelId(1)]));
}

#[test]
fn stops_and_crashes_end_running_sessions_only() {
    let mut model = Model::new(3);
    assert_eq!(model.apply(&Op::Stop { pick: 5 }), Outcome::NotFound);
    assert_eq!(model.apply(&Op::Lookup { pick: 0 }), Outcome::Found(false));
    model.apply(&start(0, Script::Succeed));
    model.apply(&start(1, Script::IgnoreStop));
    model.apply(&start(
        2,
        Script::Slow {
            before: 1,
            after: 0,
        },
    ));
    // Picks count modulo the sessions started so far.
    assert_eq!(model.resolve(4), Some(ModelId(1)));
    assert_eq!(
        model.apply(&Op::Stop { pick: 4 }),
        Outcome::Stopped {
            id: ModelId(1),
            reason: ExitReason::Killed
        }
    );
    assert_eq!(model.apply(&Op::Lookup { pick: 1 }), Outcome::Found(false));
    assert_eq!(model.apply(&Op::Stop { pick: 1 }), Outcome::NotFound);
    assert_eq!(
        model.apply(&Op::Crash {
            pick: 2,
            reason: CrashKind::Panic("p".into())
        }),
        Outcome::Crashed {
            id: ModelId(2),
            reason: ExitReason::Panic("p".into())
        }
    );
    assert_eq!(
        model.apply(&Op::Crash {
            pick: 2,
            reason: CrashKind::Kill
        }),
        Outcome::NotRunning
    );
    assert_eq!(
        model.apply(&Op::Stop { pick: 0 }),
        Outcome::Stopped {
            id: ModelId(0),
            reason: ExitReason::Shutdown
        }
    );
    assert_eq!(model.apply(&Op::List), Outcome::Listed(vec![]));
    // The project of a stopped session is free again.
    assert_eq!(
        model.apply(&start(0, Script::Succeed)),
        Outcome::Started(ModelId(3))
    );
}
