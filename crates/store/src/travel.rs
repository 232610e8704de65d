//! Travel surveys: the survey an organiser builds, the single-use tokens that let one person
//! answer once without signing in, the anonymous responses, and the activity rows the closed
//! surveys add to NHS Carbon Footprint Plus (staff commuting, patient and visitor travel).
//!
//! Only the SHA-256 of a token is stored, as for API tokens: the invitation CSV handed to the
//! organiser is the only copy. A response is stored in the same transaction that marks its
//! token used, by an `UPDATE … WHERE used_at IS NULL` that only one of two racing submissions
//! can win (and a UNIQUE token column behind it), so a token answers once, whatever the race.

use crate::people::{digest, new_token};
use crate::{Result, Store, StoreError, audit, corrupt, now};
use greenplan_core::Decimal;
use greenplan_core::activity::{Activity, RowRef};
use greenplan_core::ods::OdsCode;
use greenplan_core::period::FinancialYear;
use greenplan_core::travel::{Answers, Mode, Respondents, scaling};
use greenplan_core::unit::Unit;
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The most invitation tokens issued at once (a mail merge of a large trust's staff).
pub const MAX_TOKENS_PER_BATCH: u32 = 20_000;

/// Where a survey stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SurveyStatus {
    /// Being prepared: invitations may be issued, nobody can answer yet.
    Draft,
    Open,
    /// No more answers; the results feed the footprint.
    Closed,
}

impl SurveyStatus {
    pub fn slug(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::Open => "Open",
            Self::Closed => "Closed",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "draft" => Ok(Self::Draft),
            "open" => Ok(Self::Open),
            "closed" => Ok(Self::Closed),
            other => Err(corrupt("travel survey status", other)),
        }
    }
}

/// A survey as an organiser sets it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewTravelSurvey {
    pub organisation: OdsCode,
    pub title: String,
    pub respondents: Respondents,
    /// The sites respondents choose from (none: the question is not asked).
    pub sites: Vec<String>,
    /// The year the typical week stands for, and whose footprint it feeds.
    pub financial_year: FinancialYear,
    pub weeks_per_year: Decimal,
    /// Everyone the respondents stand for, to scale emissions up to (none: not scaled).
    pub headcount: Option<u32>,
}

/// A stored survey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TravelSurvey {
    pub id: i64,
    pub organisation: OdsCode,
    pub title: String,
    pub respondents: Respondents,
    pub sites: Vec<String>,
    pub financial_year: FinancialYear,
    pub weeks_per_year: Decimal,
    pub headcount: Option<u32>,
    pub status: SurveyStatus,
    /// The random part of the public link, once the survey has been opened.
    pub open_link: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    /// Responses stored, excluded ones included.
    pub responses: i64,
    /// Of those, the responses an exclusion leaves out of the figures.
    pub excluded: i64,
}

/// A stored response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TravelResponse {
    pub id: i64,
    pub survey_id: i64,
    /// `file.csv, row 7` for an imported response; none for one made on the form.
    pub imported_from: Option<String>,
    pub answers: Answers,
    pub received_at: i64,
}

/// Why a response was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseRefused {
    /// No such token (mistyped, or never issued).
    UnknownToken,
    /// The token has answered already: one response per token.
    AlreadyUsed,
    /// The survey is not open (not yet, or closed).
    NotOpen(SurveyStatus),
}

impl ResponseRefused {
    /// What the respondent is told.
    pub fn message(self) -> &'static str {
        match self {
            Self::UnknownToken => {
                "This survey link is not recognised. Check that you copied the whole link from your invitation."
            }
            Self::AlreadyUsed => {
                "A response has already been sent with this link, so this one has not been stored. Each link can be used once."
            }
            Self::NotOpen(SurveyStatus::Closed) => {
                "This survey is closed, so it no longer takes responses. Thank you for your interest."
            }
            Self::NotOpen(_) => {
                "This survey is not open yet. Try again when your organisation opens it."
            }
        }
    }
}

/// True of a response (`r`) that an exclusion of its survey leaves out of the figures: made
/// on the form (imports are the organiser's own) and received inside an excluded range.
macro_rules! excluded_sql {
    () => {
        "(r.imported_from IS NULL AND EXISTS (SELECT 1 FROM travel_response_exclusions e \
         WHERE e.survey_id = r.survey_id AND r.received_at >= e.from_at AND r.received_at < e.until_at))"
    };
}

