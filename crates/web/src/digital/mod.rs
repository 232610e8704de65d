//! The green digital benefits framework (priority action DT1): a page per digital scheme with
//! its benefits and costs, each line with its factor and source, the net tCO2e a year and the
//! payback; a portfolio across the schemes, largest net saving first; forms to add and edit
//! schemes, for the contributors and admins of the scheme's organisation.
//!
//! Factors are looked up here and the arithmetic is `greenplan_core::digital`'s: conversion
//! factors from the edition for the financial year the scheme starts in (the latest loaded
//! for a later year), bed days from the built-in care-activity library.

use crate::AppState;
use crate::kit::auth::Viewer;
use crate::kit::charts::{Bar, bar_chart};
use crate::kit::organisation_full_name as organisation_name;
use crate::kit::stale::{StaleNotice, revision_of, shown_stale, stale_of};
use crate::kit::{Chrome, PageError, PageResult, html, long_date, not_found_error, number, plan};
use crate::kit::{Routes, Write};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use greenplan_core::Decimal;
use greenplan_core::digital::{
    Assessment, DigitalLine, FactorNeed, Payback, PortfolioLine, Side, UsedFactor, assess,
    portfolio,
};
use greenplan_core::factor::{FactorSet, edition_for_year};
use greenplan_core::ods::OdsCode;
use greenplan_core::pathway::CareActivityFactor;
use greenplan_core::period::FinancialYear;
use greenplan_core::travel::Mode;
use greenplan_core::unit::Unit;
use greenplan_store::{DigitalScheme, NewDigitalScheme};

mod form;
mod portfolio;
mod scheme;
pub use form::*;
pub use portfolio::*;
pub use scheme::*;

/// Journey rows and device rows the form offers.
const JOURNEY_ROWS: usize = 3;
const DEVICE_ROWS: usize = 2;

/// What the assessment needs besides the scheme: the factors.
struct Factors {
    set: FactorSet,
    editions: Vec<(String, i32)>,
    care: Vec<CareActivityFactor>,
}

async fn factors(state: &AppState) -> Result<Factors, PageError> {
    let care = greenplan_ingest::pathway_file::built_in_factors().map_err(|e| {
        tracing::error!(error = %e, "care-activity factors");
        PageError::Internal("The care-activity factor library could not be read.".into())
    })?;
    Ok(Factors {
        set: state.store.factor_set(None).await?,
        editions: state.store.edition_years().await?,
        care,
    })
}

impl Factors {
    /// The scheme's assessment, or why it cannot be made.
    fn assess(&self, scheme: &DigitalScheme) -> Result<Assessment, String> {
        let year = FinancialYear::containing(scheme.start_date).0;
        let edition = edition_for_year(&self.editions, year);
        assess(&scheme.lines, |need| self.lookup(need, edition)).map_err(|e| e.to_string())
    }

    fn lookup(&self, need: &FactorNeed, edition: Option<&str>) -> Result<UsedFactor, String> {
        match need {
            FactorNeed::Conversion { activity, unit } => {
                let edition = edition.ok_or(
                    "no conversion factors are loaded: import them with `greenplan factors import FILE`",
                )?;
                let unit = Unit::new(*unit);
                let i = self
                    .set
                    .resolve(activity, &unit, edition)
                    .map_err(|e| e.to_string())?;
                let f = &self.set.factors()[i];
                let per_unit = unit
                    .conversion_to_assuming_basis(&f.unit)
                    .map_err(|e| e.to_string())?;
                Ok(UsedFactor {
                    kgco2e_per_unit: f.kgco2e * per_unit,
                    source: format!("{} [{}], {}", f.path(), f.unit_text, f.edition),
                })
            }
            FactorNeed::CareActivity(id) => self
                .care
                .iter()
                .find(|f| f.id == *id)
                .map(|f| UsedFactor {
                    kgco2e_per_unit: f.kgco2e,
                    source: format!("{} ({}): {}", f.name, f.id, f.source),
                })
                .ok_or_else(|| format!("no care-activity factor `{id}` in the library")),
            FactorNeed::Entered {
                kgco2e_per_unit,
                source,
            } => Ok(UsedFactor {
                kgco2e_per_unit: *kgco2e_per_unit,
                source: source.clone(),
            }),
        }
    }

    /// Care activities counted per bed day, for the form: (id, name).
    fn bed_days(&self) -> Vec<(String, String)> {
        self.care
            .iter()
            .filter(|f| f.unit == "bed day")
            .map(|f| {
                (
                    f.id.clone(),
                    format!("{} ({} kgCO2e)", f.name, f.kgco2e.normalize()),
                )
            })
            .collect()
    }
}

fn tonnes(kg: Decimal) -> String {
    number((kg / Decimal::ONE_THOUSAND).round_dp(3))
}

fn payback_text(p: Payback) -> String {
    match p {
        Payback::NothingToRepay => "no devices to repay".into(),
        Payback::Years(y) => format!("{} years", y.normalize()),
        Payback::Never => "never: running costs exceed the benefits".into(),
    }
}

fn organiser_of(viewer: &Viewer, organisation: &OdsCode) -> bool {
    viewer
        .user
        .as_ref()
        .is_some_and(|u| u.access.can_contribute_for(organisation))
}

/// The green digital benefits framework (DT1): the portfolio and each scheme.
pub fn routes() -> Routes {
    Routes::new()
        .get("/tools/digital-benefits", portfolio_page)
        .post("/tools/digital-benefits", Write::Contributors, add_scheme)
        .get("/tools/digital-benefits/new", new_scheme_page)
        .get("/tools/digital-benefits/{id}", scheme_page)
        .post(
            "/tools/digital-benefits/{id}",
            Write::Contributors,
            edit_scheme,
        )
        .get("/tools/digital-benefits/{id}/edit", edit_scheme_page)
}
