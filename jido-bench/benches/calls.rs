//! A message round trip (issue 23): one caller asks, one process answers,
//! one call after another, on the benchmark runtime (2 workers).
//!
//! - `floor`: a task reading a tokio `mpsc` channel, each request carrying
//!   a `oneshot` sender for its answer — the least tokio code for a call;
//! - `addr`: a jido-process `Worker` spawned alone, `Addr::call` (which
//!   waits at most 5 s, a timer per call); `addr_untimed`: the same with
//!   no deadline (`call_timeout(Duration::MAX)`), as the floor, ractor and
//!   kameo calls are;
//! - `child_ref`: the same `Worker` as a supervisor's child, reached by
//!   name through `ChildRef::call` (found in the supervisor's directory on
//!   every call, so that a restarted child is followed);
//! - `ractor`: ractor 0.16's `call` (an `RpcReplyPort` per call);
//! - `kameo`: kameo 0.22's `ask`;
//! - `state_append`: `append_message` to a running session's State (the
//!   session's real work: the message stored, its history capped).
//!
//! Each contender answers with the running sum of what it was sent. The
//! contenders run in turn, `ROUNDS` times (A B C … A B C …), each time
//! `CALLS` calls; the report gives each one's median time per call and its
//! ratio to the floor measured in the same round (median and spread).
//!
//! ```text
//! cargo bench -p jido-bench --bench calls
//! ```

use std::hint::black_box;
use std::time::Instant;

use jido_bench::numbers::{median, spread};
use jido_bench::runtime::{drive, runtime};
use jido_process::{ChildSpec, Context, SupervisorSpec, Worker, spawn_worker};
use jido_supervisor::{Message, Role, SessionSupervisor};
use tokio::sync::{mpsc, oneshot};

const ROUNDS: usize = 15;
const CALLS: u64 = 20_000;

/// The jido-process worker: adds what it is sent.
struct Adder(u64);

impl Worker for Adder {
    type Request = u64;
    type Reply = u64;

    async fn handle(&mut self, add: u64, _ctx: &mut Context) -> u64 {
        self.0 = self.0.wrapping_add(add);
        self.0
    }
}

/// The ractor actor: adds what it is sent.
struct RactorAdder;

/// A ractor call: the amount and the port for the answer.
struct RactorAdd(u64, ractor::RpcReplyPort<u64>);

impl ractor::Actor for RactorAdder {
    type Msg = RactorAdd;
    type State = u64;
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ractor::ActorRef<RactorAdd>,
        (): (),
    ) -> Result<u64, ractor::ActorProcessingErr> {
        Ok(0)
    }

    async fn handle(
        &self,
        _myself: ractor::ActorRef<RactorAdd>,
        RactorAdd(add, reply): RactorAdd,
        sum: &mut u64,
    ) -> Result<(), ractor::ActorProcessingErr> {
        *sum = sum.wrapping_add(add);
        let _ = reply.send(*sum);
        Ok(())
    }
}

/// The kameo actor: adds what it is sent.
#[derive(kameo::Actor)]
struct KameoAdder(u64);

/// A kameo request.
struct KameoAdd(u64);

impl kameo::message::Message<KameoAdd> for KameoAdder {
    type Reply = u64;

    async fn handle(
        &mut self,
        KameoAdd(add): KameoAdd,
        _ctx: &mut kameo::message::Context<Self, Self::Reply>,
    ) -> u64 {
        self.0 = self.0.wrapping_add(add);
        self.0
    }
}

/// A floor request: the amount and where to answer.
type FloorRequest = (u64, oneshot::Sender<u64>);

