//! A refit trained alongside early stopping, on a thread of its own.
//!
//! A refit ([`super::refit`]) replays the stopped run's learning rates on every session.
//! Trained after the run, it adds the run's best epoch count in epochs to the wall clock.
//! But its epoch `k` needs only the rate of the run's epoch `k`, known once the run has
//! validated epoch `k − 1`, so the two can train side by side: on the CPU backend one run
//! leaves a core mostly idle (burn-flex's element-wise passes are single-threaded), and the
//! refit takes it. The refit keeps its model after the epoch the run last improved on; once
//! the run stops, the refit stops at the run's best epoch (epochs past it are dropped). The
//! model is the one [`super::refit`] trains after the run, bit for bit: the same start, the same
//! rates, and the same random streams, since every run draws its shuffles, negatives and
//! dropout masks from generators of its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use super::fit::{Step, Trainer};
use crate::model::Awrsr;

/// The refit's thread, driven by the run's epochs ([`Trainer::refit_alongside`]).
pub struct Alongside {
    /// To the worker; dropped when the run has stopped, so that a waiting worker wakes.
    orders: Option<Sender<Order>>,
    /// The run's best epoch once it has stopped (`usize::MAX` until then; 0 abandons).
    needed: Arc<AtomicUsize>,
    worker: Option<JoinHandle<Result<Awrsr, String>>>,
}

/// What the run says after validating an epoch.
struct Order {
    /// Whether that epoch was the best so far, so that the refit keeps its own after it.
    keep_last: bool,
    /// The learning-rate factor of the next epoch.
    scale: f64,
}

impl Alongside {
    /// Starts training `refit` (a [`Trainer::refit`] of the epochs whose rates are known)
    /// on a new thread, keeping its model after epoch `keep_at` (the run's best so far, 0
    /// for none) and printing each of its epochs through `say`.
    pub fn start(refit: Trainer, keep_at: usize, say: fn(String)) -> Self {
        let (orders, received) = channel();
        let needed = Arc::new(AtomicUsize::new(usize::MAX));
        let shared = Arc::clone(&needed);
        let worker = std::thread::spawn(move || work(refit, keep_at, &received, &shared, say));
        Self {
            orders: Some(orders),
            needed,
            worker: Some(worker),
        }
    }

    /// The run has validated an epoch: whether it improved, and the next epoch's factor.
    pub fn epoch_validated(&self, improved: bool, next_scale: f64) {
        let order = Order {
            keep_last: improved,
            scale: next_scale,
        };
        // A worker that has ended (on an error) reports it when joined.
        if let Some(orders) = &self.orders {
            let _ = orders.send(order);
        }
    }

    /// The run has stopped with `best_epoch` its best: the refit trains up to that epoch
    /// and no further.
    pub fn run_stopped(&mut self, best_epoch: usize) {
        self.needed.store(best_epoch, Ordering::SeqCst);
        self.orders = None;
    }

    /// Waits for the refit's model after the run's best epoch ([`Alongside::run_stopped`]).
    pub fn finish(mut self) -> Result<Awrsr, String> {
        let worker = self.worker.take().expect("a worker until finished");
        worker
            .join()
            .map_err(|_| "the refit's thread panicked".to_string())?
    }
}

impl Drop for Alongside {
    /// An unfinished refit (the run failed) is abandoned at its next batch.
    fn drop(&mut self) {
        if self.worker.is_some() && self.orders.is_some() {
            self.needed.store(0, Ordering::SeqCst);
        }
    }
}

/// The refit's thread: trains the epochs the run orders, keeps the model of the run's best
/// epoch so far, and returns it once the run's best epoch is known and trained.
fn work(
    mut refit: Trainer,
    keep_at: usize,
    orders: &Receiver<Order>,
    needed: &AtomicUsize,
    say: fn(String),
) -> Result<Awrsr, String> {
    let mut kept: Option<Awrsr> = None;
    let needed_now = |trained: usize| needed.load(Ordering::SeqCst) <= trained;
    loop {
        let needed = needed.load(Ordering::SeqCst);
        let (_, trained) = refit.progress();
        if trained == needed {
            return refit
                .best()
                .cloned()
                .ok_or("the refit trained no epoch".into());
        }
        if refit.epoch() > needed {
            return kept.ok_or_else(|| "the run stopped before its refit had an epoch".into());
        }
        match refit.step()? {
            Some(Step::EpochTrained { epoch }) => {
                say(refit.validate()?.line());
                if epoch == keep_at {
                    kept = refit.best().cloned();
                }
            }
            Some(Step::Batch { .. }) => {}
            None => match orders.recv() {
                Ok(order) => {
                    if order.keep_last {
                        kept = refit.best().cloned();
                    }
                    refit.schedule_next(order.scale);
                }
                // The run has stopped: `needed` says which epoch it wants.
                Err(_) if needed_now(trained) => continue,
                Err(_) => return Err("the run stopped before the refit's epochs".into()),
            },
        }
    }
}