/// A limit of a rate: at most `hits` in each window of `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub hits: u32,
    pub window_seconds: i64,
}

/// Refused by a limit: the window ends, and a try may pass, in `retry_after` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    pub retry_after: i64,
}

/// A range of a survey's answers left out of its figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponseExclusion {
    pub id: i64,
    pub survey_id: i64,
    /// Unix seconds, inclusive.
    pub from_at: i64,
    /// Unix seconds, exclusive.
    pub until_at: i64,
    pub reason: String,
    pub created_by: String,
    pub created_at: i64,
    /// Answers made on the form in the range.
    pub answers: i64,
}

/// A survey's answers received in one hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AnswersInHour {
    /// The hour's start, Unix seconds (a whole UTC hour).
    pub hour_start: i64,
    pub on_form: i64,
    pub imported: i64,
    /// Of those made on the form, the ones an exclusion leaves out.
    pub excluded: i64,
}

/// Anonymous answers are summarised in the audit trail, not written a row each (a stranger
/// sending thousands would push every real change off the trail): the first answer to a
/// survey in each hour writes one entry with the survey's stored total so far. The answers
/// themselves are their own record (stored with the time they arrived).
async fn summarise_responses(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    survey_id: i64,
    organisation: &str,
    at: i64,
) -> Result<()> {
    let hour = at - at.rem_euclid(3600);
    let (already,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM audit_log WHERE entity_kind = 'travel-survey' AND entity_id = $1 \
         AND action = 'respond to travel survey' AND at >= $2",
    )
    .bind(survey_id.to_string())
    .bind(hour)
    .fetch_one(&mut **tx)
    .await?;
    if already > 0 {
        return Ok(());
    }
    let (total,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM travel_responses WHERE survey_id = $1")
            .bind(survey_id)
            .fetch_one(&mut **tx)
            .await?;
    audit::record(
        tx,
        "anonymous respondents",
        "respond to travel survey",
        "travel-survey",
        &survey_id.to_string(),
        Some(organisation),
        None,
        Some(&serde_json::json!({
            "survey": survey_id,
            "hour_from": hour,
            "responses_stored": total,
            "note": "one entry per survey per hour: later answers this hour are not written to the trail",
        })),
    )
    .await
}

const SURVEY_COLUMNS: &str = concat!(
    "s.id, s.organisation, s.title, s.respondents, s.sites, s.financial_year, s.weeks_per_year, s.headcount, s.status, s.open_link, s.created_by, s.created_at, s.closed_at, ",
    "(SELECT COUNT(*) FROM travel_responses r WHERE r.survey_id = s.id) AS responses, ",
    "(SELECT COUNT(*) FROM travel_responses r WHERE r.survey_id = s.id AND ",
    excluded_sql!(),
    ") AS excluded"
);

fn survey_from_row(r: &sqlx::any::AnyRow) -> Result<TravelSurvey> {
    let sites: String = r.try_get("sites")?;
    let weeks: String = r.try_get("weeks_per_year")?;
    let headcount: Option<i64> = r.try_get("headcount")?;
    let respondents: String = r.try_get("respondents")?;
    Ok(TravelSurvey {
        id: r.try_get("id")?,
        organisation: OdsCode::parse(&r.try_get::<String, _>("organisation")?)
            .map_err(|e| corrupt("travel survey organisation", e))?,
        title: r.try_get("title")?,
        respondents: Respondents::parse(&respondents)
            .map_err(|e| corrupt("travel survey respondents", e))?,
        sites: serde_json::from_str(&sites).map_err(|e| corrupt("travel survey sites", e))?,
        financial_year: FinancialYear(r.try_get::<i64, _>("financial_year")? as i32),
        weeks_per_year: weeks
            .parse()
            .map_err(|e| corrupt("travel survey weeks", e))?,
        headcount: headcount.map(|h| h as u32),
        status: SurveyStatus::parse(&r.try_get::<String, _>("status")?)?,
        open_link: r.try_get("open_link")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        closed_at: r.try_get("closed_at")?,
        responses: r.try_get("responses")?,
        excluded: r.try_get("excluded")?,
    })
}

fn survey_json(s: &NewTravelSurvey) -> serde_json::Value {
    serde_json::to_value(s).unwrap_or_default()
}

impl Store {
    /// Creates a survey (as a draft), audited.
    pub async fn create_travel_survey(&self, actor: &str, new: &NewTravelSurvey) -> Result<i64> {
        if new.title.trim().is_empty() {
            return Err(StoreError::Rejected("Give the survey a title.".into()));
        }
        greenplan_core::travel::check_survey_sites(&new.sites)
            .map_err(|e| StoreError::Rejected(format!("Sites: {e}.")))?;
        let mut tx = self.begin_write().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO travel_surveys (organisation, title, respondents, sites, financial_year, weeks_per_year, headcount, status, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', $8, $9) RETURNING id",
        )
        .bind(new.organisation.as_str())
        .bind(new.title.trim())
        .bind(new.respondents.slug())
        .bind(serde_json::to_string(&new.sites).map_err(|e| corrupt("survey sites", e))?)
        .bind(i64::from(new.financial_year.0))
        .bind(new.weeks_per_year.normalize().to_string())
        .bind(new.headcount.map(i64::from))
        .bind(actor)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor,
            "create travel survey",
            "travel-survey",
            &id.to_string(),
            Some(new.organisation.as_str()),
            None,
            Some(&survey_json(new)),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// One survey, with its response count.
    pub async fn travel_survey(&self, id: i64) -> Result<Option<TravelSurvey>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SURVEY_COLUMNS} FROM travel_surveys s WHERE s.id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(survey_from_row).transpose()
    }

    /// Surveys, newest first: of one organisation, or of all.
    pub async fn travel_surveys(
        &self,
        organisation: Option<&OdsCode>,
    ) -> Result<Vec<TravelSurvey>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SURVEY_COLUMNS} FROM travel_surveys s WHERE ($1 = '' OR s.organisation = $1) ORDER BY s.id DESC"
        )))
        .bind(organisation.map_or("", OdsCode::as_str))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(survey_from_row).collect()
    }

    /// Opens (`open`) or closes a survey, audited. Opening the first time makes its public
    /// link; a closed survey may be opened again.
    pub async fn set_travel_survey_open(
        &self,
        actor: &str,
        id: i64,
        open: bool,
    ) -> Result<TravelSurvey> {
        let before = self
            .travel_survey(id)
            .await?
            .ok_or_else(|| StoreError::Rejected(format!("There is no travel survey {id}.")))?;
        let link = match (&before.open_link, open) {
            (None, true) => Some(new_token()?[..24].to_string()),
            (link, _) => link.clone(),
        };
        let (status, stamp) = if open {
            (SurveyStatus::Open, None)
        } else {
            (SurveyStatus::Closed, Some(now()))
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE travel_surveys SET status = $1, open_link = $2, opened_at = COALESCE(opened_at, $3), closed_at = $4 WHERE id = $5",
        )
        .bind(status.slug())
        .bind(link)
        .bind(now())
        .bind(stamp)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor,
            if open {
                "open travel survey"
            } else {
                "close travel survey"
            },
            "travel-survey",
            &id.to_string(),
            Some(before.organisation.as_str()),
            Some(&serde_json::json!({ "status": before.status.slug() })),
            Some(&serde_json::json!({ "status": status.slug() })),
        )
        .await?;
        tx.commit().await?;
        self.travel_survey(id)
            .await?
            .ok_or_else(|| StoreError::Rejected(format!("There is no travel survey {id}.")))
    }

    /// Issues `count` single-use invitation tokens for a survey that is not closed, audited
    /// (the count, never the tokens). Returns the tokens: this is their only copy.
    pub async fn issue_travel_survey_tokens(
        &self,
        actor: &str,
        survey_id: i64,
        count: u32,
    ) -> Result<Vec<String>> {
        if count == 0 || count > MAX_TOKENS_PER_BATCH {
            return Err(StoreError::Rejected(format!(
                "Issue between 1 and {MAX_TOKENS_PER_BATCH} invitations at a time."
            )));
        }
        let survey = self.travel_survey(survey_id).await?.ok_or_else(|| {
            StoreError::Rejected(format!("There is no travel survey {survey_id}."))
        })?;
        if survey.status == SurveyStatus::Closed {
            return Err(StoreError::Rejected(
                "This survey is closed: open it again before issuing invitations.".into(),
            ));
        }
        let tokens: Vec<String> = (0..count).map(|_| new_token()).collect::<Result<_>>()?;
        let mut tx = self.begin_write().await?;
        let at = now();
        for t in &tokens {
            sqlx::query(
                "INSERT INTO travel_survey_tokens (token_sha256, survey_id, kind, issued_at) VALUES ($1, $2, 'invitation', $3)",
            )
            .bind(digest(t))
            .bind(survey_id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        audit::record(
            &mut tx,
            actor,
            "issue travel survey invitations",
            "travel-survey",
            &survey_id.to_string(),
            Some(survey.organisation.as_str()),
            None,
            Some(&serde_json::json!({ "invitations": count })),
        )
        .await?;
        tx.commit().await?;
        Ok(tokens)
    }

    /// The survey behind a public open link, if any.
    pub async fn travel_survey_by_link(&self, link: &str) -> Result<Option<TravelSurvey>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SURVEY_COLUMNS} FROM travel_surveys s WHERE s.open_link = $1"
        )))
        .bind(link)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(survey_from_row).transpose()
    }

    /// Hands a visitor of an open link a fresh single-use token, if the survey is open.
    pub async fn start_travel_response(
        &self,
        link: &str,
    ) -> Result<std::result::Result<String, ResponseRefused>> {
        let Some(survey) = self.travel_survey_by_link(link).await? else {
            return Ok(Err(ResponseRefused::UnknownToken));
        };
        if survey.status != SurveyStatus::Open {
            return Ok(Err(ResponseRefused::NotOpen(survey.status)));
        }
        let token = new_token()?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO travel_survey_tokens (token_sha256, survey_id, kind, issued_at) VALUES ($1, $2, 'open-link', $3)",
        )
        .bind(digest(&token))
        .bind(survey.id)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        // Not audited: a start changes no figure and anyone may make one, so a row each
        // would let a stranger push real changes off the trail. The token row is its record.
        tx.commit().await?;
        Ok(Ok(token))
    }

    /// Whether `token` was handed out by a survey's open link (not an organiser's invitation).
    pub async fn is_open_link_token(&self, token: &str) -> Result<bool> {
        let kind: Option<(String,)> =
            sqlx::query_as("SELECT kind FROM travel_survey_tokens WHERE token_sha256 = $1")
                .bind(digest(token))
                .fetch_optional(self.pool())
                .await?;
        Ok(kind.is_some_and(|(k,)| k == "open-link"))
    }

    /// The survey a token belongs to, and whether the token can still answer it.
    pub async fn travel_survey_for_token(
        &self,
        token: &str,
    ) -> Result<std::result::Result<TravelSurvey, (Option<TravelSurvey>, ResponseRefused)>> {
        let row: Option<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT survey_id, used_at FROM travel_survey_tokens WHERE token_sha256 = $1",
        )
        .bind(digest(token))
        .fetch_optional(self.pool())
        .await?;
        let Some((survey_id, used_at)) = row else {
            return Ok(Err((None, ResponseRefused::UnknownToken)));
        };
        let survey = self
            .travel_survey(survey_id)
            .await?
            .ok_or_else(|| corrupt("travel survey token", "its survey is missing"))?;
        Ok(if used_at.is_some() {
            Err((Some(survey), ResponseRefused::AlreadyUsed))
        } else if survey.status != SurveyStatus::Open {
            let status = survey.status;
            Err((Some(survey), ResponseRefused::NotOpen(status)))
        } else {
            Ok(survey)
        })
    }

    /// Stores a response made with `token`, if the token has not answered yet and its survey
    /// is open; audited. Of two submissions racing with one token, exactly one is stored.
    pub async fn submit_travel_response(
        &self,
        token: &str,
        answers: &Answers,
    ) -> Result<std::result::Result<i64, ResponseRefused>> {
        let sha = digest(token);
        let json = serde_json::to_string(answers).map_err(|e| corrupt("travel answers", e))?;
        match self.try_submit(&sha, &json).await {
            Ok(Some((id, organisation))) => {
                tracing::info!(response = id, %organisation, "travel survey response stored");
                Ok(Ok(id))
            }
            Ok(None) => Ok(Err(self.why_refused(token).await?)),
            // A lost race can surface as a conflict or a busy database rather than as no row:
            // if the token has been used meanwhile, that is the answer.
            Err(e) => match self.why_refused(token).await? {
                ResponseRefused::AlreadyUsed => Ok(Err(ResponseRefused::AlreadyUsed)),
                _ => Err(e),
            },
        }
    }

    async fn try_submit(&self, sha: &str, answers: &str) -> Result<Option<(i64, String)>> {
        let mut tx = self.begin_write().await?;
        let at = now();
        let claimed = sqlx::query(
            "UPDATE travel_survey_tokens SET used_at = $1 WHERE token_sha256 = $2 AND used_at IS NULL \
             AND survey_id IN (SELECT id FROM travel_surveys WHERE status = 'open')",
        )
        .bind(at)
        .bind(sha)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let (id, survey_id): (i64, i64) = sqlx::query_as(
            "INSERT INTO travel_responses (survey_id, token_sha256, answers, received_at) \
             SELECT survey_id, token_sha256, $1, $2 FROM travel_survey_tokens WHERE token_sha256 = $3 \
             RETURNING id, survey_id",
        )
        .bind(answers)
        .bind(at)
        .bind(sha)
        .fetch_one(&mut *tx)
        .await?;
        let (organisation,): (String,) =
            sqlx::query_as("SELECT organisation FROM travel_surveys WHERE id = $1")
                .bind(survey_id)
                .fetch_one(&mut *tx)
                .await?;
        summarise_responses(&mut tx, survey_id, &organisation, at).await?;
        tx.commit().await?;
        Ok(Some((id, organisation)))
    }

    /// Counts one hit against each limit, in order, in one transaction shared by every
    /// server on the database; stops at the first limit already reached (so a client over its
    /// own limit spends nothing of a survey-wide one) and says when to try again.
    ///
    /// The windows are fixed (they start at multiples of their length), so at a window's
    /// edge up to twice a limit can pass in one window's time: the bound is what matters
    /// here, not its smoothness.
    pub async fn count_hits(
        &self,
        limits: &[(String, RateLimit)],
    ) -> Result<std::result::Result<(), RateLimited>> {
        let at = now();
        let mut tx = self.begin_write().await?;
        let longest = limits
            .iter()
            .map(|(_, l)| l.window_seconds)
            .max()
            .unwrap_or(0);
        // Past windows are of no more use; the index on window_start keeps this cheap.
        sqlx::query("DELETE FROM rate_windows WHERE window_start < $1")
            .bind(at - longest.max(3600) * 2)
            .execute(&mut *tx)
            .await?;
        let mut outcome = Ok(());
        for (key, limit) in limits {
            let window = limit.window_seconds.max(1);
            let start = at - at.rem_euclid(window);
            let (hits,): (i64,) = sqlx::query_as(
                "INSERT INTO rate_windows (key, window_start, hits) VALUES ($1, $2, 1) \
                 ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_windows.hits + 1 \
                 RETURNING hits",
            )
            // Keys name clients by address: only their digest is kept.
            .bind(digest(key))
            .bind(start)
            .fetch_one(&mut *tx)
            .await?;
            if hits > i64::from(limit.hits) {
                outcome = Err(RateLimited {
                    retry_after: (start + window - at).max(1),
                });
                break;
            }
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// Leaves a survey's answers made on the form between `from_at` (inclusive) and
    /// `until_at` (exclusive) out of its figures and the footprint, audited; the answers stay
    /// stored. Returns how many answers the range holds.
    pub async fn exclude_travel_responses(
        &self,
        actor: &str,
        survey_id: i64,
        from_at: i64,
        until_at: i64,
        reason: &str,
    ) -> Result<i64> {
        let survey = self.travel_survey(survey_id).await?.ok_or_else(|| {
            StoreError::Rejected(format!("There is no travel survey {survey_id}."))
        })?;
        if until_at <= from_at {
            return Err(StoreError::Rejected(
                "The end of the range to exclude must be after its start.".into(),
            ));
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::Rejected(
                "Say why these answers are left out (e.g. a burst from one source), so others can see.".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let (answers,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM travel_responses WHERE survey_id = $1 AND imported_from IS NULL \
             AND received_at >= $2 AND received_at < $3",
        )
        .bind(survey_id)
        .bind(from_at)
        .bind(until_at)
        .fetch_one(&mut *tx)
        .await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO travel_response_exclusions (survey_id, from_at, until_at, reason, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(survey_id)
        .bind(from_at)
        .bind(until_at)
        .bind(reason)
        .bind(actor)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor,
            "exclude travel survey answers",
            "travel-survey",
            &survey_id.to_string(),
            Some(survey.organisation.as_str()),
            None,
            Some(&serde_json::json!({
                "exclusion": id,
                "from": from_at,
                "until": until_at,
                "reason": reason,
                "answers": answers,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(answers)
    }

    /// A survey's exclusions, oldest first.
    pub async fn travel_response_exclusions(
        &self,
        survey_id: i64,
    ) -> Result<Vec<ResponseExclusion>> {
        let rows: Vec<(i64, i64, i64, String, String, i64, i64)> = sqlx::query_as(
            "SELECT e.id, e.from_at, e.until_at, e.reason, e.created_by, e.created_at, \
             (SELECT COUNT(*) FROM travel_responses r WHERE r.survey_id = e.survey_id AND r.imported_from IS NULL \
              AND r.received_at >= e.from_at AND r.received_at < e.until_at) \
             FROM travel_response_exclusions e WHERE e.survey_id = $1 ORDER BY e.id",
        )
        .bind(survey_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, from_at, until_at, reason, created_by, created_at, answers)| {
                    ResponseExclusion {
                        id,
                        survey_id,
                        from_at,
                        until_at,
                        reason,
                        created_by,
                        created_at,
                        answers,
                    }
                },
            )
            .collect())
    }

    /// A survey's answers by the hour they arrived (UTC hours), oldest first: made on the
    /// form, imported, and of those made on the form how many are excluded.
    pub async fn travel_answers_per_hour(&self, survey_id: i64) -> Result<Vec<AnswersInHour>> {
        let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(concat!(
            "SELECT (r.received_at / 3600) * 3600 AS hour, \
             COUNT(CASE WHEN r.imported_from IS NULL THEN 1 END), \
             COUNT(CASE WHEN r.imported_from IS NOT NULL THEN 1 END), \
             COUNT(CASE WHEN ",
            excluded_sql!(),
            " THEN 1 END) \
             FROM travel_responses r WHERE r.survey_id = $1 GROUP BY (r.received_at / 3600) * 3600 ORDER BY hour"
        )))
        .bind(survey_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(hour_start, on_form, imported, excluded)| AnswersInHour {
                hour_start,
                on_form,
                imported,
                excluded,
            })
            .collect())
    }

    async fn why_refused(&self, token: &str) -> Result<ResponseRefused> {
        Ok(match self.travel_survey_for_token(token).await? {
            Err((_, why)) => why,
            // Usable now, yet the claim failed: it was in use by a racing submission.
            Ok(_) => ResponseRefused::AlreadyUsed,
        })
    }

    /// Stores responses imported from another survey tool's export, all or nothing, audited.
    /// Each carries the file and row it came from. A closed survey takes no more.
    pub async fn import_travel_responses(
        &self,
        actor: &str,
        survey_id: i64,
        file_name: &str,
        rows: &[(u64, Answers)],
    ) -> Result<usize> {
        let survey = self.travel_survey(survey_id).await?.ok_or_else(|| {
            StoreError::Rejected(format!("There is no travel survey {survey_id}."))
        })?;
        if survey.status == SurveyStatus::Closed {
            return Err(StoreError::Rejected(
                "This survey is closed: open it again to import more responses.".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let at = now();
        for (row, answers) in rows {
            sqlx::query(
                "INSERT INTO travel_responses (survey_id, imported_from, answers, received_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(survey_id)
            .bind(format!("{file_name}, row {row}"))
            .bind(serde_json::to_string(answers).map_err(|e| corrupt("travel answers", e))?)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        audit::record(
            &mut tx,
            actor,
            "import travel survey responses",
            "travel-survey",
            &survey_id.to_string(),
            Some(survey.organisation.as_str()),
            None,
            Some(&serde_json::json!({ "file": file_name, "responses": rows.len() })),
        )
        .await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    /// A survey's responses that count, oldest first: every stored one but those an
    /// exclusion leaves out. Every figure (analysis, mode share, footprint) reads these.
    pub async fn travel_responses(&self, survey_id: i64) -> Result<Vec<TravelResponse>> {
        self.responses_where(survey_id, concat!("AND NOT ", excluded_sql!()))
            .await
    }

    /// Every stored response of a survey, excluded ones too, oldest first.
    pub async fn stored_travel_responses(&self, survey_id: i64) -> Result<Vec<TravelResponse>> {
        self.responses_where(survey_id, "").await
    }

    async fn responses_where(
        &self,
        survey_id: i64,
        condition: &'static str,
    ) -> Result<Vec<TravelResponse>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT r.id, r.survey_id, r.imported_from, r.answers, r.received_at FROM travel_responses r \
             WHERE r.survey_id = $1 {condition} ORDER BY r.id"
        )))
        .bind(survey_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let answers: String = r.try_get("answers")?;
                Ok(TravelResponse {
                    id: r.try_get("id")?,
                    survey_id: r.try_get("survey_id")?,
                    imported_from: r.try_get("imported_from")?,
                    answers: serde_json::from_str(&answers)
                        .map_err(|e| corrupt("travel answers", e))?,
                    received_at: r.try_get("received_at")?,
                })
            })
            .collect()
    }

    /// The surveys that count towards the footprint: closed ones, and of several closed
    /// surveys of one organisation, of the same respondents and year, the last closed (a
    /// repeated survey replaces the earlier one rather than adding to it).
    pub async fn counted_travel_surveys(
        &self,
        year: Option<FinancialYear>,
    ) -> Result<Vec<TravelSurvey>> {
        let mut latest: BTreeMap<(String, &'static str, i32), TravelSurvey> = BTreeMap::new();
        for s in self.travel_surveys(None).await? {
            if s.status != SurveyStatus::Closed || year.is_some_and(|y| y != s.financial_year) {
                continue;
            }
            let key = (
                s.organisation.to_string(),
                s.respondents.slug(),
                s.financial_year.0,
            );
            let later = latest
                .get(&key)
                .is_none_or(|k| (s.closed_at, s.id) > (k.closed_at, k.id));
            if later {
                latest.insert(key, s);
            }
        }
        Ok(latest.into_values().collect())
    }

    /// Activity rows derived from the counted travel surveys (see
    /// [`Store::counted_travel_surveys`]), for the footprint: one row per response and mode,
    /// the year's km (or passenger-km) scaled to the survey's headcount, in the staff
    /// commuting or patient and visitor travel category, traced to the survey and response.
    pub async fn travel_footprint_activities(
        &self,
        year: Option<FinancialYear>,
    ) -> Result<Vec<Activity>> {
        let mut out = Vec::new();
        for survey in self.counted_travel_surveys(year).await? {
            let responses = self.travel_responses(survey.id).await?;
            out.extend(
                survey_activities(&survey, &responses)
                    .into_iter()
                    .map(|(_, a)| a),
            );
        }
        Ok(out)
    }
}

/// A survey's responses as activity rows, each with its mode (see
/// [`Store::travel_footprint_activities`]).
pub fn survey_activities(
    survey: &TravelSurvey,
    responses: &[TravelResponse],
) -> Vec<(Mode, Activity)> {
    let with_distance = responses
        .iter()
        .filter(|r| r.answers.distance.is_some())
        .count() as u32;
    let scale = scaling(with_distance, survey.headcount);
    let source: Arc<str> = format!("travel survey {} ({})", survey.id, survey.title).into();
    let notes = survey.headcount.filter(|_| with_distance > 0).map(|h| {
        format!("scaled from {with_distance} respondents with a distance to a headcount of {h}")
    });
    let mut out = Vec::new();
    for r in responses {
        for (mode, distance) in r.answers.annual_distance(survey.weeks_per_year) {
            let Some(path) = mode.factor_path() else {
                continue;
            };
            out.push((
                mode,
                Activity {
                    origin: RowRef {
                        source: source.clone(),
                        row: r.id as u64,
                    },
                    organisation: survey.organisation.clone(),
                    site: r.answers.site.clone(),
                    period_start: survey.financial_year.start(),
                    period_end: survey.financial_year.end(),
                    activity: path.to_string(),
                    quantity: distance * scale.factor,
                    unit: Unit::new(mode.factor_unit()),
                    edition: None,
                    category: Some(survey.respondents.category()),
                    market_factor: None,
                    notes: notes.clone(),
                },
            ));
        }
    }
    out
}
