//! Travel survey responses exported from another survey tool (Microsoft Forms, SmartSurvey,
//! …) as CSV, turned into `greenplan_core::travel::Answers` or into a list of every bad row
//! with its column and the fix. The file is taken whole or not at all.
//!
//! Columns are found by name (case, spaces and punctuation ignored), so an export only needs
//! its headers renamed to these (README, "Importing travel survey responses"):
//!
//! | column | answer |
//! |---|---|
//! | `site` | one of the survey's sites |
//! | `distance_miles` or `distance_km` (or `distance` with `distance_unit`) | one-way distance |
//! | `postcode_district` (or `postcode`) | a district (`DE22`); a full postcode is cut to its district |
//! | `monday` … `sunday` | the main mode that day, or empty / `not on site` |
//! | `active_travel_barriers`, `public_transport_barriers`, `interests` | choices separated by `;` |
//!
//! Other columns (an export's ID, times, and any name or e-mail column) are ignored: they are
//! never read into greenplan, so they cannot be stored.

use crate::error::{IngestError, RowError};
use greenplan_core::travel::{
    ACTIVE_TRAVEL_BARRIERS, Answers, Distance, DistanceUnit, Mode, PUBLIC_TRANSPORT_BARRIERS,
    PostcodeDistrict, Question, SCHEME_INTERESTS, WEEKDAYS,
};

/// The responses of a clean file, with the row each came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyImport {
    pub rows: Vec<(u64, Answers)>,
    /// Rows whose full postcode was cut to its district.
    pub postcodes_cut: usize,
}

/// Answers that mean "no journey to the site that day".
const NO_JOURNEY: &[&str] = &[
    "",
    "not on site",
    "none",
    "did not travel",
    "day off",
    "not working",
    "working from home",
    "work from home",
    "home",
    "n/a",
];

fn key(header: &str) -> String {
    header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .flat_map(|c| c.to_lowercase())
        .collect()
}

/// Where each known column is in the file.
struct Columns {
    site: Option<usize>,
    distance: Option<(usize, Option<DistanceUnit>)>,
    distance_unit: Option<usize>,
    postcode: Option<usize>,
    days: [Option<usize>; 7],
    active: Option<usize>,
    public: Option<usize>,
    interests: Option<usize>,
}

impl Columns {
    fn find(headers: &csv::StringRecord) -> Self {
        let at = |names: &[&str]| {
            headers
                .iter()
                .position(|h| names.contains(&key(h).as_str()))
        };
        let distance = at(&["distancemiles"])
            .map(|i| (i, Some(DistanceUnit::Miles)))
            .or_else(|| at(&["distancekm"]).map(|i| (i, Some(DistanceUnit::Km))))
            .or_else(|| at(&["distance"]).map(|i| (i, None)));
        Self {
            site: at(&["site"]),
            distance,
            distance_unit: at(&["distanceunit"]),
            postcode: at(&["postcodedistrict", "postcode"]),
            days: WEEKDAYS.map(|d| at(&[key(d).as_str()])),
            active: at(&["activetravelbarriers", "activebarriers"]),
            public: at(&["publictransportbarriers", "publicbarriers"]),
            interests: at(&["interests", "schemeinterests"]),
        }
    }
}

