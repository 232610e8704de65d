//! What the web app keeps in memory between requests: the plan, the footprint, the conversion
//! factors and the pages anonymous readers all see alike, each tied to the database's data
//! revision.
//!
//! Every write bumps the revision in its own transaction (`greenplan-store`: every audited
//! write does). A server checks the revision at most once a second, so a page view costs no
//! query at all most of the time, and another server's writes show within a second. This
//! server's own writes never wait that second, and no handler has to remember them:
//! [`after_writes`] wraps every unsafe request, inside which each read of the cache asks the
//! database for the revision (so a page drawn after the write in the same request sees it),
//! and after a successful one it drops everything kept.
//!
//! Measured with `bench/web.sh`: loading the plan on every request held the action page to
//! about 430 requests a second; from memory, tens of thousands.

use super::error::PageError;
use crate::AppState;
use chrono::NaiveDate;
use greenplan_core::footprint::{Aggregator, FootprintTable, GroupBy};
use greenplan_core::plan::Plan;
use greenplan_service::footprint::{FactorsInForce, FootprintQuery, for_each_emission};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long a checked revision is trusted without asking the database again.
const REVISION_CHECK: Duration = Duration::from_secs(1);

/// At most this many anonymous pages are kept per revision and day.
const MAX_PAGES: usize = 2_000;

/// The cached state of one revision.
#[derive(Default)]
struct Cached {
    checked: Option<Instant>,
    revision: i64,
    plan: Option<Arc<Plan>>,
    /// `None` until computed; `Some(None)` when there is no activity data.
    footprint: Option<Option<Arc<FootprintTable>>>,
    /// Every stored conversion factor, for the register pages' carbon (tens of thousands of
    /// rows: read once per revision, not on every page view).
    factors: Option<Arc<FactorsInForce>>,
    /// Pages as anonymous readers see them, by path and day.
    pages: HashMap<(String, NaiveDate), Arc<String>>,
}

/// Shared between requests (and cloned cheaply with the state). The second lock is held
/// while the footprint is computed, so it is computed once however many requests want it.
#[derive(Clone, Default)]
pub struct Cache {
    cached: Arc<Mutex<Cached>>,
    computing: Arc<Mutex<()>>,
}

tokio::task_local! {
    /// Set while an unsafe request runs: the revision is asked for at every read.
    static IN_A_WRITE: ();
}

impl Cache {
    /// Forgets everything.
    async fn invalidate(&self) {
        *self.cached.lock().await = Cached::default();
    }

    /// The cache brought up to the database's revision (asked at most once a second, or at
    /// every read inside a write). The plan is loaded if it is not held.
    async fn current(
        &self,
        state: &AppState,
    ) -> Result<tokio::sync::MutexGuard<'_, Cached>, PageError> {
        let mut cached = self.cached.lock().await;
        let in_a_write = IN_A_WRITE.try_with(|()| ()).is_ok();
        let fresh = !in_a_write && cached.checked.is_some_and(|t| t.elapsed() < REVISION_CHECK);
        if !fresh {
            let revision = state.store.data_revision().await?;
            if revision != cached.revision || cached.plan.is_none() {
                *cached = Cached {
                    revision,
                    ..Default::default()
                };
            }
            cached.checked = Some(Instant::now());
        }
        if cached.plan.is_none() {
            let plan = state.store.load_plan().await?.ok_or_else(|| {
                PageError::Unavailable(
                    "No plan is loaded yet. Run `greenplan init` to load the built-in plan.".into(),
                )
            })?;
            cached.plan = Some(Arc::new(plan));
        }
        Ok(cached)
    }
}

/// The plan of the current revision.
pub async fn plan(state: &AppState) -> Result<Arc<Plan>, PageError> {
    let cached = state.cache.current(state).await?;
    cached
        .plan
        .clone()
        .ok_or_else(|| PageError::Internal("The plan could not be read.".into()))
}

