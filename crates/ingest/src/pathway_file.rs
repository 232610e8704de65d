//! Pathway scenarios (TOML) and care-activity factor libraries (CSV) for the care pathway
//! carbon calculator (`greenplan_core::pathway`).
//!
//! The library shipped with greenplan is `data/care-activities.csv`; a user's CSV with the
//! same header replaces or extends it by id.

use crate::error::{IngestError, RowError};
use crate::table;
use greenplan_core::Decimal;
use greenplan_core::pathway::{CareActivityFactor, Change, Published, Scenario, ScenarioLine};
use greenplan_core::quantity::parse_decimal;
use serde::Deserialize;
use std::path::Path;

/// The care-activity factors shipped with greenplan.
pub const BUILT_IN_FACTORS: &str = include_str!("../../../data/care-activities.csv");

const REQUIRED: &[&str] = &["id", "name", "unit", "kgco2e", "source"];
const OPTIONAL: &[&str] = &["low", "high", "year", "verified"];

/// The built-in library.
pub fn built_in_factors() -> Result<Vec<CareActivityFactor>, IngestError> {
    factors_of_text("data/care-activities.csv", BUILT_IN_FACTORS)
}

/// Reads a care-activity factor CSV; every bad row is reported.
pub fn read_factors(path: &Path) -> Result<Vec<CareActivityFactor>, IngestError> {
    let text = crate::source::read_to_string(path, crate::source::FileKind::CareActivities)?;
    factors_of_text(&path.display().to_string(), &text)
}

