//! Travel surveys of staff or of patients and visitors: the standard question set, the rules
//! an answer must meet (a postcode *district*, never a full postcode), and the analysis — mode
//! share, commuting emissions, barriers ranked — that feeds the staff commuting and patient
//! and visitor travel categories of NHS Carbon Footprint Plus.
//!
//! A response records the main mode of each day of a typical week (or no journey that day);
//! the days on site are the days with a journey. Commuting emissions are
//! `one-way distance × 2 (there and back) × days on site by mode × weeks a year × the mode's
//! conversion factor`, with the weeks a setting of the survey (46 for staff by default: 52
//! weeks less annual leave and bank holidays; 52 for patients and visitors). Walking and
//! cycling carry no factor. A car share counts half the car's distance per person (two
//! people to a car). The factors are the official passenger-km (bus, rail, tram, taxi) and
//! vehicle-km (car, motorbike: one person to a vehicle) rows of the UK Government conversion
//! factors, named here by path so that a footprint computed from survey rows can be traced to
//! the factor and its edition.

use crate::category::NhsCategory;
use crate::unit::UnitKind;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an answer or a survey setting cannot be accepted. Each message says what to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SurveyError {
    #[error(
        "`{0}` is not a UK postcode district: write the first part of the postcode only, e.g. DE22 or S41"
    )]
    Postcode(String),
    #[error(
        "`{0}` is not a distance: write the one-way distance as a number of miles or km greater than 0 and at most 500, e.g. 7.5"
    )]
    Distance(String),
    #[error("`{0}` is not a unit of distance: use miles or km")]
    DistanceUnit(String),
    #[error("`{value}` is not a way of travelling: use one of {choices}")]
    Mode { value: String, choices: String },
    #[error("`{value}` is not an answer to \"{question}\": use one of {choices}")]
    Choice {
        value: String,
        question: &'static str,
        choices: String,
    },
    #[error(
        "`{0}` is not a survey for staff or patients and visitors: use staff or patients-and-visitors"
    )]
    Respondents(String),
    #[error(
        "`{0}` is not a number of weeks a year: use a number greater than 0 and at most 52, e.g. 46"
    )]
    Weeks(String),
    #[error("`{site}` is not one of this survey's sites: use one of {sites}")]
    Site { site: String, sites: String },
    #[error(
        "The site name `{shown}` is {chars} characters long: write the site's name in at most {MAX_SITE_CHARS} characters"
    )]
    SiteTooLong { shown: String, chars: usize },
    #[error("The survey lists {0} sites: list at most {MAX_SURVEY_SITES}, one site to a line")]
    TooManySites(usize),
}

/// The longest site name a survey keeps (an answer, or a site the organiser lists): the
/// longest NHS site names are under 100 characters; anything longer is not a site's name.
pub const MAX_SITE_CHARS: usize = 200;

/// The most sites a survey lists for respondents to choose from.
pub const MAX_SURVEY_SITES: usize = 200;

/// The start of a value as an error message echoes it: a refused answer may be megabytes,
/// and the message need only show which one it was.
pub fn shown(raw: &str) -> String {
    const SHOWN: usize = 40;
    let raw = raw.trim();
    match raw.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &raw[..cut]),
        None => raw.to_string(),
    }
}

/// Checks the sites an organiser lists for a survey: at most [`MAX_SURVEY_SITES`], each
/// at most [`MAX_SITE_CHARS`] characters.
pub fn check_survey_sites(sites: &[String]) -> Result<(), SurveyError> {
    if sites.len() > MAX_SURVEY_SITES {
        return Err(SurveyError::TooManySites(sites.len()));
    }
    sites.iter().try_for_each(|s| check_site_length(s))
}

fn check_site_length(site: &str) -> Result<(), SurveyError> {
    let chars = site.chars().count();
    if chars > MAX_SITE_CHARS {
        return Err(SurveyError::SiteTooLong {
            shown: shown(site),
            chars,
        });
    }
    Ok(())
}

/// Who a survey asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Respondents {
    Staff,
    PatientsAndVisitors,
}

impl Respondents {
    pub const ALL: [Respondents; 2] = [Respondents::Staff, Respondents::PatientsAndVisitors];

