//! Group commit: one writer thread owns the store and applies every batch
//! of ops waiting for it in one transaction, then answers each caller. A
//! call is acknowledged only after the transaction holding its ops commits;
//! concurrent calls share one fsync.

use super::store::{Op, Store};
use std::io::Write;
use std::sync::mpsc;
use tokio::sync::{oneshot, watch};

/// At most this many batches go into one transaction (bounds its latency).
const MAX_BATCHES_PER_COMMIT: usize = 4096;

/// One call's changes, in the order the core made them.
pub struct Batch {
    /// The core's sequence number of this batch (increasing).
    pub seq: u64,
    pub ops: Vec<Op>,
    /// JSON lines for the `--record` file (without newlines).
    pub facts: Vec<String>,
    pub reply: Option<oneshot::Sender<Result<(), String>>>,
}

/// The async side's handle on the writer thread.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Batch>,
    committed: watch::Receiver<u64>,
}

/// Starts the writer thread. It stops (closing the store) once every
/// handle is dropped and the last batch is committed.
pub(super) fn spawn(
    store: Store,
    record: Option<std::fs::File>,
    committed_seq: u64,
) -> (WriterHandle, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<Batch>();
    let (done_tx, done_rx) = watch::channel(committed_seq);
    let thread = std::thread::Builder::new()
        .name("lbsim-store".into())
        .spawn(move || run(store, record, rx, done_tx))
        .expect("the store thread starts");
    (
        WriterHandle {
            tx,
            committed: done_rx,
        },
        thread,
    )
}

impl WriterHandle {
    /// Queues a batch (never blocks: call it while holding the core's lock
    /// so batches reach the store in the order the core made them).
    pub fn send(&self, batch: Batch) {
        if let Err(mpsc::SendError(batch)) = self.tx.send(batch) {
            if let Some(reply) = batch.reply {
                let _ = reply.send(Err("the store is closed".into()));
            }
        }
    }

    /// Waits until batch `seq` (and every one before it) is committed.
    pub async fn committed(&self, seq: u64) -> Result<(), String> {
        let mut rx = self.committed.clone();
        rx.wait_for(|&done| done >= seq)
            .await
            .map(|_| ())
            .map_err(|_| "the store is closed".to_string())
    }
}

fn run(
    mut store: Store,
    mut record: Option<std::fs::File>,
    rx: mpsc::Receiver<Batch>,
    done: watch::Sender<u64>,
) {
    let mut failed: Option<String> = None;
    let mut batches: Vec<Batch> = Vec::new();
    while let Ok(first) = rx.recv() {
        batches.push(first);
        while batches.len() < MAX_BATCHES_PER_COMMIT {
            match rx.try_recv() {
                Ok(b) => batches.push(b),
                Err(_) => break,
            }
        }
        if failed.is_none() {
            let ops = batches.iter().flat_map(|b| b.ops.iter());
            if let Err(e) = store.apply(ops) {
                tracing::error!("{e}; refusing every further change");
                failed = Some(e.to_string());
            } else if let Some(file) = record.as_mut() {
                if let Err(e) = write_facts(file, &batches) {
                    tracing::error!("--record: {e}; the recording stops here");
                    record = None;
                }
            }
        }
        let outcome = match &failed {
            None => Ok(()),
            Some(e) => Err(e.clone()),
        };
        if outcome.is_ok() {
            if let Some(last) = batches.last() {
                done.send_replace(last.seq);
            }
        }
        for b in batches.drain(..) {
            if let Some(reply) = b.reply {
                let _ = reply.send(outcome.clone());
            }
        }
    }
}

/// Appends the batches' facts, flushed with the commit.
fn write_facts(file: &mut std::fs::File, batches: &[Batch]) -> std::io::Result<()> {
    let mut text = String::new();
    for line in batches.iter().flat_map(|b| b.facts.iter()) {
        text.push_str(line);
        text.push('\n');
    }
    if !text.is_empty() {
        file.write_all(text.as_bytes())?;
        file.flush()?;
    }
    Ok(())
}