/// Reads an export. `sites` are the survey's sites (a `site` answer must be one of them).
pub fn read_survey_csv(
    file: &str,
    bytes: &[u8],
    sites: &[String],
) -> Result<SurveyImport, IngestError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader.headers().map_err(|e| csv_error(file, &e))?.clone();
    let columns = Columns::find(&headers);
    if columns.days.iter().all(Option::is_none) {
        return Err(IngestError::Header {
            file: file.to_string(),
            message: "no day columns: name the columns of the main mode each day `monday` … `sunday` (see the README's header mapping)".into(),
        });
    }
    if matches!(columns.distance, Some((_, None))) && columns.distance_unit.is_none() {
        return Err(IngestError::Header {
            file: file.to_string(),
            message: "a `distance` column needs a `distance_unit` column (miles or km), or rename it `distance_miles` or `distance_km`".into(),
        });
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut postcodes_cut = 0;
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(file, &e))?;
        let row = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").trim();
        match read_row(&columns, &cell, &headers, sites) {
            Ok((answers, cut)) => {
                postcodes_cut += usize::from(cut);
                rows.push((row, answers));
            }
            Err(problems) => {
                errors.extend(problems.into_iter().map(|(column, message)| RowError {
                    file: file.to_string(),
                    row,
                    column: Some(column),
                    message,
                }))
            }
        }
    }
    if !errors.is_empty() {
        return Err(IngestError::rows(errors));
    }
    if rows.is_empty() {
        return Err(IngestError::Empty {
            file: file.to_string(),
            expected: "site, distance_miles, postcode_district, monday … sunday".into(),
        });
    }
    Ok(SurveyImport {
        rows,
        postcodes_cut,
    })
}

/// One row's answers, or every problem in it as (column, message).
fn read_row<'r>(
    c: &Columns,
    cell: &impl Fn(Option<usize>) -> &'r str,
    headers: &csv::StringRecord,
    sites: &[String],
) -> Result<(Answers, bool), Vec<(String, String)>> {
    let name = |i: Option<usize>| {
        i.and_then(|i| headers.get(i))
            .unwrap_or_default()
            .to_string()
    };
    let mut problems = Vec::new();
    let mut week = [None; 7];
    for (d, i) in c.days.iter().enumerate() {
        let text = cell(*i);
        if NO_JOURNEY.contains(&text.to_lowercase().as_str()) {
            continue;
        }
        match Mode::parse(text) {
            Ok(m) => week[d] = Some(m),
            Err(e) => problems.push((
                name(*i),
                format!("{e}; leave it empty (or write `not on site`) for a day without a journey"),
            )),
        }
    }
    let distance = match c.distance {
        Some((i, unit)) if !cell(Some(i)).is_empty() => {
            let unit = match unit {
                Some(u) => Ok(u),
                None => DistanceUnit::parse(cell(c.distance_unit)),
            };
            match unit.and_then(|u| Distance::parse(cell(Some(i)), u)) {
                Ok(d) => Some(d),
                Err(e) => {
                    problems.push((name(Some(i)), e.to_string()));
                    None
                }
            }
        }
        _ => None,
    };
    let mut cut = false;
    let postcode_district = match cell(c.postcode) {
        "" => None,
        text => match PostcodeDistrict::parse(text) {
            Ok(d) => {
                cut = d.cut_from_full_postcode;
                Some(d.district)
            }
            Err(e) => {
                problems.push((name(c.postcode), e.to_string()));
                None
            }
        },
    };
    let mut choices = |q: &Question, i: Option<usize>| -> Vec<String> {
        let ticked: Vec<String> = cell(i).split(';').map(str::to_string).collect();
        q.check(&ticked).unwrap_or_else(|e| {
            problems.push((name(i), format!("{e}; separate several with `;`")));
            Vec::new()
        })
    };
    let active_barriers = choices(&ACTIVE_TRAVEL_BARRIERS, c.active);
    let public_barriers = choices(&PUBLIC_TRANSPORT_BARRIERS, c.public);
    let interests = choices(&SCHEME_INTERESTS, c.interests);
    let site = Some(cell(c.site).to_string()).filter(|s| !s.is_empty());
    let answers = Answers {
        site,
        distance,
        postcode_district,
        week,
        active_barriers,
        public_barriers,
        interests,
    };
    if let Err(e) = answers.check_site(sites) {
        problems.push((name(c.site), e.to_string()));
    }
    if problems.is_empty() {
        Ok((answers, cut))
    } else {
        Err(problems)
    }
}