    pub fn slug(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::PatientsAndVisitors => "patients-and-visitors",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Staff => "Staff",
            Self::PatientsAndVisitors => "Patients and visitors",
        }
    }

    /// The Carbon Footprint Plus category their journeys belong to.
    pub fn category(self) -> NhsCategory {
        match self {
            Self::Staff => NhsCategory::StaffCommuting,
            Self::PatientsAndVisitors => NhsCategory::PatientAndVisitorTravel,
        }
    }

    /// Weeks a year a typical week is multiplied by, unless the organiser sets another figure:
    /// staff work about 46 weeks (52 less annual leave and bank holidays); patients and
    /// visitors are taken to keep their pattern all year.
    pub fn default_weeks(self) -> Decimal {
        match self {
            Self::Staff => Decimal::from(46),
            Self::PatientsAndVisitors => Decimal::from(52),
        }
    }

    pub fn parse(raw: &str) -> Result<Self, SurveyError> {
        let t = raw.trim().to_lowercase().replace([' ', '_'], "-");
        Self::ALL
            .into_iter()
            .find(|r| r.slug() == t || r.label().to_lowercase().replace(' ', "-") == t)
            .ok_or_else(|| SurveyError::Respondents(shown(raw)))
    }
}

impl fmt::Display for Respondents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The weeks a year a survey's typical week stands for: more than 0, at most 52.
pub fn parse_weeks(raw: &str) -> Result<Decimal, SurveyError> {
    let w: Decimal =
        crate::quantity::parse_decimal(raw.trim()).ok_or_else(|| SurveyError::Weeks(shown(raw)))?;
    if w <= Decimal::ZERO || w > Decimal::from(52) {
        return Err(SurveyError::Weeks(shown(raw)));
    }
    Ok(w.normalize())
}

/// The main way a respondent travels on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Walk,
    Cycle,
    Bus,
    Train,
    Tram,
    Motorbike,
    Car,
    CarShare,
    ElectricCar,
    Taxi,
}

