//! What the web app keeps in memory between requests: the plan, the footprint, the conversion
//! factors and the anonymous dashboard, each tied to the database's data revision.
//!
//! Every write bumps the revision in its own transaction (`greenplan-store`). A server checks
//! the revision at most once a second, so a page view costs no query at all most of the time;
//! its own writes invalidate at once, and another server's writes show within a second.
//! Measured with `bench/web.sh`: loading the plan on every request held the action page to
//! about 430 requests a second; from memory, tens of thousands.

use greenplan_core::footprint::FootprintTable;
use greenplan_core::plan::Plan;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long a checked revision is trusted without asking the database again.
pub const REVISION_CHECK: Duration = Duration::from_secs(1);

/// The cached state of one revision.
#[derive(Default)]
pub struct Cached {
    pub checked: Option<Instant>,
    pub revision: i64,
    pub plan: Option<Arc<Plan>>,
    /// `None` until computed; `Some(None)` when there is no activity data.
    pub footprint: Option<Option<Arc<FootprintTable>>>,
    /// Every stored conversion factor, for the register pages' carbon (tens of thousands of
    /// rows: read once per revision, not on every page view).
    pub factors: Option<Arc<greenplan_service::footprint::FactorsInForce>>,
    /// The dashboard as anonymous readers see it, for the day it was drawn.
    pub dashboard: Option<(chrono::NaiveDate, Arc<String>)>,
    /// Other pages as anonymous readers see them, by path and day.
    pub pages: std::collections::HashMap<(String, chrono::NaiveDate), Arc<String>>,
}

/// Shared between requests (and cloned cheaply with the state). The second lock is held
/// while the footprint is computed, so it is computed once however many requests want it.
#[derive(Clone, Default)]
pub struct Cache(pub Arc<Mutex<Cached>>, pub Arc<Mutex<()>>);

impl Cache {
    /// Forgets everything: called after this server's own writes.
    pub async fn invalidate(&self) {
        *self.0.lock().await = Cached::default();
    }
}