fn csv_error(file: &str, e: &csv::Error) -> IngestError {
    match e.kind() {
        csv::ErrorKind::Utf8 { pos, .. } => IngestError::Encoding {
            file: file.to_string(),
            row: pos.as_ref().map_or(0, |p| p.line()),
        },
        _ => IngestError::Invalid {
            file: file.to_string(),
            message: format!("the file cannot be read as CSV: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "ID,Name,Email,Site,Distance (miles),Postcode district,Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday,Active travel barriers,Public transport barriers,Interests\n";

    fn sites() -> Vec<String> {
        vec!["Royal Derby Hospital".into(), "London Road".into()]
    }

    #[test]
    fn an_ms_forms_export_is_read_and_names_are_never_kept() {
        let csv = format!(
            "\u{feff}{HEADER}1,anonymous,,Royal Derby Hospital,10,DE22 3NE,Car (driver alone),car,Bus,,Working from home,,,It is too far;weather;,cost,cycle-to-work;\n\
             2,Jo Bloggs,jo@nhs.net,London Road,2.5,DE1,walk,walk,walk,walk,,,,,,\n"
        );
        let got = read_survey_csv("forms.csv", csv.as_bytes(), &sites()).unwrap();
        assert_eq!(got.rows.len(), 2);
        assert_eq!(got.postcodes_cut, 1);
        let (row, a) = &got.rows[0];
        assert_eq!(*row, 2);
        assert_eq!(a.site.as_deref(), Some("Royal Derby Hospital"));
        assert_eq!(a.postcode_district.as_ref().unwrap().as_str(), "DE22");
        assert_eq!(a.days_on_site(), 3);
        assert_eq!(a.week[2], Some(Mode::Bus));
        assert_eq!(a.active_barriers, vec!["too-far", "weather"]);
        assert_eq!(a.interests, vec!["cycle-to-work"]);
        assert_eq!(a.distance.unwrap().km().normalize().to_string(), "16.09344");
        // Nothing of the name and e-mail columns is in the answers.
        let text = format!("{:?}", got.rows);
        assert!(!text.contains("Jo Bloggs") && !text.contains("jo@nhs.net"));
    }

    #[test]
    fn every_bad_row_is_named_with_its_column_and_nothing_is_taken() {
        let csv = format!(
            "{HEADER}1,,,Royal Derby Hospital,10,DE22,car,car,,,,,,,,\n\
             2,,,Chesterfield,ten,DERBY,hovercraft,,,,,,,teleport,,\n\
             \n\
             3,,,London Road,3,DE1,bus,,,,,,,,,\n"
        );
        let e = read_survey_csv("bad.csv", csv.as_bytes(), &sites()).unwrap_err();
        let rows: Vec<(u64, String)> = e
            .row_errors()
            .iter()
            .map(|r| (r.row, r.column.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            rows,
            vec![
                (3, "Monday".to_string()),
                (3, "Distance (miles)".to_string()),
                (3, "Postcode district".to_string()),
                (3, "Active travel barriers".to_string()),
                (3, "Site".to_string()),
            ]
        );
        let text = e.to_string();
        assert!(text.contains("bad.csv: row 3, column `Site`"), "{text}");
        assert!(text.contains("DE22 or S41"), "{text}");
        assert!(text.contains("nothing was stored"), "{text}");
    }

    #[test]
    fn headers_are_checked() {
        let e = read_survey_csv("x.csv", b"site,distance\nA,3\n", &[]).unwrap_err();
        assert!(e.to_string().contains("monday"), "{e}");
        let e = read_survey_csv("x.csv", b"monday,distance\ncar,3\n", &[]).unwrap_err();
        assert!(e.to_string().contains("distance_unit"), "{e}");
        let ok =
            read_survey_csv("x.csv", b"monday,distance,distance_unit\ncar,3,km\n", &[]).unwrap();
        assert_eq!(ok.rows[0].1.distance.unwrap().km().to_string(), "3");
        assert!(matches!(
            read_survey_csv("x.csv", b"monday\n", &[]),
            Err(IngestError::Empty { .. })
        ));
    }
}