impl Mode {
    /// Every mode, in the order the survey lists them (active travel first).
    pub const ALL: [Mode; 10] = [
        Mode::Walk,
        Mode::Cycle,
        Mode::Bus,
        Mode::Train,
        Mode::Tram,
        Mode::Motorbike,
        Mode::Car,
        Mode::CarShare,
        Mode::ElectricCar,
        Mode::Taxi,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Self::Walk => "walk",
            Self::Cycle => "cycle",
            Self::Bus => "bus",
            Self::Train => "train",
            Self::Tram => "tram",
            Self::Motorbike => "motorbike",
            Self::Car => "car",
            Self::CarShare => "car-share",
            Self::ElectricCar => "electric-car",
            Self::Taxi => "taxi",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Walk => "Walk or wheel",
            Self::Cycle => "Cycle",
            Self::Bus => "Bus or coach",
            Self::Train => "Train",
            Self::Tram => "Tram",
            Self::Motorbike => "Motorbike or moped",
            Self::Car => "Car, on my own",
            Self::CarShare => "Car share",
            Self::ElectricCar => "Electric car",
            Self::Taxi => "Taxi",
        }
    }

    /// The conversion factor that applies (Level 1 to the column text of the official files),
    /// or `None` for walking and cycling, which emit nothing in the factors' terms. A car of
    /// unknown size and fuel is the average car of unknown fuel.
    pub fn factor_path(self) -> Option<&'static str> {
        match self {
            Self::Walk | Self::Cycle => None,
            Self::Bus => Some("Business travel- land > Bus > Average local bus"),
            Self::Train => Some("Business travel- land > Rail > National rail"),
            Self::Tram => Some("Business travel- land > Rail > Light rail and tram"),
            Self::Motorbike => Some("Business travel- land > Motorbike > Average"),
            Self::Car | Self::CarShare => {
                Some("Business travel- land > Cars (by size) > Average car > Unknown")
            }
            Self::ElectricCar => Some(
                "Business travel- land > Cars (by size) > Average car > Battery Electric Vehicle",
            ),
            Self::Taxi => Some("Business travel- land > Taxis > Regular taxi"),
        }
    }

    /// The unit of the factor: passenger-km for public transport and taxis, vehicle km for
    /// cars and motorbikes (one person to a vehicle, or the share's occupancy).
    pub fn factor_unit(self) -> UnitKind {
        match self {
            Self::Bus | Self::Train | Self::Tram | Self::Taxi => UnitKind::PassengerKilometre,
            _ => UnitKind::Kilometre,
        }
    }

    /// People to a vehicle: a car share's distance is split between two.
    pub fn occupancy(self) -> Decimal {
        match self {
            Self::CarShare => Decimal::TWO,
            _ => Decimal::ONE,
        }
    }

    /// Reads a mode from its slug, its label, or the words survey tools export
    /// ("Car (driver alone)", "Bicycle", "Rail").
    pub fn parse(raw: &str) -> Result<Self, SurveyError> {
        let t = raw.trim().to_lowercase();
        let found = Self::ALL
            .into_iter()
            .find(|m| m.slug() == t || m.label().to_lowercase() == t)
            .or(match t.as_str() {
                "walking" | "on foot" | "wheel" | "walk" => Some(Self::Walk),
                "bicycle" | "bike" | "cycling" | "e-bike" => Some(Self::Cycle),
                "coach" | "bus" => Some(Self::Bus),
                "rail" | "national rail" => Some(Self::Train),
                "light rail" | "tram or light rail" => Some(Self::Tram),
                "moped" | "motorcycle" => Some(Self::Motorbike),
                "car (driver alone)" | "drive alone" | "car driver" | "car alone" => {
                    Some(Self::Car)
                }
                "car share" | "car sharing" | "car passenger" | "lift share" => {
                    Some(Self::CarShare)
                }
                "ev" | "electric vehicle" => Some(Self::ElectricCar),
                _ => None,
            });
        found.ok_or_else(|| SurveyError::Mode {
            value: shown(raw),
            choices: Self::ALL.map(Mode::slug).join(", "),
        })
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One answer of a multiple-choice question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    pub slug: &'static str,
    pub label: &'static str,
}

const fn choice(slug: &'static str, label: &'static str) -> Choice {
    Choice { slug, label }
}

/// A multiple-choice question of the standard set.
#[derive(Debug, Clone, Copy)]
pub struct Question {
    pub name: &'static str,
    pub text: &'static str,
    pub choices: &'static [Choice],
}

/// What stops respondents walking or cycling.
pub const ACTIVE_TRAVEL_BARRIERS: Question = Question {
    name: "active_barriers",
    text: "What stops you walking or cycling to the site?",
    choices: &[
        choice("too-far", "It is too far"),
        choice("unsafe-routes", "There is no safe route"),
        choice("no-cycle-parking", "There is no secure cycle parking"),
        choice("no-showers", "There are no showers or changing rooms"),
        choice("weather", "The weather"),
        choice("need-car-for-work", "I need a car during the working day"),
        choice("caring", "Caring responsibilities (school run, relatives)"),
        choice("shift-times", "My shift times"),
        choice("health", "My health or mobility"),
    ],
};

/// What stops respondents using buses, trains and trams.
pub const PUBLIC_TRANSPORT_BARRIERS: Question = Question {
    name: "public_barriers",
    text: "What stops you using the bus, train or tram?",
    choices: &[
        choice("no-route", "There is no direct route"),
        choice("infrequent", "Services are not frequent enough"),
        choice("too-slow", "The journey takes too long"),
        choice("cost", "The cost"),
        choice("unreliable", "Services are unreliable"),
        choice("shift-times", "Services do not run at my shift times"),
        choice("feels-unsafe", "I do not feel safe"),
        choice("need-car-for-work", "I need a car during the working day"),
        choice("caring", "Caring responsibilities (school run, relatives)"),
    ],
};

