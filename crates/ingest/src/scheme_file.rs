//! Scheme register CSV: the system ePMO's transformation schemes, one a row, read into
//! `greenplan_core::scheme::SchemeDetails`. The import is all or nothing: every bad row is
//! reported with its row, column and the fix, and none is stored until all are right.
//!
//! Columns (by name, in any order; others, such as the `id` and `greener_nhs` of an export,
//! are ignored): `name, owner, organisation, stage` and optionally `start, end, actions,
//! description`. Dates are `2025-04-01` or `01/04/2025`; actions are plan action ids separated
//! by `;` or `,` (`CT1; CT2`).

use crate::activity::parse_date;
use crate::error::{IngestError, RowError};
use crate::table;
use greenplan_core::ods::OdsCode;
use greenplan_core::scheme::{SchemeDetails, Stage};
use greenplan_core::text::TextKind;

/// The columns an import must have.
pub const REQUIRED: &[&str] = &["name", "owner", "organisation", "stage"];
/// The columns it may have.
pub const OPTIONAL: &[&str] = &["start", "end", "actions", "description"];

/// What a scheme may refer to: the plan's organisations and priority actions.
pub struct Known<'a> {
    pub organisations: &'a [OdsCode],
    pub actions: &'a [String],
}

/// Reads a scheme CSV (`file` names it in errors); every bad row is reported.
pub fn read_schemes(
    file: &str,
    bytes: &[u8],
    known: &Known<'_>,
) -> Result<Vec<(u64, SchemeDetails)>, IngestError> {
    let text = std::str::from_utf8(bytes).map_err(|e| IngestError::Encoding {
        file: file.to_string(),
        row: 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64,
    })?;
    let (header, rows) = table::read_text(file, text, REQUIRED, OPTIONAL)?;
    let mut schemes = Vec::new();
    let mut errors = Vec::new();
    for row in rows.iter().filter(|r| !r.is_blank()) {
        match scheme_of_row(file, &header, row, known) {
            Ok(s) => schemes.push((row.number, s)),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(IngestError::rows(errors));
    }
    if schemes.is_empty() {
        return Err(IngestError::Empty {
            file: file.to_string(),
            expected: REQUIRED.join(","),
        });
    }
    Ok(schemes)
}

/// One row, or every problem in it.
fn scheme_of_row(
    file: &str,
    header: &table::Header,
    row: &table::Row,
    known: &Known<'_>,
) -> Result<SchemeDetails, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut error = |column: &str, message: String| {
        errors.push(RowError {
            file: file.to_string(),
            row: row.number,
            column: Some(column.to_string()),
            message,
        })
    };
    // An export wrote text through the formula rule: the quote it added comes off.
    let text =
        |c: &str| greenplan_core::csv_cell::restore(row.get(header, c).unwrap_or("")).to_string();
    for (column, kind) in [
        ("name", TextKind::Name),
        ("owner", TextKind::Name),
        ("actions", TextKind::Name),
        ("description", TextKind::Note),
    ] {
        if let Err(e) = greenplan_core::text::check(&text(column), kind) {
            error(column, e.to_string());
        }
    }
    let name = text("name");
    if name.is_empty() {
        error("name", "is empty: give the scheme's name".into());
    }
    let owner = text("owner");
    if owner.is_empty() {
        error(
            "owner",
            "is empty: give the person or role who owns the scheme".into(),
        );
    }
    let organisation = match OdsCode::parse(&text("organisation")) {
        Ok(code) if known.organisations.contains(&code) => Some(code),
        Ok(code) => {
            error(
                "organisation",
                format!(
                    "{code} is not an organisation of the plan: use one of {}",
                    list(known.organisations.iter().map(|o| o.as_str()))
                ),
            );
            None
        }
        Err(_) => {
            error(
                "organisation",
                format!(
                    "`{}` is not an ODS code: use one of {}",
                    text("organisation"),
                    list(known.organisations.iter().map(|o| o.as_str()))
                ),
            );
            None
        }
    };
    let stage = text("stage")
        .parse::<Stage>()
        .map_err(|e| error("stage", e.to_string()))
        .ok();
    let mut date = |c: &str| match text(c).as_str() {
        "" => None,
        t => {
            let d = parse_date(t);
            if d.is_none() {
                error(
                    c,
                    format!("`{t}` is not a date: write it as 2025-04-01 or 01/04/2025"),
                );
            }
            d
        }
    };
    let (start, end) = (date("start"), date("end"));
    let actions: Vec<String> = text("actions")
        .split([';', ','])
        .map(|a| a.trim().to_uppercase())
        .filter(|a| !a.is_empty())
        .collect();
    for a in actions.iter().filter(|a| !known.actions.contains(a)) {
        error(
            "actions",
            format!(
                "{a} is not a priority action of the plan: use action ids such as CT1, separated by ;"
            ),
        );
    }
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        error(
            "end",
            format!("{e} is before the start {s}: check the two dates"),
        );
    }
    match (organisation, stage) {
        (Some(organisation), Some(stage)) if errors.is_empty() => Ok(SchemeDetails {
            name,
            owner,
            organisation,
            stage,
            start,
            end,
            actions,
            description: text("description"),
        }),
        _ => Err(errors),
    }
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> (Vec<OdsCode>, Vec<String>) {
        (
            vec![
                OdsCode::parse("RTG").unwrap(),
                OdsCode::parse("RFS").unwrap(),
            ],
            vec!["CT1".into(), "CT2".into()],
        )
    }

    #[test]
    fn good_rows_are_read() {
        let (orgs, actions) = known();
        let k = Known {
            organisations: &orgs,
            actions: &actions,
        };
        let csv = "Name,Owner,Organisation,Stage,Start,End,Actions,Description\r\nVirtual wards,Jo Bloggs,RTG,Business case,01/04/2025,2026-03-31,ct1; CT2,Frailty\r\n\r\nTheatres,Ann,RFS,delivery,,,,\r\n";
        let schemes = read_schemes("s.csv", csv.as_bytes(), &k).unwrap();
        assert_eq!(schemes.len(), 2);
        assert_eq!(schemes[0].0, 2);
        assert_eq!(schemes[1].0, 4, "rows numbered as an editor shows them");
        let s = &schemes[0].1;
        assert_eq!(s.stage, Stage::BusinessCase);
        assert_eq!(s.start, Some("2025-04-01".parse().unwrap()));
        assert_eq!(s.actions, vec!["CT1", "CT2"]);
    }

    #[test]
    fn every_bad_row_is_named_with_its_column_and_fix() {
        let (orgs, actions) = known();
        let k = Known {
            organisations: &orgs,
            actions: &actions,
        };
        let csv = "name,owner,organisation,stage,start,end,actions\n\
                   Good,Jo,RTG,idea,,,\n\
                   ,Jo,XYZ,idea,,,\n\
                   Bad dates,Jo,RTG,someday,31/02/2025,2024-01-01,CT9\n";
        let e = read_schemes("schemes.csv", csv.as_bytes(), &k).unwrap_err();
        let text = e.to_string();
        for expected in [
            "schemes.csv: row 3, column `name`: is empty",
            "schemes.csv: row 3, column `organisation`: XYZ is not an organisation of the plan: use one of RTG, RFS",
            "schemes.csv: row 4, column `stage`: unknown stage `someday`",
            "schemes.csv: row 4, column `start`: `31/02/2025` is not a date",
            "schemes.csv: row 4, column `actions`: CT9 is not a priority action",
        ] {
            assert!(text.contains(expected), "{expected}\n{text}");
        }
        assert_eq!(e.row_errors().len(), 5);
        assert!(text.contains("nothing was stored"), "{text}");
        let missing = read_schemes("s.csv", b"name,owner\nx,y\n", &k).unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("missing `organisation`, `stage`"),
            "{missing}"
        );
        let latin1 = read_schemes(
            "s.csv",
            b"name,owner,organisation,stage\n\xe9,y,RTG,idea\n",
            &k,
        )
        .unwrap_err();
        assert!(latin1.to_string().contains("CSV UTF-8"), "{latin1}");
    }
}