fn factors_of_text(file: &str, text: &str) -> Result<Vec<CareActivityFactor>, IngestError> {
    let (header, rows) = table::read_text(file, text, REQUIRED, OPTIONAL)?;
    let mut factors = Vec::new();
    let mut errors = Vec::new();
    for row in rows {
        if row.is_blank() {
            continue;
        }
        match factor_of_row(file, &header, &row) {
            Ok(f) => factors.push(f),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(IngestError::rows(errors));
    }
    Ok(factors)
}

fn factor_of_row(
    file: &str,
    header: &table::Header,
    row: &table::Row,
) -> Result<CareActivityFactor, RowError> {
    let error = |column: &str, message: String| RowError {
        file: file.to_string(),
        row: row.number,
        column: Some(column.to_string()),
        message,
    };
    let text = |c: &str| row.get(header, c).unwrap_or("").trim().to_string();
    let number = |c: &str| -> Result<Option<Decimal>, RowError> {
        match text(c).as_str() {
            "" => Ok(None),
            t => parse_decimal(t).map(Some).ok_or_else(|| {
                error(
                    c,
                    format!("`{t}` is not a number: write kgCO2e per unit, e.g. 37.9"),
                )
            }),
        }
    };
    let id = text("id");
    if id.is_empty() || id.contains(char::is_whitespace) {
        return Err(error(
            "id",
            "give an id without spaces, e.g. gp-home-visit".into(),
        ));
    }
    let kgco2e = number("kgco2e")?
        .ok_or_else(|| error("kgco2e", "is empty: give kgCO2e per unit".into()))?;
    let (low, high) = (number("low")?, number("high")?);
    if let (Some(l), Some(h)) = (low, high)
        && !(l <= kgco2e && kgco2e <= h)
    {
        return Err(error(
            "low",
            format!("the range {l} to {h} should hold the factor {kgco2e}"),
        ));
    }
    let year = match text("year").as_str() {
        "" => None,
        y => Some(
            y.parse::<i32>()
                .map_err(|_| error("year", format!("`{y}` is not a year")))?,
        ),
    };
    let verified = match text("verified").to_lowercase().as_str() {
        "" | "true" | "yes" => true,
        "false" | "no" => false,
        v => return Err(error("verified", format!("`{v}`: write true or false"))),
    };
    if text("source").is_empty() {
        return Err(error("source", "say where the figure comes from".into()));
    }
    Ok(CareActivityFactor {
        id,
        name: text("name"),
        unit: text("unit"),
        kgco2e,
        low,
        high,
        source: text("source"),
        year,
        verified,
    })
}

/// The library with `extra` factors replacing those of the same id, or added.
pub fn merge(
    mut base: Vec<CareActivityFactor>,
    extra: Vec<CareActivityFactor>,
) -> Vec<CareActivityFactor> {
    for f in extra {
        match base.iter_mut().find(|b| b.id == f.id) {
            Some(b) => *b = f,
            None => base.push(f),
        }
    }
    base
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    description: Option<String>,
    #[serde(default)]
    actions: Vec<String>,
    case_study: Option<String>,
    equivalent: Option<String>,
    #[serde(default)]
    line: Vec<LineFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineFile {
    activity: String,
    avoided: Option<toml::Value>,
    before: Option<toml::Value>,
    after: Option<toml::Value>,
    published: Option<PublishedFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishedFile {
    kgco2e: Option<toml::Value>,
    equivalents: Option<toml::Value>,
}

/// A number written as a TOML number or as text ("1165.6" keeps its exact digits).
fn decimal(v: &toml::Value) -> Option<Decimal> {
    match v {
        toml::Value::Integer(i) => Some(Decimal::from(*i)),
        toml::Value::String(s) => parse_decimal(s),
        toml::Value::Float(f) => parse_decimal(&f.to_string()),
        _ => None,
    }
}

/// The example scenarios shipped with greenplan, saved into a new database beside the
/// library: (example id, file name, TOML).
pub const BUILT_IN_EXAMPLES: &[(&str, &str, &str)] = &[(
    "team-up",
    "data/pathways/team-up-falls.toml",
    include_str!("../../../data/pathways/team-up-falls.toml"),
)];

/// The built-in example scenarios, by example id.
pub fn built_in_examples() -> Result<Vec<(String, Scenario)>, IngestError> {
    BUILT_IN_EXAMPLES
        .iter()
        .map(|(id, file, text)| Ok((id.to_string(), scenario_of_text(file, text)?)))
        .collect()
}

/// Reads a scenario file.
pub fn read_scenario(path: &Path) -> Result<Scenario, IngestError> {
    let file = path.display().to_string();
    let text = crate::source::read_to_string(path, crate::source::FileKind::Pathway)?;
    scenario_of_text(&file, &text)
}

/// Reads a scenario held in memory; `file` names it in errors.
pub fn scenario_of_text(file: &str, text: &str) -> Result<Scenario, IngestError> {
    let invalid = |message: String| IngestError::Invalid {
        file: file.to_string(),
        message,
    };
    let raw: ScenarioFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    if raw.line.is_empty() {
        return Err(invalid(
            "the scenario has no [[line]]: add one per care activity that changes".into(),
        ));
    }
    let number = |v: &Option<toml::Value>,
                  what: &str,
                  activity: &str|
     -> Result<Option<Decimal>, IngestError> {
        v.as_ref()
            .map(|v| {
                decimal(v)
                    .ok_or_else(|| invalid(format!("line `{activity}`: `{what}` must be a number")))
            })
            .transpose()
    };
    let mut lines = Vec::new();
    for l in &raw.line {
        let a = &l.activity;
        let change = match (
            number(&l.avoided, "avoided", a)?,
            number(&l.before, "before", a)?,
            number(&l.after, "after", a)?,
        ) {
            (Some(count), None, None) => Change::Avoided { count },
            (None, Some(before), Some(after)) => Change::BeforeAfter { before, after },
            _ => {
                return Err(invalid(format!(
                    "line `{a}`: give either `avoided = N`, or both `before = N` and `after = N`"
                )));
            }
        };
        let published = match &l.published {
            Some(p) => Some(Published {
                kgco2e: number(&p.kgco2e, "published.kgco2e", a)?,
                equivalents: number(&p.equivalents, "published.equivalents", a)?,
            }),
            None => None,
        };
        lines.push(ScenarioLine {
            activity: a.clone(),
            change,
            published,
        });
    }
    Ok(Scenario {
        name: raw.name,
        description: raw.description,
        actions: raw.actions,
        case_study: raw.case_study,
        equivalent: raw.equivalent,
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_library_reads_and_is_sourced() {
        let lib = built_in_factors().unwrap();
        for id in [
            "ambulance-conveyance",
            "gp-home-visit",
            "inpatient-bed-day-low",
            "outpatient-appointment",
        ] {
            let f = lib.iter().find(|f| f.id == id).unwrap();
            assert!(!f.source.is_empty(), "{id}");
        }
        let phone = lib
            .iter()
            .find(|f| f.id == "gp-appointment-telephone")
            .unwrap();
        assert!(!phone.verified, "quoted without a checked source");
    }

    #[test]
    fn the_team_up_example_reproduces_the_plans_figures() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/pathways/team-up-falls.toml"
        ));
        let scenario = read_scenario(path).unwrap();
        let r = greenplan_core::pathway::evaluate(&scenario, &built_in_factors().unwrap()).unwrap();
        assert_eq!(r.lines[0].kgco2e_saved, "10528".parse().unwrap());
        assert_eq!(r.lines[1].equivalents, Some("2905.7".parse().unwrap()));
        assert!(
            r.lines[0]
                .published_note
                .as_deref()
                .unwrap()
                .contains("rounds 56 / 9")
        );
    }

    #[test]
    fn bad_files_say_what_to_fix() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.toml");
        std::fs::write(
            &p,
            "name = \"x\"\n[[line]]\nactivity = \"gp-home-visit\"\nbefore = 3\n",
        )
        .unwrap();
        let e = read_scenario(&p).unwrap_err().to_string();
        assert!(e.contains("give either `avoided = N`, or both"), "{e}");
        std::fs::write(&p, "name = \"x\"\ncolour = \"green\"\n").unwrap();
        let e = read_scenario(&p).unwrap_err().to_string();
        assert!(e.contains("colour"), "{e}");
        let c = dir.path().join("f.csv");
        std::fs::write(&c, "id,name,unit,kgco2e,source,low,high\nx,X,visit,ten,me,,\ny,Y,visit,5,,,\nz,Z,visit,5,me,6,7\n").unwrap();
        let e = read_factors(&c).unwrap_err().to_string();
        assert!(e.contains("row 2, column `kgco2e`"), "{e}");
        assert!(e.contains("row 3, column `source`"), "{e}");
        assert!(e.contains("row 4, column `low`"), "{e}");
    }
}