/// Schemes respondents would consider.
pub const SCHEME_INTERESTS: Question = Question {
    name: "interests",
    text: "Which schemes would you be interested in?",
    choices: &[
        choice("cycle-to-work", "Cycle to work scheme"),
        choice("car-share", "Car share"),
        choice("ev-lease", "Electric car lease (salary sacrifice)"),
        choice("bus-discount", "Bus ticket discounts"),
        choice("rail-discount", "Rail ticket discounts"),
        choice("pool-bikes", "Pool bikes or e-bikes"),
        choice("shuttle-bus", "A shuttle bus between sites"),
    ],
};

impl Question {
    /// Checks a respondent's ticks against the question's choices (slugs or labels, as survey
    /// tools export either), without repeats, in the question's order.
    pub fn check(&self, answers: &[String]) -> Result<Vec<String>, SurveyError> {
        let mut picked = Vec::new();
        for a in answers.iter().map(|a| a.trim()).filter(|a| !a.is_empty()) {
            let found = self
                .choices
                .iter()
                .find(|c| c.slug == a || c.label.eq_ignore_ascii_case(a))
                .ok_or_else(|| SurveyError::Choice {
                    value: shown(a),
                    question: self.text,
                    choices: self
                        .choices
                        .iter()
                        .map(|c| c.slug)
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            picked.push(found.slug);
        }
        Ok(self
            .choices
            .iter()
            .filter(|c| picked.contains(&c.slug))
            .map(|c| c.slug.to_string())
            .collect())
    }

    /// The label of a stored answer.
    pub fn label_of(&self, slug: &str) -> &'static str {
        self.choices
            .iter()
            .find(|c| c.slug == slug)
            .map_or("(no longer asked)", |c| c.label)
    }
}

/// The days of the typical week the survey asks about, Monday first.
pub const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The first part of a UK postcode (the outward code, e.g. `DE22`): all a survey keeps of
/// where someone lives. A full postcode is cut to its district, and the caller told so.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PostcodeDistrict(String);

/// A district read from an answer, and whether the answer was a full postcode that was cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistrictAnswer {
    pub district: PostcodeDistrict,
    pub cut_from_full_postcode: bool,
}

impl PostcodeDistrict {
    /// Reads `DE22`, `de22`, `S41` or a full postcode (`DE22 3NE`, `DE223NE`), keeping only
    /// the district. Anything else is refused: the district must be an outward code (one or
    /// two letters, a digit, then an optional digit or letter).
    pub fn parse(raw: &str) -> Result<DistrictAnswer, SurveyError> {
        let compact: String = raw
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        let bad = || SurveyError::Postcode(shown(raw));
        if is_outward_code(&compact) {
            return Ok(DistrictAnswer {
                district: PostcodeDistrict(compact),
                cut_from_full_postcode: false,
            });
        }
        // A full postcode ends with the inward code: a digit and two letters.
        let split = compact.len().checked_sub(3).ok_or_else(bad)?;
        let (outward, inward) = compact.split_at(split);
        let b = inward.as_bytes();
        let inward_ok =
            b.len() == 3 && b[0].is_ascii_digit() && b[1..].iter().all(u8::is_ascii_alphabetic);
        if inward_ok && is_outward_code(outward) {
            return Ok(DistrictAnswer {
                district: PostcodeDistrict(outward.to_string()),
                cut_from_full_postcode: true,
            });
        }
        Err(bad())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_outward_code(s: &str) -> bool {
    let b = s.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    if !(1..=2).contains(&letters) || b.len() < letters + 1 || b.len() > letters + 2 {
        return false;
    }
    let rest = &b[letters..];
    rest[0].is_ascii_digit()
        && rest
            .get(1)
            .is_none_or(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
}

impl TryFrom<String> for PostcodeDistrict {
    type Error = SurveyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        match Self::parse(&s)? {
            DistrictAnswer {
                district,
                cut_from_full_postcode: false,
            } => Ok(district),
            _ => Err(SurveyError::Postcode(shown(&s))),
        }
    }
}

impl From<PostcodeDistrict> for String {
    fn from(d: PostcodeDistrict) -> Self {
        d.0
    }
}

impl fmt::Display for PostcodeDistrict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Miles or kilometres, as the respondent chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DistanceUnit {
    Miles,
    Km,
}

impl DistanceUnit {
    pub fn parse(raw: &str) -> Result<Self, SurveyError> {
        match raw.trim().to_lowercase().as_str() {
            "miles" | "mile" | "mi" => Ok(Self::Miles),
            "km" | "kilometres" | "kilometers" | "kilometre" => Ok(Self::Km),
            _ => Err(SurveyError::DistanceUnit(shown(raw))),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Miles => "miles",
            Self::Km => "km",
        }
    }
}

/// A one-way distance from home to the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distance {
    pub value: Decimal,
    pub unit: DistanceUnit,
}

impl Distance {
    /// Reads a one-way distance: more than 0 and at most 500 (miles or km), the longest
    /// commute a survey believes.
    pub fn parse(value: &str, unit: DistanceUnit) -> Result<Self, SurveyError> {
        let v = crate::quantity::parse_decimal(value.trim())
            .ok_or_else(|| SurveyError::Distance(shown(value)))?;
        if v <= Decimal::ZERO || v > Decimal::from(500) {
            return Err(SurveyError::Distance(shown(value)));
        }
        Ok(Self {
            value: v.normalize(),
            unit,
        })
    }

