//! Memory given back to the system after a burst of connections.
//!
//! Each connection's buffers are freed when it closes, but glibc's allocator keeps the freed
//! pages for reuse: measured with `bench/slow_clients.sh`, 5,000 idle connections took RSS
//! from 38.8 MB to 129.8 MB, and a minute after they had all closed it was still 113.6 MB
//! (a second burst reached the same peak and no higher: kept, not leaked). Neither a lower
//! mmap threshold nor mimalloc changed that. `malloc_trim(0)` hands free pages anywhere in
//! the heap back to the kernel; it is called here once a burst of connections has closed.
//!
//! This is the one `unsafe` in the workspace: a call into the C library, documented and
//! measured, allowed in this module alone (the crate denies `unsafe_code` everywhere else).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How many connections must have closed since the last trim before the next one: fewer is
/// ordinary traffic, whose memory is reused at once.
const BURST: usize = 256;

/// How often the count is looked at.
const EVERY: Duration = Duration::from_secs(15);

/// Counts closed connections and gives memory back after a burst of them.
#[derive(Debug, Default, Clone)]
pub struct Reclaimer {
    closed: Arc<AtomicUsize>,
}

impl Reclaimer {
    /// Notes that a connection has closed.
    pub fn closed(&self) {
        self.closed.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs until the process ends: every [`EVERY`], when at least [`BURST`] connections
    /// have closed since the last trim and fewer than `BURST` are open (the burst is over),
    /// gives the freed memory back.
    pub async fn run(self, open: impl Fn() -> usize + Send + 'static) {
        let mut ticks = tokio::time::interval(EVERY);
        loop {
            ticks.tick().await;
            if self.closed.load(Ordering::Relaxed) >= BURST && open() < BURST {
                self.closed.store(0, Ordering::Relaxed);
                let started = std::time::Instant::now();
                let released = give_back();
                tracing::info!(
                    released,
                    took_ms = started.elapsed().as_millis(),
                    "memory of closed connections given back"
                );
            }
        }
    }
}

/// Returns freed heap memory to the kernel; `true` when some was released.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn give_back() -> bool {
    // SAFETY: malloc_trim takes a plain integer, touches only the allocator's own free lists
    // under its own locks, and is safe to call from any thread at any time (glibc manual,
    // "Memory Allocation Tunables"; MT-Safe).
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Other allocators return memory on their own terms.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn give_back() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_memory_can_be_given_back() {
        // Many small blocks freed out of order leave free pages inside the heap, which only
        // a trim returns; the call must be harmless whatever the heap holds.
        let blocks: Vec<Vec<u8>> = (0..10_000).map(|i| vec![1u8; 1024 + i % 7]).collect();
        let kept: Vec<&Vec<u8>> = blocks.iter().step_by(97).collect();
        assert!(!kept.is_empty());
        drop(kept);
        drop(blocks);
        let _ = give_back();
        // Still a working allocator afterwards.
        let v = vec![7u8; 4096];
        assert_eq!(v.iter().map(|b| usize::from(*b)).sum::<usize>(), 7 * 4096);
    }
}
