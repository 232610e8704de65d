//! Reads a plan file (TOML, format in `docs/plan-format.md`) into a validated
//! [`greenplan_core::plan::Plan`].
//!
//! Two passes. First TOML is deserialised into raw records that keep each record's position,
//! with unknown keys refused (a misspelt key must not be silently ignored). Then every field is
//! parsed into its domain type and every cross-reference (area, metric, organisation, shift,
//! guiding policy, SDG) is checked. The first problem is reported with file, line and field;
//! nothing is returned unless the whole plan is valid.

use crate::error::IngestError;
use greenplan_core::Decimal;
use greenplan_core::ods::OdsCode;
use greenplan_core::period::{DeliveryDate, FinancialYear, Period};
use greenplan_core::plan::*;
use greenplan_core::target::{Baseline, Direction, Target};
use serde::Deserialize;
use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// The built-in plan: Joined Up Care Derbyshire ICS Green Plan 2025-2028.
pub const BUILT_IN_PLAN: &str = include_str!("../../../data/plans/jucd-2025-28.toml");
/// The name the built-in plan is reported under in errors.
pub const BUILT_IN_PLAN_NAME: &str = "data/plans/jucd-2025-28.toml";

/// A number written as an integer, float or string, read as an exact decimal.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Num {
    Int(i64),
    Float(f64),
    Text(String),
}