    /// In kilometres (a mile is exactly 1.609344 km).
    pub fn km(&self) -> Decimal {
        match self.unit {
            DistanceUnit::Km => self.value,
            DistanceUnit::Miles => self.value * Decimal::new(1_609_344, 6),
        }
    }
}

impl fmt::Display for Distance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value, self.unit.label())
    }
}

/// One response to a travel survey: no name, no e-mail address, no full postcode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answers {
    pub site: Option<String>,
    pub distance: Option<Distance>,
    pub postcode_district: Option<PostcodeDistrict>,
    /// The main mode of each day, Monday first; `None` where there is no journey to the site.
    pub week: [Option<Mode>; 7],
    pub active_barriers: Vec<String>,
    pub public_barriers: Vec<String>,
    pub interests: Vec<String>,
}

impl Answers {
    /// Days on site in the typical week: the days with a journey.
    pub fn days_on_site(&self) -> u32 {
        self.week.iter().filter(|d| d.is_some()).count() as u32
    }

    /// Days by mode, in the order of [`Mode::ALL`].
    pub fn days_by_mode(&self) -> Vec<(Mode, u32)> {
        Mode::ALL
            .into_iter()
            .map(|m| {
                (
                    m,
                    self.week.iter().filter(|d| **d == Some(m)).count() as u32,
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Distance a year by mode (in the order of [`Mode::ALL`]) in the unit of the mode's factor (km or passenger-km): one-way
    /// km × 2 × days × weeks ÷ people to a vehicle. Modes without a factor are left out, as
    /// is everything when the respondent gave no distance.
    pub fn annual_distance(&self, weeks: Decimal) -> Vec<(Mode, Decimal)> {
        let Some(distance) = self.distance else {
            return Vec::new();
        };
        self.days_by_mode()
            .into_iter()
            .filter(|(m, _)| m.factor_path().is_some())
            .map(|(m, days)| {
                let km = distance.km() * Decimal::TWO * Decimal::from(days) * weeks;
                (m, km / m.occupancy())
            })
            .collect()
    }

    /// Checks the site against the survey's list (when it has one), and its length (always:
    /// a survey without a list takes the site as typed, so the length is what bounds it).
    pub fn check_site(&self, sites: &[String]) -> Result<(), SurveyError> {
        match &self.site {
            Some(site) if !sites.is_empty() && !sites.iter().any(|s| s == site) => {
                Err(SurveyError::Site {
                    site: shown(site),
                    sites: sites.join(", "),
                })
            }
            Some(site) => check_site_length(site),
            None => Ok(()),
        }
    }
}

/// The share of days on site travelled by one mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModeShareLine {
    pub mode: Mode,
    pub days: u32,
    /// A fraction of all days on site (0.25 = 25%).
    pub share: Decimal,
}

/// Mode share: how the days on site of a group of respondents are travelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModeShare {
    pub respondents: u32,
    pub days: u32,
    /// Modes used at all, most days first (ties in the survey's order).
    pub lines: Vec<ModeShareLine>,
}

/// Mode share over `responses`, counted in days on site (a respondent who drives three days
/// and takes the bus two counts 3 car days and 2 bus days).
pub fn mode_share<'a>(responses: impl IntoIterator<Item = &'a Answers>) -> ModeShare {
    let mut respondents = 0;
    let mut counts = [0u32; Mode::ALL.len()];
    for a in responses {
        respondents += 1;
        for day in a.week.iter().flatten() {
            if let Some(i) = Mode::ALL.iter().position(|m| m == day) {
                counts[i] += 1;
            }
        }
    }
    let days: u32 = counts.iter().sum();
    let mut lines: Vec<ModeShareLine> = Mode::ALL
        .into_iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(mode, n)| ModeShareLine {
            mode,
            days: n,
            share: Decimal::from(n) / Decimal::from(days),
        })
        .collect();
    lines.sort_by_key(|l| std::cmp::Reverse(l.days));
    ModeShare {
        respondents,
        days,
        lines,
    }
}