fn main() {
    let runtime = runtime();
    let names = [
        "floor",
        "addr",
        "addr_untimed",
        "child_ref",
        "ractor",
        "kameo",
        "state_append",
    ];
    let (floor, addr, supervisor, ractor_ref, kameo_ref, sessions, state) =
        drive(&runtime, async {
            let (floor, mut requests) = mpsc::channel::<FloorRequest>(64);
            tokio::spawn(async move {
                let mut sum = 0u64;
                while let Some((add, reply)) = requests.recv().await {
                    sum = sum.wrapping_add(add);
                    let _ = reply.send(sum);
                }
            });
            let addr = spawn_worker(Adder(0));
            let supervisor = SupervisorSpec::new()
                .child(ChildSpec::worker("adder", |_: &()| Adder(0)))
                .start(())
                .await
                .expect("start the supervisor");
            let (ractor_ref, _) = ractor::Actor::spawn(None, RactorAdder, ())
                .await
                .expect("spawn the ractor actor");
            let kameo_ref = <KameoAdder as kameo::actor::Spawn>::spawn(KameoAdder(0));
            let sessions = SessionSupervisor::builder().max_sessions(4).build();
            let project = tempfile::tempdir().expect("a project directory");
            let id = sessions
                .create_session(project.path())
                .await
                .expect("start a session")
                .id();
            let state = sessions.state(id).expect("the session's State");
            // The directory stays for the whole run.
            std::mem::forget(project);
            (
                floor, addr, supervisor, ractor_ref, kameo_ref, sessions, state,
            )
        });
    let child = supervisor.child_ref::<Adder>("adder");
    let mut per_call: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for _ in 0..ROUNDS {
        let mut this_round = Vec::new();
        for name in names {
            let elapsed = match name {
                "floor" => {
                    let floor = floor.clone();
                    drive(&runtime, async move {
                        let started = Instant::now();
                        for i in 0..CALLS {
                            let (reply, answer) = oneshot::channel();
                            floor.send((i, reply)).await.expect("floor send");
                            black_box(answer.await.expect("floor answer"));
                        }
                        started.elapsed()
                    })
                }
                "addr" => {
                    let addr = addr.clone();
                    drive(&runtime, async move {
                        let started = Instant::now();
                        for i in 0..CALLS {
                            black_box(addr.call(i).await.expect("addr call"));
                        }
                        started.elapsed()
                    })
                }
                "addr_untimed" => {
                    let addr = addr.clone();
                    drive(&runtime, async move {
                        let started = Instant::now();
                        for i in 0..CALLS {
                            black_box(
                                addr.call_timeout(i, std::time::Duration::MAX)
                                    .await
                                    .expect("addr call"),
                            );
                        }
                        started.elapsed()
                    })
                }
                "child_ref" => {
                    let child = child.clone();
                    drive(&runtime, async move {
                        let started = Instant::now();
                        for i in 0..CALLS {
                            black_box(child.call(i).await.expect("child call"));
                        }
                        started.elapsed()
                    })
                }
                "ractor" => {
                    let actor = ractor_ref.clone();
                    drive(&runtime, async move {
                        let started = Instant::now();
                        for i in 0..CALLS {
                            let answer = actor
                                .call(|reply| RactorAdd(i, reply), None)
                                .await
                                .expect("ractor call");
                            black_box(answer.success_or(()).ok());
                        }
                        started.elapsed()
                    })
                }
                "kameo" => {
                    let actor = kameo_ref.clone();
                    drive(&runtime, async move {
                        let started = Instant::now();
                        for i in 0..CALLS {
                            black_box(actor.ask(KameoAdd(i)).await.expect("kameo ask"));
                        }
                        started.elapsed()
                    })
                }
                _ => {
                    let state = state.clone();
                    drive(&runtime, async move {
                        let started = Instant::now();
                        for _ in 0..CALLS {
                            state
                                .append_message(Message::new(Role::User, "hello"))
                                .await
                                .expect("append_message");
                        }
                        started.elapsed()
                    })
                }
            };
            this_round.push(elapsed.as_secs_f64() * 1e9 / CALLS as f64);
        }
        for (slot, nanos) in this_round.iter().enumerate() {
            per_call[slot].push(*nanos);
            ratios[slot].push(nanos / this_round[0]);
        }
    }
    println!("call round trip summary ({ROUNDS} interleaved rounds of {CALLS} calls each):");
    for (slot, name) in names.iter().enumerate() {
        let nanos = median(&mut per_call[slot]);
        let (low, high) = spread(&ratios[slot]);
        let ratio = median(&mut ratios[slot]);
        println!(
            "  {name:<13} {nanos:>7.0} ns per call; / floor {ratio:.2}x median (spread {low:.2}–{high:.2})"
        );
    }
    drop(sessions);
}
