//! Group commit: one writer thread owns the store (and the `--record`
//! file) and applies every batch of ops waiting for it in one transaction,
//! then answers each caller. A call is acknowledged only after the
//! transaction holding its ops commits; concurrent calls share one fsync.
//!
//! The recording is part of the commit: a batch's facts are written and
//! synced before its transaction commits, and the transaction stores the
//! recording's new length, so a store never holds a fact its recording
//! lacks; a file longer than the stored length after a crash is cut back at
//! start-up (`recording::open`).
//!
//! When a commit fails, every batch after it was built on changes that were
//! not saved: the writer refuses them all until the server rolls its core
//! back (`reset`, which answers with the store's last committed state and
//! starts a new generation). Waiters of the old generation are told.

use super::core::{Committed, Core};
use super::recording::Recording;
use super::store::{Op, Snapshot, Store};
use std::sync::mpsc;
use tokio::sync::{oneshot, watch};

/// At most this many batches go into one transaction (bounds its latency).
const MAX_BATCHES_PER_COMMIT: usize = 4096;

/// One call's changes, in the order the core made them.
pub(crate) struct Batch {
    /// The core's sequence number of this batch (increasing).
    pub(crate) seq: u64,
    pub(crate) ops: Vec<Op>,
    /// JSON lines for the `--record` file (without newlines).
    pub(crate) facts: Vec<String>,
    pub(crate) reply: Option<oneshot::Sender<Result<(), String>>>,
}

/// What the writer thread is asked.
enum Msg {
    Batch(Batch),
    /// Forget the refused batches, answer with the committed state and
    /// start a new generation.
    Reset(oneshot::Sender<Result<Snapshot, String>>),
    /// Commit a trivial change: does the store take writes again?
    Probe(oneshot::Sender<Result<(), String>>),
}

/// The async side's handle on the writer thread.
#[derive(Clone)]
pub(crate) struct WriterHandle {
    tx: mpsc::Sender<Msg>,
    committed: watch::Receiver<Committed>,
}

/// Starts the writer thread. It stops (closing the store) once every
/// handle is dropped and the last batch is committed.
pub(super) fn spawn(
    store: Store,
    record: Option<Recording>,
    committed_seq: u64,
) -> std::io::Result<(WriterHandle, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel::<Msg>();
    let start = Committed {
        generation: 0,
        seq: committed_seq,
        failed: false,
    };
    let (done_tx, done_rx) = watch::channel(start);
    let mut writer = Writer {
        store,
        record,
        failed: None,
        done: done_tx,
    };
    let thread = std::thread::Builder::new()
        .name("lbsim-store".into())
        .spawn(move || writer.run(rx))?;
    let handle = WriterHandle {
        tx,
        committed: done_rx,
    };
    Ok((handle, thread))
}

const CLOSED: &str = "the store is closed";

impl WriterHandle {
    /// Queues a batch (never blocks: call it while holding the core's lock
    /// so batches reach the store in the order the core made them).
    pub(crate) fn send(&self, batch: Batch) {
        if let Err(mpsc::SendError(Msg::Batch(batch))) = self.tx.send(Msg::Batch(batch)) {
            if let Some(reply) = batch.reply {
                let _ = reply.send(Err(CLOSED.into()));
            }
        }
    }

    /// Waits until batch `seq` of `generation` (and every one before it) is
    /// committed; an error when a commit failed first (the caller rolls the
    /// core back) or that generation was rolled back.
    pub(crate) async fn committed(&self, generation: u64, seq: u64) -> Result<(), String> {
        let mut rx = self.committed.clone();
        let state = rx
            .wait_for(|c| c.generation != generation || c.seq >= seq || c.failed)
            .await
            .map_err(|_| CLOSED.to_string())?;
        if state.generation == generation && state.seq >= seq {
            Ok(())
        } else {
            Err("the store could not save a change it depends on".into())
        }
    }