/// How a group's emissions are scaled up from the respondents to everyone they stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Scaling {
    /// Respondents who gave a distance (only they carry emissions).
    pub with_distance: u32,
    pub headcount: Option<u32>,
    /// The multiplier: headcount ÷ respondents with a distance, or 1 without a headcount.
    pub factor: Decimal,
}

/// Scales respondents' figures to a headcount, if there is one and anyone gave a distance.
/// A headcount smaller than the respondents is taken as given (the organiser's figure).
pub fn scaling(with_distance: u32, headcount: Option<u32>) -> Scaling {
    let factor = match headcount {
        Some(h) if with_distance > 0 => Decimal::from(h) / Decimal::from(with_distance),
        _ => Decimal::ONE,
    };
    Scaling {
        with_distance,
        headcount,
        factor,
    }
}

/// kgCO2e a year of one response, given each mode's factor (kgCO2e per km or passenger-km);
/// modes whose factor is missing add nothing and are returned, so the page can say so.
pub fn commuting_kgco2e(
    answers: &Answers,
    weeks: Decimal,
    factor_of: impl Fn(Mode) -> Option<Decimal>,
) -> (Decimal, Vec<Mode>) {
    let mut total = Decimal::ZERO;
    let mut missing = Vec::new();
    for (mode, distance) in answers.annual_distance(weeks) {
        match factor_of(mode) {
            Some(f) => total += distance * f,
            None => missing.push(mode),
        }
    }
    (total, missing)
}