/// The stored conversion factors, read once per data revision.
pub async fn factors(state: &AppState) -> Result<Arc<FactorsInForce>, PageError> {
    let revision = {
        let cached = state.cache.current(state).await?;
        if let Some(known) = &cached.factors {
            return Ok(known.clone());
        }
        cached.revision
    };
    let loaded = Arc::new(
        FactorsInForce::load(&state.store, [])
            .await
            .map_err(greenplan_service::footprint::FootprintError::from)?,
    );
    let mut cached = state.cache.cached.lock().await;
    if cached.revision == revision {
        cached.factors = Some(loaded.clone());
    }
    Ok(loaded)
}

/// The footprint by organisation and category, computed once per data revision.
pub async fn footprint(state: &AppState) -> Result<Option<Arc<FootprintTable>>, PageError> {
    if let Some(known) = &state.cache.current(state).await?.footprint {
        return Ok(known.clone());
    }
    // One request computes; the others wait for it rather than each reading every row.
    let _computing = state.cache.computing.lock().await;
    let revision = {
        let cached = state.cache.cached.lock().await;
        if let Some(known) = &cached.footprint {
            return Ok(known.clone());
        }
        cached.revision
    };
    let mut agg = Aggregator::new(&[GroupBy::Organisation, GroupBy::Category], false);
    let mut emissions = 0u64;
    let run = for_each_emission(&state.store, &FootprintQuery::default(), |e| {
        emissions += 1;
        agg.add(0, &e);
    })
    .await?;
    let table = with_unsummed(agg.finish(), &run.unsummed);
    let table = (emissions > 0 || !table.unsummed.is_empty()).then(|| Arc::new(table));
    let mut cached = state.cache.cached.lock().await;
    // Keep it only if nothing was written meanwhile: otherwise the next request recomputes.
    if cached.revision == revision {
        cached.footprint = Some(table.clone());
    }
    Ok(table)
}

/// A page as every anonymous reader sees it on `day`: drawn once per revision and day by
/// `draw`, then served from memory.
pub async fn anonymous_page<F>(
    state: &AppState,
    path: &str,
    day: NaiveDate,
    draw: F,
) -> Result<Arc<String>, PageError>
where
    F: std::future::Future<Output = Result<String, PageError>>,
{
    let key = (path.to_string(), day);
    let revision = {
        let cached = state.cache.current(state).await?;
        if let Some(page) = cached.pages.get(&key) {
            return Ok(page.clone());
        }
        cached.revision
    };
    let page = Arc::new(draw.await?);
    let mut cached = state.cache.cached.lock().await;
    // Drawn from the revision it is kept under, or not kept.
    if cached.revision == revision && cached.pages.len() < MAX_PAGES {
        cached.pages.insert(key, page.clone());
    }
    Ok(page)
}

/// The footprint with the rows that could not be summed (too large, from before quantities
/// were bounded at import) named by organisation, however they were found: by the resolver
/// (a row's own figures) or by the sums (issue 21, class 2).
fn with_unsummed(
    mut table: FootprintTable,
    found: &[greenplan_core::footprint::Unsummed],
) -> FootprintTable {
    for u in found {
        greenplan_core::footprint::Unsummed::note(&mut table.unsummed, &u.organisation, u.rows);
    }
    table
}

/// The sentence every footprint page shows when some organisation's rows were left out.
pub fn unsummed_notice(table: &FootprintTable) -> Option<String> {
    (!table.unsummed.is_empty()).then(|| {
        format!(
            "Some rows could not be summed and are left out of the footprint: {}. Their quantities are far too large to be real; the organisation should correct and re-import them.",
            greenplan_core::footprint::Unsummed::describe(&table.unsummed)
        )
    })
}

/// Middleware around every route: an unsafe request (anything but GET, HEAD, OPTIONS) runs
/// with the revision checked at each read of the cache, and when it succeeds (2xx or 3xx)
/// the cache is dropped, so this server's next page shows the write at once.
pub async fn after_writes(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if request.method().is_safe() {
        return next.run(request).await;
    }
    let response = IN_A_WRITE.scope((), next.run(request)).await;
    let status = response.status();
    if status.is_success() || status.is_redirection() {
        state.cache.invalidate().await;
    }
    response
}
