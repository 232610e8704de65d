//! Gathering a report's [`Inputs`] from the store: the plan, every action update, the
//! footprint of stored activity, the factor editions and which returns have come in.

use crate::ReportError;
use crate::inputs::{FootprintData, Inputs, ReportPeriod, ReturnsStatus, ScenarioSaving};
use chrono::{Months, NaiveDate, NaiveDateTime};
use greenplan_core::ods::OdsCode;
use greenplan_core::plan::{ActionStatus, OrganisationKind};
use greenplan_service::footprint::{FootprintQuery, for_each_emission};
use greenplan_store::Store;
use std::collections::BTreeMap;

/// Organisations expected to make activity data returns: the ICB and the NHS trusts.
pub fn makes_returns(kind: OrganisationKind) -> bool {
    matches!(
        kind,
        OrganisationKind::Icb
            | OrganisationKind::Acute
            | OrganisationKind::Community
            | OrganisationKind::MentalHealth
            | OrganisationKind::Ambulance
    )
}

/// Returns for a period are due one month after it ends (the working rule for a quarter the
/// ICB has not opened as a reporting period, which has its own due date).
pub fn returns_due(period: ReportPeriod) -> Option<NaiveDate> {
    period.end().checked_add_months(Months::new(1))
}

/// Reads everything a report needs from the store.
pub async fn gather(
    store: &Store,
    period: ReportPeriod,
    organisation: Option<OdsCode>,
    now: NaiveDateTime,
) -> Result<Inputs, ReportError> {
    let mut plan = store.load_plan().await?.ok_or(ReportError::NoPlan)?;
    if let Some(o) = &organisation
        && plan.organisation(o).is_none()
    {
        return Err(ReportError::UnknownOrganisation(o.to_string()));
    }
    let mut updates = Vec::new();
    for a in &mut plan.actions {
        let mine = store.action_updates(&a.id).await?;
        a.status = status_before_updates(store, &a.id, a.status).await?;
        updates.extend(mine);
    }
    let footprint = footprint(store).await?;
    // A quarter the ICB opened for returns has its own due date and the returns recorded
    // against it, with their approvals; otherwise activity imported for the period stands in.
    let opened = match period {
        ReportPeriod::Quarter(q) => store
            .reporting_periods()
            .await?
            .into_iter()
            .find(|p| p.quarter == q),
        ReportPeriod::Year(_) => None,
    };
    let (due, received) = match &opened {
        Some(p) => (Some(p.due_on), recorded_returns(store, p.quarter).await?),
        None => (
            returns_due(period),
            store.returns_received(period.start(), period.end()).await?,
        ),
    };
    let approvals = match &opened {
        Some(p) => Some(store.returns_for(p.quarter).await?),
        None => None,
    };
    let returns = plan
        .organisations
        .iter()
        .filter(|o| makes_returns(o.kind))
        .filter(|o| organisation.as_ref().is_none_or(|x| x == &o.code))
        .map(|o| {
            let mut status = returns_status(&o.code, &received, due, now);
            if let Some(records) = &approvals {
                let own: Vec<_> = records
                    .iter()
                    .filter(|r| r.organisation == o.code)
                    .collect();
                status.approved =
                    (!own.is_empty()).then(|| own.iter().any(|r| r.approved_at.is_some()));
            }
            status
        })
        .collect();
    Ok(Inputs {
        plan,
        updates,
        footprint,
        editions: store.editions().await?,
        returns,
        returns_due: due,
        organisation,
        scenarios: scenarios(store).await?,
        now,
    })
}

/// Every saved care pathway scenario, computed with the stored library.
async fn scenarios(store: &Store) -> Result<Vec<ScenarioSaving>, ReportError> {
    let library = store.care_activity_factors().await?;
    Ok(store
        .pathway_scenarios()
        .await?
        .into_iter()
        .map(|s| {
            let result = greenplan_core::pathway::evaluate(&s.scenario, &library);
            ScenarioSaving {
                name: s.scenario.name,
                organisation: s.organisation,
                actions: s.scenario.actions,
                kgco2e_saved: result.as_ref().ok().map(|r| r.total_kgco2e_saved),
                note: match result {
                    Ok(r) => match (r.total_equivalents, r.equivalent) {
                        (Some(n), Some(unit)) => format!(
                            "= {} {unit}s",
                            greenplan_core::quantity::with_thousands(
                                n.normalize(),
                                n.normalize().scale()
                            )
                        ),
                        _ => String::new(),
                    },
                    Err(e) => format!("cannot be computed: {e}"),
                },
            }
        })
        .collect())
}

/// The status an action had before its first update (the stored plan holds the latest one):
/// the `before` of the oldest update in the audit trail.
async fn status_before_updates(
    store: &Store,
    action: &str,
    current: ActionStatus,
) -> Result<ActionStatus, ReportError> {
    let trail = store.audit_trail(Some(("action", action)), 10_000).await?;
    let first = trail
        .iter()
        .filter(|e| e.action == "post-update")
        .min_by_key(|e| e.id);
    Ok(first
        .and_then(|e| e.before.as_deref())
        .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
        .and_then(|v| v.get("status")?.as_str()?.parse().ok())
        .unwrap_or(current))
}

/// The returns recorded for an opened quarter, as received: first submission and rows.
async fn recorded_returns(
    store: &Store,
    quarter: greenplan_core::period::Quarter,
) -> Result<Vec<greenplan_store::ReturnReceived>, ReportError> {
    let mut received: Vec<greenplan_store::ReturnReceived> = Vec::new();
    for r in store.returns_for(quarter).await? {
        match received
            .iter_mut()
            .find(|x| x.organisation == r.organisation)
        {
            Some(x) => {
                x.first_imported_at = x.first_imported_at.min(r.submitted_at);
                x.rows += r.row_count as u64;
            }
            None => received.push(greenplan_store::ReturnReceived {
                organisation: r.organisation.clone(),
                first_imported_at: r.submitted_at,
                rows: r.row_count as u64,
            }),
        }
    }
    Ok(received)
}

fn returns_status(
    code: &OdsCode,
    received: &[greenplan_store::ReturnReceived],
    due: Option<NaiveDate>,
    now: NaiveDateTime,
) -> ReturnsStatus {
    let got = received.iter().find(|r| &r.organisation == code);
    let due_ts = due
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp());
    let late = match (got, due_ts) {
        (Some(r), Some(d)) => r.first_imported_at >= d,
        (None, Some(d)) => now.and_utc().timestamp() >= d,
        (_, None) => false,
    };
    ReturnsStatus {
        organisation: code.clone(),
        submitted_at: got.map(|r| r.first_imported_at),
        rows: got.map_or(0, |r| r.rows),
        approved: None,
        late,
    }
}

/// The footprint of everything stored (returns and medicines), by year, organisation and
/// category.
async fn footprint(store: &Store) -> Result<FootprintData, ReportError> {
    let mut sums: BTreeMap<_, greenplan_core::Decimal> = BTreeMap::new();
    let run = for_each_emission(store, &FootprintQuery::default(), |e| {
        *sums
            .entry((e.year, e.organisation.clone(), e.category))
            .or_default() += e.kgco2e;
    })
    .await?;
    let unconverted = run.unconverted.into_iter().chain(run.not_counted).collect();
    let (rows, used, notes) = (run.rows, run.editions_used, run.notes);
    Ok(FootprintData {
        lines: sums
            .into_iter()
            .map(|((y, o, c), kg)| (y, o, c, kg))
            .collect(),
        rows,
        unconverted,
        editions_used: used,
        notes,
    })
}