    /// Takes `core`'s changes and queues their batch, if there is one (call
    /// it while holding the core's lock); the receiver answers once that
    /// batch is saved. The workers to wake come back for the caller.
    pub(crate) fn commit(
        &self,
        core: &mut Core,
    ) -> (Option<oneshot::Receiver<Result<(), String>>>, Vec<u64>) {
        let changes = core.take_changes(self.committed_now());
        let Some((seq, ops, facts)) = changes.batch else {
            return (None, changes.wake);
        };
        let (tx, rx) = oneshot::channel();
        self.send(Batch {
            seq,
            ops,
            facts,
            reply: Some(tx),
        });
        (Some(rx), changes.wake)
    }

    /// How far the store got, now.
    pub(crate) fn committed_now(&self) -> Committed {
        *self.committed.borrow()
    }

    /// Rolls the writer back to the store's last committed state (blocks:
    /// call it from a blocking context, holding the core's lock).
    pub(crate) fn reset_blocking(&self) -> Result<Snapshot, String> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Msg::Reset(tx))
            .map_err(|_| CLOSED.to_string())?;
        rx.blocking_recv().map_err(|_| CLOSED.to_string())?
    }

    /// Tries one trivial commit.
    pub(crate) async fn probe(&self) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Msg::Probe(tx))
            .map_err(|_| CLOSED.to_string())?;
        rx.await.map_err(|_| CLOSED.to_string())?
    }
}

struct Writer {
    store: Store,
    record: Option<Recording>,
    /// Why the last commit failed, while batches built on it are refused.
    failed: Option<String>,
    done: watch::Sender<Committed>,
}

impl Writer {
    fn run(&mut self, rx: mpsc::Receiver<Msg>) {
        let mut batches: Vec<Batch> = Vec::new();
        while let Ok(first) = rx.recv() {
            let mut next = Some(first);
            while let Some(Msg::Batch(b)) = next {
                batches.push(b);
                next = if batches.len() < MAX_BATCHES_PER_COMMIT {
                    rx.try_recv().ok()
                } else {
                    None
                };
            }
            if !batches.is_empty() {
                self.commit(&mut batches);
            }
            match next {
                Some(Msg::Reset(reply)) => self.reset(reply),
                Some(Msg::Probe(reply)) => self.probe(reply),
                _ => {}
            }
        }
    }

    /// Commits the batches as one transaction and answers each.
    fn commit(&mut self, batches: &mut Vec<Batch>) {
        let outcome = match &self.failed {
            Some(e) => Err(format!("the store could not commit ({e})")),
            None => self.save(batches),
        };
        if let Err(e) = &outcome {
            if self.failed.is_none() {
                tracing::error!("{e}; refusing every change until the store takes writes again");
                self.failed = Some(e.clone());
                self.done.send_modify(|c| c.failed = true);
            }
        } else if let Some(last) = batches.last() {
            self.done.send_modify(|c| c.seq = last.seq);
        }
        for b in batches.drain(..) {
            if let Some(reply) = b.reply {
                let _ = reply.send(outcome.clone());
            }
        }
    }

    /// Writes the facts, then the ops with the recording's new length, in
    /// one transaction; on failure the recording is cut back.
    fn save(&mut self, batches: &[Batch]) -> Result<(), String> {
        let facts = batches.iter().flat_map(|b| b.facts.iter());
        let record_len = match self.record.as_mut() {
            None => None,
            Some(r) => Some(r.append(facts).map_err(|e| format!("--record: {e}"))?),
        };
        let ops = batches.iter().flat_map(|b| b.ops.iter());
        if let Err(e) = self.store.apply(ops, record_len) {
            if let Some(r) = self.record.as_mut() {
                r.undo();
            }
            return Err(e.to_string());
        }
        if let Some(r) = self.record.as_mut() {
            r.keep();
        }
        Ok(())
    }

    fn reset(&mut self, reply: oneshot::Sender<Result<Snapshot, String>>) {
        let snap = self.store.snapshot().map_err(|e| e.to_string());
        if snap.is_ok() {
            self.failed = None;
            self.done.send_modify(|c| {
                c.generation += 1;
                c.seq = 0;
                c.failed = false;
            });
        }
        let _ = reply.send(snap);
    }

    fn probe(&mut self, reply: oneshot::Sender<Result<(), String>>) {
        let outcome = match &self.failed {
            Some(e) => Err(e.clone()),
            None => self.store.probe().map_err(|e| e.to_string()),
        };
        let _ = reply.send(outcome);
    }
}
