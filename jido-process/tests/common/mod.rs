//! Helpers shared by the process runtime's integration tests.

// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::sync::Arc;

use jido_process::{Down, ExitReason, Inbox, Pid, mailbox, spawn};
use tokio::sync::oneshot;

/// A value whose strong count tells whether a registry still holds a clone
/// of it (that is, whether the entry was really removed, not only hidden).
pub type Token = Arc<()>;

/// A new [`Token`].
pub fn token() -> Token {
    Arc::new(())
}

/// Spawns a process that waits for the returned sender to fire (or be
/// dropped), then ends with whatever `end` returns — or panics, if `end` does.
pub fn gated<F>(end: F) -> (Pid, oneshot::Sender<()>)
where
    F: FnOnce() -> ExitReason + Send + 'static,
{
    let (go, gate) = oneshot::channel();
    let pid = spawn(async move {
        let _ = gate.await;
        end()
    });
    (pid, go)
}

/// Spawns a process that never ends on its own.
pub fn forever() -> Pid {
    spawn(std::future::pending())
}

/// Monitors `pid` into a fresh mailbox and returns its inbox.
pub fn watch(pid: &Pid) -> Inbox<Down> {
    let (watcher, downs) = mailbox();
    pid.monitor(&watcher, ());
    downs
}

/// Every `Down` waiting in `downs`, without waiting.
pub fn drain<T>(downs: &mut Inbox<Down<T>>) -> Vec<Down<T>> {
    std::iter::from_fn(|| downs.try_recv()).collect()
}

pub mod probe {
    //! A scriptable worker for supervisor tests: its starts follow a plan,
    //! and every start and stop is written to a shared log.

    use std::collections::VecDeque;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use jido_process::{
        ChildSpec, Context, ExitReason, Observer, StartOutcome, SupervisorEvent, Term, Worker,
    };
    use parking_lot::Mutex;
    use tokio::sync::mpsc;

    /// What a probe is asked.
    #[derive(Debug)]
    pub enum Cmd {
        /// Answers its incarnation number.
        Ping,
        /// Answers, then stops with the reason.
        Stop(ExitReason),
        /// Panics.
        Panic,
        /// Sleeps, then answers.
        Sleep(Duration),
    }

    /// What the next start of a probe does.
    #[derive(Debug, Clone)]
    pub enum Plan {
        Start,
        Fail(&'static str),
        Ignore,
        Panic,
    }

    /// A worker that answers its incarnation number and logs its end.
    pub struct Probe {
        name: &'static str,
        incarnation: usize,
        log: Log,
        /// Ignores stop requests (only a kill ends it).
        stubborn: bool,
    }

    impl Worker for Probe {
        type Request = Cmd;
        type Reply = usize;

        async fn handle(&mut self, cmd: Cmd, ctx: &mut Context) -> usize {
            match cmd {
                Cmd::Ping => {}
                Cmd::Stop(reason) => ctx.stop(reason),
                Cmd::Panic => panic!("probe {} panics", self.name),
                Cmd::Sleep(duration) => tokio::time::sleep(duration).await,
            }
            self.incarnation
        }

        async fn terminate(&mut self, reason: &ExitReason) {
            if self.stubborn {
                std::future::pending::<()>().await;
            }
            self.log.push(format!("stop {} {reason}", self.name));
        }
    }

    /// A shared, ordered log of starts and stops.
    #[derive(Clone, Default)]
    pub struct Log(Arc<Mutex<Vec<String>>>);

    impl Log {
        pub fn push(&self, line: String) {
            self.0.lock().push(line);
        }

        /// Everything logged so far, and clears the log.
        pub fn take(&self) -> Vec<String> {
            std::mem::take(&mut *self.0.lock())
        }
    }

    /// Builds probe child specs and scripts their starts.
    #[derive(Clone, Default)]
    pub struct Probes {
        pub log: Log,
        starts: Arc<AtomicUsize>,
        plans: Arc<Mutex<std::collections::HashMap<&'static str, VecDeque<Plan>>>>,
    }

    impl Probes {
        pub fn new() -> Self {
            Self::default()
        }

        /// How many starts were attempted, of every probe.
        pub fn starts(&self) -> usize {
            self.starts.load(Ordering::SeqCst)
        }

        /// Queues plans for the next starts of probe `name`.
        pub fn plan(&self, name: &'static str, plans: impl IntoIterator<Item = Plan>) {
            self.plans.lock().entry(name).or_default().extend(plans);
        }

        /// A probe child named `name` (permanent, 5 s shutdown).
        pub fn spec<C: Send + Sync + 'static>(&self, name: &'static str) -> ChildSpec<C> {
            self.make(name, false)
        }

        /// A probe that ignores stop requests.
        pub fn stubborn<C: Send + Sync + 'static>(&self, name: &'static str) -> ChildSpec<C> {
            self.make(name, true)
        }

        fn make<C: Send + Sync + 'static>(
            &self,
            name: &'static str,
            stubborn: bool,
        ) -> ChildSpec<C> {
            let probes = self.clone();
            let incarnations = Arc::new(AtomicUsize::new(0));
            ChildSpec::try_worker(name, move |_: &C| {
                probes.starts.fetch_add(1, Ordering::SeqCst);
                let plan = probes
                    .plans
                    .lock()
                    .get_mut(name)
                    .and_then(VecDeque::pop_front)
                    .unwrap_or(Plan::Start);
                match plan {
                    Plan::Start => {}
                    Plan::Fail(why) => {
                        probes.log.push(format!("fail {name}"));
                        return Err(Term::msg(why));
                    }
                    Plan::Ignore => {
                        probes.log.push(format!("ignore {name}"));
                        return Ok(StartOutcome::Ignore);
                    }
                    Plan::Panic => panic!("start of {name} panics"),
                }
                let incarnation = incarnations.fetch_add(1, Ordering::SeqCst) + 1;
                probes.log.push(format!("start {name}"));
                Ok(StartOutcome::Started(Probe {
                    name,
                    incarnation,
                    log: probes.log.clone(),
                    stubborn,
                }))
            })
        }
    }

    /// An observer that forwards a supervisor's events to the returned
    /// receiver.
    pub fn events() -> (Arc<dyn Observer>, mpsc::UnboundedReceiver<SupervisorEvent>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (Arc::new(Forward(sender)), receiver)
    }

    struct Forward(mpsc::UnboundedSender<SupervisorEvent>);

    impl Observer for Forward {
        fn observe(&self, event: SupervisorEvent) {
            let _ = self.0.send(event);
        }
    }
}
