//! Register files: a CSV or XLSX whose columns are a register's field keys (the header of the
//! template greenplan hands out), read into validated records. Every bad row is reported with
//! its row, column and the fix; a file with any bad row yields no records, so an import is
//! all-or-nothing. Also the example registers shipped with the built-in plan
//! (`data/registers/*.csv`).

use crate::error::IngestError;
use crate::table::{self, Header, Row};
use greenplan_core::csv_cell;
use greenplan_core::register::{self, FieldKind, Record, Register};
use std::path::Path;

/// A check of a valid record against the world outside the file (the plan's organisations,
/// the importer's permissions): `Some((column, message))` refuses the row.
pub type RowCheck<'a> = &'a dyn Fn(&Record) -> Option<(&'static str, String)>;

fn columns(register: &Register, required: bool) -> Vec<&'static str> {
    register
        .fields
        .iter()
        .filter(|f| f.required == required)
        .map(|f| f.key)
        .collect()
}

/// Reads a register file from disk; `name` is how errors call it (the upload's own name).
pub fn read_register_file(
    register: &'static Register,
    path: &Path,
    name: &str,
    check: RowCheck<'_>,
) -> Result<Vec<(u64, Record)>, IngestError> {
    let (header, rows) = table::open(
        path,
        crate::source::FileKind::Register,
        &columns(register, true),
        &columns(register, false),
    )
    .map_err(|e| rename(e, &path.display().to_string(), name))?;
    records(
        register,
        name,
        &header,
        rows.map(|r| r.map_err(|e| rename(e, &path.display().to_string(), name))),
        check,
        !table::is_workbook(path),
    )
}

/// Reads a register file held in memory (CSV text).
pub fn read_register_text(
    register: &'static Register,
    name: &str,
    text: &str,
    check: RowCheck<'_>,
) -> Result<Vec<(u64, Record)>, IngestError> {
    let (header, rows) = table::read_text(
        name,
        text,
        &columns(register, true),
        &columns(register, false),
    )?;
    records(
        register,
        name,
        &header,
        rows.into_iter().map(Ok),
        check,
        true,
    )
}

/// Errors name the file as the user knows it, not the temporary path it was saved under.
fn rename(e: IngestError, path: &str, name: &str) -> IngestError {
    match e {
        IngestError::Header { message, .. } => IngestError::Header {
            file: name.to_string(),
            message,
        },
        IngestError::Empty { expected, .. } => IngestError::Empty {
            file: name.to_string(),
            expected,
        },
        IngestError::Encoding { row, .. } => IngestError::Encoding {
            file: name.to_string(),
            row,
        },
        IngestError::Workbook { message, .. } => IngestError::Workbook {
            file: name.to_string(),
            message: message.replace(path, name),
        },
        IngestError::Rows { mut errors, total } => {
            for e in &mut errors {
                e.file = name.to_string();
            }
            IngestError::Rows { errors, total }
        }
        other => other,
    }
}

fn records(
    register: &'static Register,
    name: &str,
    header: &Header,
    rows: impl Iterator<Item = Result<Row, IngestError>>,
    check: RowCheck<'_>,
    csv: bool,
) -> Result<Vec<(u64, Record)>, IngestError> {
    let text_field = |k: &str| {
        register
            .fields
            .iter()
            .any(|f| f.key == k && f.kind == FieldKind::Text)
    };
    // A CSV export wrote text cells through the formula rule: take off the quote it added
    // (only there: workbooks hold text as text, and numbers are never quoted).
    let mut out = Vec::new();
    let errors = table::for_each_row(name, rows, |row, fail| {
        let value = |k: &str| {
            row.get(header, k).map(|v| {
                if csv && text_field(k) {
                    csv_cell::restore(v)
                } else {
                    v
                }
            })
        };
        match register.parse(value) {
            Ok(record) => match check(&record) {
                Some((column, message)) => fail(column, message),
                None => out.push((row.number, record)),
            },
            Err(problems) => {
                for p in problems {
                    fail(p.field, p.message);
                }
            }
        }
    })?;
    table::all_or_nothing(name.to_string(), register.columns().join(","), out, errors)
}

/// The example registers shipped with the built-in plan: (register, file name, CSV text).
/// Chosen so that the figures the Derbyshire plan quotes come out of them (a test checks each).
pub const BUILT_IN: &[(&Register, &str, &str)] = &[
    (
        &register::estates::SITES,
        "estates-sites.csv",
        include_str!("../../../data/registers/estates-sites.csv"),
    ),
    (
        &register::estates::PIPELINE,
        "estates-pipeline.csv",
        include_str!("../../../data/registers/estates-pipeline.csv"),
    ),
    (
        &register::waste::STREAMS,
        "waste-streams.csv",
        include_str!("../../../data/registers/waste-streams.csv"),
    ),
    (
        &register::fleet::VEHICLES,
        "fleet-vehicles.csv",
        include_str!("../../../data/registers/fleet-vehicles.csv"),
    ),
    (
        &register::fleet::MILEAGE,
        "fleet-mileage.csv",
        include_str!("../../../data/registers/fleet-mileage.csv"),
    ),
    (
        &register::fleet::LEASE_CARS,
        "fleet-lease-cars.csv",
        include_str!("../../../data/registers/fleet-lease-cars.csv"),
    ),
    (
        &register::fleet::CHARGE_POINTS,
        "fleet-charge-points.csv",
        include_str!("../../../data/registers/fleet-charge-points.csv"),
    ),
    (
        &register::procurement::CONTRACTS,
        "procurement-contracts.csv",
        include_str!("../../../data/registers/procurement-contracts.csv"),
    ),
    (
        &register::workforce::SESSIONS,
        "training-sessions.csv",
        include_str!("../../../data/registers/training-sessions.csv"),
    ),
    (
        &register::workforce::CORE_TRAINING,
        "greener-nhs-core-training.csv",
        include_str!("../../../data/registers/greener-nhs-core-training.csv"),
    ),
    (
        &register::workforce::CHAMPIONS,
        "green-champions.csv",
        include_str!("../../../data/registers/green-champions.csv"),
    ),
    (
        &register::digital::SIGN_UP,
        "digital-sign-up.csv",
        include_str!("../../../data/registers/digital-sign-up.csv"),
    ),
    (
        &register::digital::DEVICES,
        "digital-devices.csv",
        include_str!("../../../data/registers/digital-devices.csv"),
    ),
    (
        &register::primary_care::PRACTICES,
        "gp-practices.csv",
        include_str!("../../../data/registers/gp-practices.csv"),
    ),
    (
        &register::adaptation::RISKS,
        "climate-risks.csv",
        include_str!("../../../data/registers/climate-risks.csv"),
    ),
    (
        &register::adaptation::EXERCISES,
        "emergency-exercises.csv",
        include_str!("../../../data/registers/emergency-exercises.csv"),
    ),
    (
        &register::adaptation::ADMISSIONS,
        "weather-admissions.csv",
        include_str!("../../../data/registers/weather-admissions.csv"),
    ),
];

/// Reads every shipped example register.
pub fn built_in_registers() -> Result<Vec<(&'static Register, Vec<Record>)>, IngestError> {
    BUILT_IN
        .iter()
        .map(|(register, name, text)| {
            let rows = read_register_text(register, name, text, &|_| None)?;
            Ok((*register, rows.into_iter().map(|(_, r)| r).collect()))
        })
        .collect()
}