impl Num {
    fn decimal(&self) -> Result<Decimal, String> {
        match self {
            Num::Int(i) => Ok(Decimal::from(*i)),
            Num::Float(f) => crate::table::float_text(*f)
                .parse::<Decimal>()
                .map_err(|e| format!("{f} is not a decimal: {e}")),
            Num::Text(t) => greenplan_core::quantity::parse_decimal(t)
                .ok_or_else(|| format!("`{t}` is not a number")),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    plan: Spanned<RawPlan>,
    #[serde(default)]
    organisation: Vec<Spanned<RawOrganisation>>,
    #[serde(default)]
    place: Vec<Spanned<RawPlace>>,
    #[serde(default)]
    shift: Vec<Spanned<RawFramework>>,
    #[serde(default)]
    guiding_policy: Vec<Spanned<RawPolicy>>,
    #[serde(default)]
    sdg: Vec<Spanned<RawSdg>>,
    #[serde(default)]
    area: Vec<Spanned<RawArea>>,
    #[serde(default)]
    action: Vec<Spanned<RawAction>>,
    #[serde(default)]
    metric: Vec<Spanned<RawMetric>>,
    #[serde(default)]
    data_point: Vec<Spanned<RawDataPoint>>,
    #[serde(default)]
    case_study: Vec<Spanned<RawCaseStudy>>,
    #[serde(default)]
    vision: Vec<Spanned<RawVision>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    id: String,
    title: String,
    system: String,
    icb: String,
    first_year: String,
    last_year: String,
    source: Option<String>,
    foreword: Option<String>,
    introduction: Option<String>,
    governance: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrganisation {
    code: String,
    name: String,
    short_name: Option<String>,
    kind: String,
    description: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlace {
    name: String,
    population: Num,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFramework {
    code: String,
    name: String,
    description: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    code: String,
    text: String,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSdg {
    number: u8,
    name: String,
    commitment: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArea {
    code: String,
    name: String,
    why: Option<String>,
    where_we_are: Option<String>,
    system_priorities: Option<String>,
    no_actions_reason: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMilestone {
    title: Option<String>,
    due: String,
    success_measure: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    id: String,
    area: String,
    title: String,
    leads: Vec<String>,
    #[serde(default)]
    lead_organisations: Vec<String>,
    delivery: String,
    due: Option<String>,
    success_measure: String,
    #[serde(default)]
    milestones: Vec<RawMilestone>,
    #[serde(default)]
    shifts: Vec<String>,
    #[serde(default)]
    guiding_policies: Vec<String>,
    #[serde(default)]
    sdgs: Vec<u8>,
    #[serde(default)]
    metrics: Vec<String>,
    status: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    period: String,
    value: Num,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    kind: String,
    period: Option<String>,
    value: Option<Num>,
    percent: Option<Num>,
    from: Option<String>,
    to: Option<String>,
    source: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    id: String,
    name: String,
    unit: String,
    direction: String,
    area: Option<String>,
    organisation: Option<String>,
    description: Option<String>,
    baseline: Option<RawBaseline>,
    #[serde(default)]
    targets: Vec<RawTarget>,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDataPoint {
    metric: String,
    organisation: Option<String>,
    period: String,
    value: Num,
    as_written: Option<String>,
    note: Option<String>,
    #[serde(rename = "ref")]
    reference: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCaseStudy {
    id: String,
    title: String,
    area: Option<String>,
    #[serde(default)]
    organisations: Vec<String>,
    text: String,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVision {
    id: String,
    vision: String,
    area: Option<String>,
    #[serde(default)]
    areas: Vec<String>,
    objective: String,
    progress: Vec<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

/// Reads and validates a plan file from disk.
pub fn read_plan_file(path: &Path) -> Result<Plan, IngestError> {
    let text = crate::source::read_to_string(path, crate::source::FileKind::Plan)?;
    parse_plan(&path.display().to_string(), &text)
}

/// The built-in Derbyshire plan.
pub fn built_in_plan() -> Result<Plan, IngestError> {
    parse_plan(BUILT_IN_PLAN_NAME, BUILT_IN_PLAN)
}

/// Parses and validates plan text; `file` names it in errors.
pub fn parse_plan(file: &str, text: &str) -> Result<Plan, IngestError> {
    refuse_control_characters(file, text)?;
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |s| line_of(text, s.start));
        IngestError::Plan {
            file: file.to_string(),
            line,
            field: e.span().map(|s| key_at(text, s.start)).unwrap_or_default(),
            message: e.message().to_string(),
        }
    })?;
    let cx = Cx { file, text };
    build(&cx, raw)
}

/// True for the C0 control characters (and DEL) no text of a plan may hold: TAB, LF and CR
/// are kept. One in a metric name made every PDF report fail (issue 21).
fn is_forbidden_control(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) && (c <= '\u{7f}')
}

/// Refuses control characters anywhere in a plan file, written literally or as a TOML escape
/// (`"\u0001"`), naming the field.
fn refuse_control_characters(file: &str, text: &str) -> Result<(), IngestError> {
    let refused = |line: usize, field: String, c: char| IngestError::Plan {
        file: file.to_string(),
        line,
        field,
        message: format!(
            "holds the control character U+{:04X}: delete it (text may hold tabs and line breaks, but no other control characters)",
            u32::from(c)
        ),
    };
    if let Some((at, c)) = text.char_indices().find(|&(_, c)| is_forbidden_control(c)) {
        return Err(refused(line_of(text, at), key_at(text, at), c));
    }
    // Escapes: walk the parsed values (a syntax error is reported by the real parse after).
    fn walk(path: &str, v: &toml::Value) -> Option<(String, char)> {
        match v {
            toml::Value::String(s) => s
                .chars()
                .find(|&c| is_forbidden_control(c))
                .map(|c| (path.to_string(), c)),
            toml::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(&format!("{path}[{i}]"), item)),
            toml::Value::Table(t) => t.iter().find_map(|(k, item)| {
                let path = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(&path, item)
            }),
            _ => None,
        }
    }
    if let Ok(table) = toml::from_str::<toml::Table>(text)
        && let Some((field, c)) = walk("", &toml::Value::Table(table))
    {
        return Err(refused(0, field, c));
    }
    Ok(())
}

/// Context for error messages.
struct Cx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Cx<'_> {
    fn err(&self, span: Range<usize>, field: &str, message: impl Into<String>) -> IngestError {
        IngestError::Plan {
            file: self.file.to_string(),
            line: line_of(self.text, span.start),
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// The key written on the line containing `offset` (`success_measure` in `success_measure = …`).
fn key_at(text: &str, offset: usize) -> String {
    let start = text
        .get(..offset)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let line = text
        .get(start..)
        .and_then(|t| t.lines().next())
        .unwrap_or("");
    line.split_once('=')
        .map_or("", |(k, _)| k)
        .trim()
        .trim_start_matches('{')
        .trim()
        .to_string()
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |t| t.bytes().filter(|&b| b == b'\n').count() + 1)
}

fn build(cx: &Cx<'_>, raw: RawFile) -> Result<Plan, IngestError> {
    let plan_span = raw.plan.span();
    let p = raw.plan.into_inner();
    let fy = |s: &str, field: &str| {
        FinancialYear::parse(s).map_err(|e| cx.err(plan_span.clone(), field, e.to_string()))
    };
    let info = PlanInfo {
        icb: OdsCode::parse(&p.icb)
            .map_err(|e| cx.err(plan_span.clone(), "plan.icb", e.to_string()))?,
        first_year: fy(&p.first_year, "plan.first_year")?,
        last_year: fy(&p.last_year, "plan.last_year")?,
        id: p.id,
        title: p.title,
        system: p.system,
        source: p.source,
        foreword: p.foreword,
        introduction: p.introduction,
        governance: p.governance,
    };

    let mut organisations = Vec::new();
    for o in raw.organisation {
        let span = o.span();
        let o = o.into_inner();
        organisations.push(Organisation {
            code: OdsCode::parse(&o.code)
                .map_err(|e| cx.err(span.clone(), "organisation.code", e.to_string()))?,
            kind: o
                .kind
                .parse()
                .map_err(|e: String| cx.err(span.clone(), "organisation.kind", e))?,
            name: o.name,
            short_name: o.short_name,
            description: o.description,
            reference: o.reference,
        });
    }
    unique(
        cx,
        organisations.iter().map(|o| o.code.to_string()),
        plan_span.clone(),
        "organisation.code",
    )?;
    let org_codes: HashSet<OdsCode> = organisations.iter().map(|o| o.code.clone()).collect();
    if !org_codes.contains(&info.icb) {
        return Err(cx.err(
            plan_span,
            "plan.icb",
            format!(
                "the ICB `{}` is not among the [[organisation]] records: add it",
                info.icb
            ),
        ));
    }
    let org = |code: &str, span: &Range<usize>, field: &str| -> Result<OdsCode, IngestError> {
        let c = OdsCode::parse(code).map_err(|e| cx.err(span.clone(), field, e.to_string()))?;
        if org_codes.contains(&c) {
            Ok(c)
        } else {
            Err(cx.err(span.clone(), field, format!("unknown organisation `{code}`: add an [[organisation]] with this code or correct it")))
        }
    };

    let mut places = Vec::new();
    for pl in raw.place {
        let span = pl.span();
        let pl = pl.into_inner();
        places.push(Place {
            population: pl
                .population
                .decimal()
                .map_err(|e| cx.err(span, "place.population", e))?,
            name: pl.name,
            reference: pl.reference,
        });
    }

    let shifts: Vec<Framework> = raw
        .shift
        .into_iter()
        .map(|s| {
            let s = s.into_inner();
            Framework {
                code: s.code,
                name: s.name,
                description: s.description,
                reference: s.reference,
            }
        })
        .collect();
    let guiding_policies: Vec<Framework> = raw
        .guiding_policy
        .into_iter()
        .map(|s| {
            let s = s.into_inner();
            Framework {
                code: s.code,
                name: s.text,
                description: None,
                reference: s.reference,
            }
        })
        .collect();
    let mut sdgs = Vec::new();
    for s in raw.sdg {
        let span = s.span();
        let s = s.into_inner();
        if !(1..=17).contains(&s.number) {
            return Err(cx.err(
                span,
                "sdg.number",
                format!("{} is not a UN SDG number (1 to 17)", s.number),
            ));
        }
        sdgs.push(Sdg {
            number: s.number,
            name: s.name,
            commitment: s.commitment,
            reference: s.reference,
        });
    }

    let areas: Vec<Area> = raw
        .area
        .into_iter()
        .map(|a| {
            let a = a.into_inner();
            Area {
                code: a.code,
                name: a.name,
                why: a.why,
                where_we_are: a.where_we_are,
                system_priorities: a.system_priorities,
                no_actions_reason: a.no_actions_reason,
                reference: a.reference,
            }
        })
        .collect();
    let area_codes: HashSet<&str> = areas.iter().map(|a| a.code.as_str()).collect();
    let check_area = |code: &str, span: &Range<usize>, field: &str| -> Result<(), IngestError> {
        if area_codes.contains(code) {
            Ok(())
        } else {
            Err(cx.err(
                span.clone(),
                field,
                format!(
                    "unknown area of focus `{code}`: use one of {}",
                    sorted(&area_codes)
                ),
            ))
        }
    };

    // Metrics before actions and data points, which refer to them.
    let mut metrics = Vec::new();
    for m in raw.metric {
        let span = m.span();
        metrics.push(build_metric(cx, &span, m.into_inner(), &check_area, &org)?);
    }
    unique(cx, metrics.iter().map(|m| m.id.clone()), 0..0, "metric.id")?;
    let metric_ids: HashSet<&str> = metrics.iter().map(|m| m.id.as_str()).collect();
    let check_metric = |id: &str, span: &Range<usize>, field: &str| -> Result<(), IngestError> {
        if metric_ids.contains(id) {
            Ok(())
        } else {
            Err(cx.err(
                span.clone(),
                field,
                format!("unknown metric `{id}`: define it with [[metric]] id = \"{id}\""),
            ))
        }
    };

    let shift_codes: HashSet<&str> = shifts.iter().map(|s| s.code.as_str()).collect();
    let policy_codes: HashSet<&str> = guiding_policies.iter().map(|s| s.code.as_str()).collect();
    let sdg_numbers: HashSet<u8> = sdgs.iter().map(|s| s.number).collect();
    let mut actions = Vec::new();
    for a in raw.action {
        let span = a.span();
        let a = a.into_inner();
        check_area(&a.area, &span, "action.area")?;
        for m in &a.metrics {
            check_metric(m, &span, "action.metrics")?;
        }
        for s in &a.shifts {
            if !shift_codes.contains(s.as_str()) {
                return Err(cx.err(
                    span,
                    "action.shifts",
                    format!("unknown shift `{s}`: use one of {}", sorted(&shift_codes)),
                ));
            }
        }
        for s in &a.guiding_policies {
            if !policy_codes.contains(s.as_str()) {
                return Err(cx.err(
                    span,
                    "action.guiding_policies",
                    format!(
                        "unknown guiding policy `{s}`: use one of {}",
                        sorted(&policy_codes)
                    ),
                ));
            }
        }
        for n in &a.sdgs {
            if !sdg_numbers.contains(n) {
                return Err(cx.err(
                    span,
                    "action.sdgs",
                    format!("SDG {n} is not among the plan's [[sdg]] records"),
                ));
            }
        }
        let delivery = delivery_date(&a.delivery, a.due.as_deref())
            .map_err(|e| cx.err(span.clone(), "action.delivery", e))?;
        let mut milestones = Vec::new();
        for ms in a.milestones {
            milestones.push(Milestone {
                delivery: delivery_date(&ms.due, None)
                    .map_err(|e| cx.err(span.clone(), "action.milestones.due", e))?,
                title: ms.title,
                success_measure: ms.success_measure,
            });
        }
        let lead_organisations = a
            .lead_organisations
            .iter()
            .map(|c| org(c, &span, "action.lead_organisations"))
            .collect::<Result<Vec<_>, _>>()?;
        let status = match a.status.as_deref() {
            Some(s) => s
                .parse()
                .map_err(|e: String| cx.err(span.clone(), "action.status", e))?,
            None => ActionStatus::NotStarted,
        };
        actions.push(Action {
            id: a.id,
            area: a.area,
            title: a.title,
            leads: a.leads,
            lead_organisations,
            delivery,
            success_measure: a.success_measure,
            milestones,
            shifts: a.shifts,
            guiding_policies: a.guiding_policies,
            sdgs: a.sdgs,
            metrics: a.metrics,
            status,
            reference: a.reference,
        });
    }
    unique(cx, actions.iter().map(|a| a.id.clone()), 0..0, "action.id")?;

    let mut data_points = Vec::new();
    for d in raw.data_point {
        let span = d.span();
        let d = d.into_inner();
        check_metric(&d.metric, &span, "data_point.metric")?;
        data_points.push(DataPoint {
            organisation: d
                .organisation
                .as_deref()
                .map(|c| org(c, &span, "data_point.organisation"))
                .transpose()?,
            period: Period::parse(&d.period)
                .map_err(|e| cx.err(span.clone(), "data_point.period", e.to_string()))?,
            value: d
                .value
                .decimal()
                .map_err(|e| cx.err(span.clone(), "data_point.value", e))?,
            metric: d.metric,
            as_written: d.as_written,
            note: d.note,
            reference: Some(d.reference),
        });
    }

    let mut case_studies = Vec::new();
    for c in raw.case_study {
        let span = c.span();
        let c = c.into_inner();
        if let Some(a) = &c.area {
            check_area(a, &span, "case_study.area")?;
        }
        case_studies.push(CaseStudy {
            organisations: c
                .organisations
                .iter()
                .map(|o| org(o, &span, "case_study.organisations"))
                .collect::<Result<_, _>>()?,
            id: c.id,
            title: c.title,
            area: c.area,
            text: c.text,
            reference: c.reference,
        });
    }

    let mut visions = Vec::new();
    for v in raw.vision {
        let span = v.span();
        let v = v.into_inner();
        for a in &v.areas {
            check_area(a, &span, "vision.areas")?;
        }
        visions.push(Vision {
            id: v.id,
            vision: v.vision,
            area_as_written: v.area,
            areas: v.areas,
            objective: v.objective,
            progress: v.progress,
            reference: v.reference,
        });
    }

    Ok(Plan {
        info,
        organisations,
        places,
        shifts,
        guiding_policies,
        sdgs,
        areas,
        actions,
        metrics,
        data_points,
        case_studies,
        visions,
    })
}

/// A cross-reference check: (value, record span, field) → the resolved value or an error.
type Check<'a, T> = dyn Fn(&str, &Range<usize>, &str) -> Result<T, IngestError> + 'a;

fn build_metric(
    cx: &Cx<'_>,
    span: &Range<usize>,
    m: RawMetric,
    check_area: &Check<'_, ()>,
    org: &Check<'_, OdsCode>,
) -> Result<Metric, IngestError> {
    if let Some(a) = &m.area {
        check_area(a, span, "metric.area")?;
    }
    let direction = match m.direction.as_str() {
        "lower-is-better" => Direction::LowerIsBetter,
        "higher-is-better" => Direction::HigherIsBetter,
        other => {
            return Err(cx.err(
                span.clone(),
                "metric.direction",
                format!("`{other}` is not a direction: use lower-is-better or higher-is-better"),
            ));
        }
    };
    let period = |s: &str, field: &str| {
        Period::parse(s).map_err(|e| cx.err(span.clone(), field, e.to_string()))
    };
    let baseline = match m.baseline {
        Some(b) => Some(Baseline {
            period: period(&b.period, "metric.baseline.period")?,
            value: b
                .value
                .decimal()
                .map_err(|e| cx.err(span.clone(), "metric.baseline.value", e))?,
        }),
        None => None,
    };
    let mut targets = Vec::new();
    for t in m.targets {
        let need = |v: Option<&str>, field: &str| {
            v.map(str::to_string).ok_or_else(|| {
                cx.err(
                    span.clone(),
                    field,
                    format!(
                        "a `{}` target needs `{}`",
                        t.kind,
                        field.rsplit('.').next().unwrap_or(field)
                    ),
                )
            })
        };
        let num = |v: Option<&Num>, field: &str| -> Result<Decimal, IngestError> {
            v.ok_or_else(|| {
                cx.err(
                    span.clone(),
                    field,
                    format!(
                        "a `{}` target needs `{}`",
                        t.kind,
                        field.rsplit('.').next().unwrap_or(field)
                    ),
                )
            })?
            .decimal()
            .map_err(|e| cx.err(span.clone(), field, e))
        };
        let target = match t.kind.as_str() {
            "absolute" => Target::Absolute { period: period(&need(t.period.as_deref(), "metric.targets.period")?, "metric.targets.period")?, value: num(t.value.as_ref(), "metric.targets.value")? },
            "percent-vs-baseline" => Target::PercentVsBaseline {
                period: period(&need(t.period.as_deref(), "metric.targets.period")?, "metric.targets.period")?,
                percent: num(t.percent.as_ref(), "metric.targets.percent")?,
            },
            "compound-percent-per-year" => {
                let fy = |s: String, field: &str| FinancialYear::parse(&s).map_err(|e| cx.err(span.clone(), field, e.to_string()));
                Target::CompoundPercentPerYear {
                    from: fy(need(t.from.as_deref(), "metric.targets.from")?, "metric.targets.from")?,
                    to: fy(need(t.to.as_deref(), "metric.targets.to")?, "metric.targets.to")?,
                    percent: num(t.percent.as_ref(), "metric.targets.percent")?,
                }
            }
            other => return Err(cx.err(span.clone(), "metric.targets.kind", format!("`{other}` is not a target kind: use absolute, percent-vs-baseline or compound-percent-per-year"))),
        };
        targets.push(MetricTarget {
            target,
            source: t.source,
            reference: t.reference,
        });
    }
    Ok(Metric {
        organisation: m
            .organisation
            .as_deref()
            .map(|c| org(c, span, "metric.organisation"))
            .transpose()?,
        id: m.id,
        name: m.name,
        unit: m.unit,
        direction,
        area: m.area,
        description: m.description,
        baseline,
        targets,
        reference: m.reference,
    })
}

fn delivery_date(written: &str, due: Option<&str>) -> Result<DeliveryDate, String> {
    match due {
        Some(d) => Period::parse(d).map(|p| DeliveryDate::with_period(written, p)).map_err(|e| format!("`due`: {e}")),
        None => DeliveryDate::parse(written)
            .map_err(|_| format!("cannot read a period from \"{written}\": add `due = \"2027/28\"` (or a quarter, month range or `ongoing`) beside it")),
    }
}

fn unique(
    cx: &Cx<'_>,
    ids: impl Iterator<Item = String>,
    span: Range<usize>,
    field: &str,
) -> Result<(), IngestError> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id.clone()) {
            let at = cx
                .text
                .find(&format!("\"{id}\""))
                .map_or(span.clone(), |i| i..i);
            return Err(cx.err(
                at,
                field,
                format!("`{id}` is used twice: identifiers must be unique"),
            ));
        }
    }
    Ok(())
}

fn sorted(set: &HashSet<&str>) -> String {
    let mut v: Vec<&str> = set.iter().copied().collect();
    v.sort();
    v.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_plan_loads_whole() {
        let plan = built_in_plan().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.info.icb.as_str(), "QJ2");
        assert_eq!(plan.areas.len(), 9);
        assert_eq!(plan.actions.len(), 24);
        assert_eq!(plan.visions.len(), 11);
        assert_eq!(plan.places.len(), 8);
        let total: Decimal = plan.places.iter().map(|p| p.population).sum();
        // The plan rounds the eight places (1,056,000) to "approximately 1.05 million".
        assert_eq!(total, Decimal::from(1_056_000));
        let food = plan
            .areas
            .iter()
            .find(|a| a.code == "food-and-nutrition")
            .unwrap();
        assert!(food.no_actions_reason.is_some());
        assert!(!plan.actions.iter().any(|a| a.area == "food-and-nutrition"));
        let wl1 = plan.actions.iter().find(|a| a.id == "WL1").unwrap();
        assert_eq!(wl1.delivery.period.code(), "Q3 2025/26");
        assert!(
            greenplan_core::quality::unit_flags(&plan).len() >= 2,
            "the inhaler unit flags are carried"
        );
    }

    const MINIMAL: &str = r#"
[plan]
id = "t"
title = "T"
system = "S"
icb = "QJ2"
first_year = "2025/26"
last_year = "2027/28"

[[organisation]]
code = "QJ2"
name = "ICB"
kind = "icb"

[[area]]
code = "medicines"
name = "Medicines"

[[action]]
id = "MED1"
area = "medicines"
title = "Do it"
leads = ["Someone"]
delivery = "Q4 2025/26"
success_measure = "Done"
"#;

    #[test]
    fn a_minimal_plan_loads() {
        let plan = parse_plan("t.toml", MINIMAL).unwrap();
        assert_eq!(plan.actions[0].delivery.period.code(), "Q4 2025/26");
    }

    fn error_of(text: &str) -> (usize, String, String) {
        match parse_plan("t.toml", text) {
            Err(IngestError::Plan {
                line,
                field,
                message,
                ..
            }) => (line, field, message),
            other => panic!("expected a plan error, got {other:?}"),
        }
    }

    #[test]
    fn unknown_area_names_line_and_field() {
        let bad = MINIMAL.replace("area = \"medicines\"", "area = \"medicine\"");
        let (line, field, message) = error_of(&bad);
        assert_eq!(field, "action.area");
        assert!(message.contains("medicine"), "{message}");
        assert_eq!(line, 19, "the [[action]] table starts on line 19");
    }

    #[test]
    fn misspelt_key_is_refused() {
        let bad = MINIMAL.replace("success_measure", "sucess_measure");
        let (line, _field, message) = error_of(&bad);
        assert!(message.contains("sucess_measure"), "{message}");
        assert_eq!(line, 25);
    }

    #[test]
    fn unreadable_delivery_asks_for_due() {
        let bad = MINIMAL.replace("delivery = \"Q4 2025/26\"", "delivery = \"when we can\"");
        let (_, field, message) = error_of(&bad);
        assert_eq!(field, "action.delivery");
        assert!(message.contains("due ="), "{message}");
    }

    /// Issue 21: a control character in any text, literal or escaped, is refused naming the
    /// field; so is a delivery date outside the years greenplan reads.
    #[test]
    fn control_characters_and_far_years_are_refused() {
        let literal = MINIMAL.replace("title = \"Do it\"", "title = \"Do\u{1}it\"");
        let (line, field, message) = error_of(&literal);
        assert_eq!((line, field.as_str()), (22, "title"), "{message}");
        assert!(message.contains("U+0001"), "{message}");
        let escaped = MINIMAL.replace("name = \"Medicines\"", "name = \"Medi\\u0007cines\"");
        let (_, field, message) = error_of(&escaped);
        assert_eq!(field, "area[0].name", "{message}");
        let far = MINIMAL.replace("delivery = \"Q4 2025/26\"", "delivery = \"Jan 2262\"");
        let (_, field, message) = error_of(&far);
        assert_eq!(field, "action.delivery");
        assert!(message.contains("2262"), "{message}");
        let tab = MINIMAL.replace("title = \"Do it\"", "title = \"Do\tit\"");
        assert!(parse_plan("t.toml", &tab).is_ok(), "tabs stay allowed");
    }
}