/// How often each answer of a multiple-choice question was ticked, most first (ties in the
/// question's order); answers nobody ticked are left out.
pub fn ranked<'a>(
    question: &Question,
    ticked: impl IntoIterator<Item = &'a [String]>,
) -> Vec<(Choice, u32)> {
    let mut counts = vec![0u32; question.choices.len()];
    for list in ticked {
        for slug in list {
            if let Some(i) = question.choices.iter().position(|c| c.slug == slug) {
                counts[i] += 1;
            }
        }
    }
    let mut out: Vec<(Choice, u32)> = question
        .choices
        .iter()
        .copied()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .collect();
    out.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn week(days: &[Option<Mode>]) -> [Option<Mode>; 7] {
        let mut w = [None; 7];
        w[..days.len()].copy_from_slice(days);
        w
    }

    fn answers(distance: Option<(&str, DistanceUnit)>, days: &[Option<Mode>]) -> Answers {
        Answers {
            site: None,
            distance: distance.map(|(v, u)| Distance::parse(v, u).unwrap()),
            postcode_district: None,
            week: week(days),
            active_barriers: vec![],
            public_barriers: vec![],
            interests: vec![],
        }
    }

    #[test]
    fn districts_are_kept_and_full_postcodes_cut() {
        for (raw, want) in [
            ("DE22", "DE22"),
            ("de22", "DE22"),
            (" S41 ", "S41"),
            ("W1A", "W1A"),
            ("EC1V", "EC1V"),
            ("B1", "B1"),
        ] {
            let d = PostcodeDistrict::parse(raw).unwrap();
            assert_eq!(d.district.as_str(), want, "{raw}");
            assert!(!d.cut_from_full_postcode, "{raw}");
        }
        for (raw, want) in [
            ("DE22 3NE", "DE22"),
            ("de223ne", "DE22"),
            ("S41 7SL", "S41"),
            ("W1A 1AA", "W1A"),
        ] {
            let d = PostcodeDistrict::parse(raw).unwrap();
            assert_eq!(d.district.as_str(), want, "{raw}");
            assert!(d.cut_from_full_postcode, "{raw}");
        }
        for raw in [
            "", "22", "DERBY", "DE", "D3E22", "DE2233", "ABC1", "DE22 3N",
        ] {
            assert!(PostcodeDistrict::parse(raw).is_err(), "{raw}");
        }
        // Stored values are districts only: a full postcode never deserialises.
        assert!(PostcodeDistrict::try_from("DE22 3NE".to_string()).is_err());
        assert!(PostcodeDistrict::try_from("DE22".to_string()).is_ok());
    }

    #[test]
    fn mode_share_counts_days_on_site() {
        use Mode::*;
        // Car 5 days; bus 3 and walk 2; cycle 4 (and one day off): 14 days.
        let rs = [
            answers(None, &[Some(Car); 5]),
            answers(
                None,
                &[Some(Bus), Some(Bus), Some(Bus), Some(Walk), Some(Walk)],
            ),
            answers(
                None,
                &[Some(Cycle), Some(Cycle), None, Some(Cycle), Some(Cycle)],
            ),
        ];
        assert_eq!(rs[2].days_on_site(), 4);
        let share = mode_share(&rs);
        assert_eq!(share.respondents, 3);
        assert_eq!(share.days, 14);
        let got: Vec<(Mode, u32)> = share.lines.iter().map(|l| (l.mode, l.days)).collect();
        assert_eq!(got, vec![(Car, 5), (Cycle, 4), (Bus, 3), (Walk, 2)]);
        // 5/14 = 0.357142…, 2/14 = 1/7.
        assert_eq!(share.lines[0].share.round_dp(4), dec("0.3571"));
        assert_eq!(share.lines[3].share.round_dp(4), dec("0.1429"));
        let sum: Decimal = share.lines.iter().map(|l| l.share).sum();
        assert_eq!(sum.round_dp(20), Decimal::ONE);
        assert_eq!(mode_share(&[]).days, 0);
    }

    #[test]
    fn commuting_emissions_are_distance_twice_days_weeks_factor() {
        use Mode::*;
        // 10 miles each way, car 3 days and train 2 days, 46 weeks.
        let a = answers(
            Some(("10", DistanceUnit::Miles)),
            &[Some(Car), Some(Car), Some(Car), Some(Train), Some(Train)],
        );
        let weeks = dec("46");
        // 10 miles = 16.09344 km; car 16.09344 × 2 × 3 × 46 = 4,441.78944 km;
        // train 16.09344 × 2 × 2 × 46 = 2,961.19296 passenger-km.
        assert_eq!(
            a.annual_distance(weeks),
            vec![(Train, dec("2961.19296")), (Car, dec("4441.78944"))]
        );
        let factor = |m: Mode| match m {
            Car => Some(dec("0.16664")),
            Train => Some(dec("0.03546")),
            _ => None,
        };
        // 4,441.78944 × 0.16664 = 740.1797922816; 2,961.19296 × 0.03546 = 105.0039023616.
        let (kg, missing) = commuting_kgco2e(&a, weeks, factor);
        assert_eq!(kg, dec("845.1836946432"));
        assert!(missing.is_empty());

        // A car share halves the car's distance; walking and cycling carry nothing.
        let b = answers(
            Some(("8", DistanceUnit::Km)),
            &[Some(CarShare), Some(CarShare), Some(Cycle), Some(Walk)],
        );
        // 8 × 2 × 2 × 46 ÷ 2 = 736 km.
        assert_eq!(b.annual_distance(weeks), vec![(CarShare, dec("736"))]);
        let (kg, _) = commuting_kgco2e(&b, weeks, |_| Some(dec("0.16664")));
        assert_eq!(kg, dec("122.64704"));

        // No distance, no emissions; a missing factor is reported.
        assert!(
            answers(None, &[Some(Car)])
                .annual_distance(weeks)
                .is_empty()
        );
        let (kg, missing) = commuting_kgco2e(&a, weeks, |m| factor(m).filter(|_| m == Car));
        assert_eq!(kg, dec("740.1797922816"));
        assert_eq!(missing, vec![Train]);
    }

    #[test]
    fn scaling_to_headcount() {
        let s = scaling(4, Some(1000));
        assert_eq!(s.factor, dec("250"));
        assert_eq!(scaling(4, None).factor, Decimal::ONE);
        assert_eq!(scaling(0, Some(1000)).factor, Decimal::ONE);
    }

    #[test]
    fn barriers_are_ranked_most_first() {
        let q = &ACTIVE_TRAVEL_BARRIERS;
        let a = q
            .check(&["weather".into(), "It is too far".into()])
            .unwrap();
        assert_eq!(a, vec!["too-far".to_string(), "weather".to_string()]);
        let b = q.check(&["weather".into()]).unwrap();
        let c = q.check(&["no-showers".into(), "weather".into()]).unwrap();
        let ranked = ranked(q, [a.as_slice(), b.as_slice(), c.as_slice()]);
        let got: Vec<(&str, u32)> = ranked.iter().map(|(c, n)| (c.slug, *n)).collect();
        assert_eq!(got, vec![("weather", 3), ("too-far", 1), ("no-showers", 1)]);
        let err = q.check(&["teleport".into()]).unwrap_err().to_string();
        assert!(err.contains("teleport") && err.contains("too-far"), "{err}");
    }

    #[test]
    fn site_names_are_bounded_and_errors_echo_only_their_start() {
        let mut a = answers(None, &[]);
        a.site = Some("x".repeat(MAX_SITE_CHARS));
        assert!(a.check_site(&[]).is_ok());
        a.site = Some("x".repeat(1_900_000));
        let e = a.check_site(&[]).unwrap_err().to_string();
        assert!(
            e.contains("1900000 characters") && e.contains("at most 200"),
            "{e}"
        );
        assert!(
            e.len() < 300,
            "the message echoes the whole answer: {} bytes",
            e.len()
        );
        // With a list, the answer must be on it, and the message is short too.
        let e = a.check_site(&["Royal Derby Hospital".into()]).unwrap_err();
        assert!(e.to_string().len() < 300);
        assert!(check_survey_sites(&["y".repeat(MAX_SITE_CHARS + 1)]).is_err());
        assert!(check_survey_sites(&vec!["A".into(); MAX_SURVEY_SITES + 1]).is_err());
        assert!(check_survey_sites(&["Royal Derby Hospital".into()]).is_ok());
        let long = "9".repeat(100_000);
        let e = Distance::parse(&long, DistanceUnit::Miles)
            .unwrap_err()
            .to_string();
        assert!(e.len() < 300, "{} bytes", e.len());
        // A 10,000-mile commute is refused with the bound in the message.
        let e = Distance::parse("10000", DistanceUnit::Miles)
            .unwrap_err()
            .to_string();
        assert!(e.contains("at most 500"), "{e}");
        assert_eq!(shown("Ä".repeat(50).as_str()).chars().count(), 41);
    }

    #[test]
    fn answers_parse_in_survey_tools_words() {
        assert_eq!(Mode::parse("Car (driver alone)").unwrap(), Mode::Car);
        assert_eq!(Mode::parse("Bicycle").unwrap(), Mode::Cycle);
        assert_eq!(Mode::parse("car-share").unwrap(), Mode::CarShare);
        assert!(Mode::parse("hovercraft").is_err());
        assert_eq!(
            Respondents::parse("Patients and visitors").unwrap(),
            Respondents::PatientsAndVisitors
        );
        assert_eq!(parse_weeks("46").unwrap(), dec("46"));
        assert!(parse_weeks("53").is_err() && parse_weeks("0").is_err());
        assert!(Distance::parse("0", DistanceUnit::Km).is_err());
        assert!(Distance::parse("501", DistanceUnit::Miles).is_err());
        assert_eq!(
            Distance::parse("2.5", DistanceUnit::Miles).unwrap().km(),
            dec("4.02336")
        );
    }
}
