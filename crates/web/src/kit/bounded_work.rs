//! Work that holds a lot of memory while it runs, a few at a time.
//!
//! - **Passwords.** Each Argon2id hash or check holds its memory cost (19 MiB with the
//!   crate's defaults) for the whole computation. On tokio's blocking pool without a bound, a
//!   burst of sign-in attempts (even for addresses with no account: those are checked against
//!   a dummy hash, so timing reveals nothing) would compute hundreds at once and hold
//!   gigabytes. Found with heaptrack under `bench/soak.sh`: four contributors signing in at
//!   once took 80 MB, which the allocator then kept.
//! - **Reports.** Typesetting a PDF report holds its fonts, layout and images.
//!
//! With a bound the work queues instead, and its memory stays at [`permits`] times one
//! computation's however many requests arrive.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;

/// One computation at a time per core (at most 4): more would only share the cores and hold
/// more memory.
pub fn permits() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// A kind of heavy work and its bound.
pub struct Bounded {
    semaphore: Semaphore,
    running: AtomicUsize,
    most: AtomicUsize,
}

/// Argon2 password hashes and checks.
pub static PASSWORDS: LazyLock<Bounded> = LazyLock::new(Bounded::new);
/// Report rendering (PDF, DOCX, XLSX).
pub static REPORTS: LazyLock<Bounded> = LazyLock::new(Bounded::new);

impl Bounded {
    fn new() -> Self {
        Self {
            semaphore: Semaphore::new(permits()),
            running: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
        }
    }

    /// Runs `work` on the blocking pool once a permit is free; `None` if it panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let _permit = self.semaphore.acquire().await.ok()?;
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        let result = tokio::task::spawn_blocking(work).await.ok();
        self.running.fetch_sub(1, Ordering::SeqCst);
        result
    }

    /// The most computations of this kind that have run at once since the process started.
    pub fn most_at_once(&self) -> usize {
        self.most.load(Ordering::SeqCst)
    }
}
