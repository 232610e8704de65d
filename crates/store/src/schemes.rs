//! The scheme register and Sustainability Impact Assessments. Every change is one
//! transaction with its audit entry (before and after). The "Greener NHS" tag is set only
//! through `greenplan_core::scheme`'s rule: by a recorded reason, or, inside the transaction
//! that reviews it, by a reviewed assessment of the scheme; the schema's checks refuse a tag
//! without one or the other. Workflow steps are checked here with `greenplan_core::sia`
//! whatever the caller checked, so no page or script can skip a step or review its own form.

use crate::revisions::{self, Revised};
use crate::{Result, Store, StoreError, audit, corrupt, now};
use chrono::NaiveDate;
use greenplan_core::access::Access;
use greenplan_core::ods::OdsCode;
use greenplan_core::scheme::{
    Consideration, Scheme, SchemeDetails, consider_by_assessment, consider_by_reason,
};
use greenplan_core::sia::{Assessment, SiaStatus, Step, check_step};
use sqlx::{Any, Row, Transaction};

const SCHEME_COLUMNS: &str = "id, organisation, name, owner, stage, start_on, end_on, actions, description, considered_by_sia, reason_by, reason_at, reason_why, archived_at";
const SIA_COLUMNS: &str = "id, organisation, scheme_id, title, description, facets, status, created_by, created_at, submitted_by, submitted_at, reviewed_by, reviewed_at, review_comment";

fn rejected(e: impl std::fmt::Display) -> StoreError {
    StoreError::Rejected(e.to_string())
}

fn date(what: &str, text: Option<String>) -> Result<Option<NaiveDate>> {
    text.map(|t| t.parse().map_err(|e| corrupt(what, e)))
        .transpose()
}

fn scheme_of_row(r: &sqlx::any::AnyRow) -> Result<Scheme> {
    let bad = |e: &dyn std::fmt::Display| corrupt("scheme", e);
    let org: String = r.try_get("organisation")?;
    let stage: String = r.try_get("stage")?;
    let actions: String = r.try_get("actions")?;
    let sia: Option<i64> = r.try_get("considered_by_sia")?;
    let why: Option<String> = r.try_get("reason_why")?;
    let consideration = match (sia, why) {
        (Some(sia), _) => Some(Consideration::Assessed { sia }),
        (None, Some(why)) => Some(Consideration::Reason {
            by: r
                .try_get::<Option<String>, _>("reason_by")?
                .unwrap_or_default(),
            at: r
                .try_get::<Option<i64>, _>("reason_at")?
                .unwrap_or_default(),
            why,
        }),
        (None, None) => None,
    };
    Ok(Scheme {
        id: r.try_get("id")?,
        details: SchemeDetails {
            name: r.try_get("name")?,
            owner: r.try_get("owner")?,
            organisation: OdsCode::parse(&org).map_err(|e| bad(&e))?,
            stage: stage.parse().map_err(|e| bad(&e))?,
            start: date("scheme", r.try_get("start_on")?)?,
            end: date("scheme", r.try_get("end_on")?)?,
            actions: serde_json::from_str(&actions).map_err(|e| bad(&e))?,
            description: r.try_get("description")?,
        },
        consideration,
        archived: r.try_get::<Option<i64>, _>("archived_at")?.is_some(),
    })
}

fn sia_of_row(r: &sqlx::any::AnyRow) -> Result<Assessment> {
    let bad = |e: &dyn std::fmt::Display| corrupt("sustainability impact assessment", e);
    let org: String = r.try_get("organisation")?;
    let facets: String = r.try_get("facets")?;
    let status: String = r.try_get("status")?;
    Ok(Assessment {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        organisation: OdsCode::parse(&org).map_err(|e| bad(&e))?,
        scheme: r.try_get("scheme_id")?,
        description: r.try_get("description")?,
        facets: serde_json::from_str(&facets).map_err(|e| bad(&e))?,
        status: status.parse().map_err(|e: String| bad(&e))?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        submitted_by: r.try_get("submitted_by")?,
        submitted_at: r.try_get("submitted_at")?,
        reviewed_by: r.try_get("reviewed_by")?,
        reviewed_at: r.try_get("reviewed_at")?,
        review_comment: r.try_get("review_comment")?,
    })
}

fn json<T: serde::Serialize>(what: &str, v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| corrupt(what, e))
}

async fn scheme_in(tx: &mut Transaction<'_, Any>, id: i64) -> Result<Scheme> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SCHEME_COLUMNS} FROM schemes WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::Rejected(format!("there is no scheme {id}")))?;
    scheme_of_row(&row)
}

async fn sia_in(tx: &mut Transaction<'_, Any>, id: i64) -> Result<Assessment> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {SIA_COLUMNS} FROM sias WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| {
        StoreError::Rejected(format!("there is no sustainability impact assessment {id}"))
    })?;
    sia_of_row(&row)
}

/// Refuses a link to a scheme that is missing, archived or another organisation's.
pub(crate) async fn check_scheme_of(
    tx: &mut Transaction<'_, Any>,
    scheme: i64,
    organisation: &OdsCode,
) -> Result<()> {
    let s = scheme_in(tx, scheme).await?;
    if s.archived {
        return Err(rejected(format!(
            "scheme {scheme} is archived: link to a scheme on the register"
        )));
    }
    if &s.details.organisation != organisation {
        return Err(rejected(format!(
            "scheme {scheme} belongs to {}, not {organisation}: link to one of {organisation}'s schemes",
            s.details.organisation
        )));
    }
    Ok(())
}

async fn check_organisation(tx: &mut Transaction<'_, Any>, code: &OdsCode) -> Result<()> {
    let found: Option<(String,)> =
        sqlx::query_as("SELECT code FROM organisations WHERE code = $1 AND archived_at IS NULL")
            .bind(code.as_str())
            .fetch_optional(&mut **tx)
            .await?;
    found
        .map(|_| ())
        .ok_or_else(|| rejected(format!("{code} is not an organisation of the plan")))
}

/// Inserts one scheme (checked), audited; returns its id.
async fn insert_scheme(
    tx: &mut Transaction<'_, Any>,
    actor: &str,
    details: &SchemeDetails,
) -> Result<i64> {
    let details = details.clone().checked().map_err(rejected)?;
    check_organisation(tx, &details.organisation).await?;
    crate::pathways::check_actions(tx, &details.actions).await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO schemes (organisation, name, owner, stage, start_on, end_on, actions, description, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(details.organisation.as_str())
    .bind(&details.name)
    .bind(&details.owner)
    .bind(details.stage.slug())
    .bind(details.start.map(|d| d.to_string()))
    .bind(details.end.map(|d| d.to_string()))
    .bind(json("scheme", &details.actions)?.to_string())
    .bind(&details.description)
    .bind(actor)
    .bind(now())
    .fetch_one(&mut **tx)
    .await?;
    let revision = audit::record_returning_id(
        tx,
        actor,
        "create",
        "scheme",
        &id.to_string(),
        Some(details.organisation.as_str()),
        None,
        Some(&json("scheme", &details)?),
    )
    .await?;
    revisions::set(tx, Revised::Scheme, &id.to_string(), revision).await?;
    Ok(id)
}

impl Store {
    /// The register, oldest first; archived schemes only when asked for.
    pub async fn schemes(&self, with_archived: bool) -> Result<Vec<Scheme>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SCHEME_COLUMNS} FROM schemes {} ORDER BY id",
            if with_archived {
                ""
            } else {
                "WHERE archived_at IS NULL"
            }
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(scheme_of_row).collect()
    }

    /// One scheme (archived or not).
    pub async fn scheme(&self, id: i64) -> Result<Option<Scheme>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SCHEME_COLUMNS} FROM schemes WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(scheme_of_row).transpose()
    }

    /// Adds schemes in one transaction (an import: all or none). Returns their ids.
    pub async fn add_schemes(&self, actor: &str, schemes: &[SchemeDetails]) -> Result<Vec<i64>> {
        let mut tx = self.begin_write().await?;
        let mut ids = Vec::new();
        for s in schemes {
            ids.push(insert_scheme(&mut tx, actor, s).await?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Changes a scheme's details; its organisation stays (move a scheme by archiving it and
    /// adding it to the other organisation). `revision` is the one the edit was drawn from
    /// ([`Store::revision`]): when the scheme has changed since, nothing is written
    /// ([`StoreError::Stale`]).
    pub async fn update_scheme(
        &self,
        actor: &str,
        id: i64,
        revision: i64,
        details: &SchemeDetails,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let before = scheme_in(&mut tx, id).await?;
        revisions::check(&mut tx, Revised::Scheme, &id.to_string(), revision).await?;
        if before.archived {
            return Err(rejected(format!("scheme {id} is archived")));
        }
        let mut details = details.clone().checked().map_err(rejected)?;
        details.organisation = before.details.organisation.clone();
        crate::pathways::check_actions(&mut tx, &details.actions).await?;
        sqlx::query("UPDATE schemes SET name = $1, owner = $2, stage = $3, start_on = $4, end_on = $5, actions = $6, description = $7 WHERE id = $8")
            .bind(&details.name)
            .bind(&details.owner)
            .bind(details.stage.slug())
            .bind(details.start.map(|d| d.to_string()))
            .bind(details.end.map(|d| d.to_string()))
            .bind(json("scheme", &details.actions)?.to_string())
            .bind(&details.description)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        revisions::audited_change(
            &mut tx,
            Revised::Scheme,
            &id.to_string(),
            revision,
            actor,
            "edit",
            Some(details.organisation.as_str()),
            Some(&json("scheme", &before.details)?),
            Some(&json("scheme", &details)?),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Archives a scheme (withdrawn, or added by mistake): it leaves the register and its
    /// figures, keeping its history.
    /// `revision` as for [`Store::update_scheme`].
    pub async fn archive_scheme(
        &self,
        actor: &str,
        id: i64,
        revision: i64,
        reason: &str,
    ) -> Result<()> {
        if reason.trim().is_empty() {
            return Err(rejected("say why the scheme is being archived"));
        }
        let mut tx = self.begin_write().await?;
        let before = scheme_in(&mut tx, id).await?;
        revisions::check(&mut tx, Revised::Scheme, &id.to_string(), revision).await?;
        if before.archived {
            return Err(rejected(format!("scheme {id} is already archived")));
        }
        sqlx::query("UPDATE schemes SET archived_at = $1 WHERE id = $2")
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        revisions::audited_change(
            &mut tx,
            Revised::Scheme,
            &id.to_string(),
            revision,
            actor,
            "archive",
            Some(before.details.organisation.as_str()),
            Some(&json("scheme", &before.details)?),
            Some(&serde_json::json!({"archived": true, "reason": reason.trim()})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Tags a scheme "Greener NHS" on a recorded reason (by `actor`, now, `why`). `revision`
    /// as for [`Store::update_scheme`].
    pub async fn record_scheme_reason(
        &self,
        actor: &str,
        id: i64,
        revision: i64,
        why: &str,
    ) -> Result<()> {
        let consideration = consider_by_reason(actor, now(), why).map_err(rejected)?;
        let Consideration::Reason { by, at, why } = &consideration else {
            return Err(rejected("a reason was expected"));
        };
        let mut tx = self.begin_write().await?;
        let before = scheme_in(&mut tx, id).await?;
        revisions::check(&mut tx, Revised::Scheme, &id.to_string(), revision).await?;
        if before.archived {
            return Err(rejected(format!("scheme {id} is archived")));
        }
        if let Some(Consideration::Assessed { sia }) = before.consideration {
            return Err(rejected(format!(
                "scheme {id} is already tagged by its reviewed assessment (SIA {sia})"
            )));
        }
        sqlx::query("UPDATE schemes SET considered_by_sia = NULL, reason_by = $1, reason_at = $2, reason_why = $3 WHERE id = $4")
            .bind(by)
            .bind(*at)
            .bind(why)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        revisions::audited_change(
            &mut tx,
            Revised::Scheme,
            &id.to_string(),
            revision,
            actor,
            "tag",
            Some(before.details.organisation.as_str()),
            Some(&json("scheme", &before.consideration)?),
            Some(&json("scheme", &consideration)?),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every assessment, oldest first.
    pub async fn sias(&self) -> Result<Vec<Assessment>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SIA_COLUMNS} FROM sias ORDER BY id"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(sia_of_row).collect()
    }

    /// One assessment.
    pub async fn sia(&self, id: i64) -> Result<Option<Assessment>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SIA_COLUMNS} FROM sias WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(sia_of_row).transpose()
    }

    /// Saves a form's answers: a new draft when `assessment.id` is 0, else changes a draft or
    /// returned form (its organisation, status and workflow fields stay). Permission is
    /// checked by the caller; the status is checked here. A change carries the `revision` it
    /// was drawn from ([`Store::revision`]; ignored for a new draft): when the assessment has
    /// changed since, nothing is written ([`StoreError::Stale`]). Returns the id and the
    /// assessment's new revision (to submit what was just saved, and nothing since).
    pub async fn save_sia(
        &self,
        actor: &str,
        assessment: &Assessment,
        revision: i64,
    ) -> Result<(i64, i64)> {
        if assessment.title.trim().is_empty() {
            return Err(rejected(
                "say what policy, project or service change is being assessed",
            ));
        }
        let mut tx = self.begin_write().await?;
        let before = match assessment.id {
            0 => None,
            id => {
                let before = sia_in(&mut tx, id).await?;
                revisions::check(&mut tx, Revised::Sia, &id.to_string(), revision).await?;
                Some(before)
            }
        };
        let organisation = before
            .as_ref()
            .map_or(&assessment.organisation, |b| &b.organisation)
            .clone();
        check_organisation(&mut tx, &organisation).await?;
        if let Some(s) = assessment.scheme {
            check_scheme_of(&mut tx, s, &organisation).await?;
        }
        let facets = json("sia", &assessment.facets)?.to_string();
        let id = match &before {
            Some(b) => {
                if !b.status.is_editable() {
                    return Err(rejected(format!(
                        "the assessment is {}: it can no longer be changed",
                        b.status.label().to_lowercase()
                    )));
                }
                sqlx::query("UPDATE sias SET scheme_id = $1, title = $2, description = $3, facets = $4 WHERE id = $5")
                    .bind(assessment.scheme)
                    .bind(assessment.title.trim())
                    .bind(assessment.description.trim())
                    .bind(&facets)
                    .bind(b.id)
                    .execute(&mut *tx)
                    .await?;
                b.id
            }
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO sias (organisation, scheme_id, title, description, facets, status, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(organisation.as_str())
                .bind(assessment.scheme)
                .bind(assessment.title.trim())
                .bind(assessment.description.trim())
                .bind(&facets)
                .bind(SiaStatus::Draft.slug())
                .bind(actor)
                .bind(now())
                .fetch_one(&mut *tx)
                .await?;
                id
            }
        };
        let after = sia_in(&mut tx, id).await?;
        let edited = before.is_some();
        let entry = audit::record_returning_id(
            &mut tx,
            actor,
            if edited { "edit" } else { "create" },
            "sia",
            &id.to_string(),
            Some(organisation.as_str()),
            before.map(|b| json("sia", &b)).transpose()?.as_ref(),
            Some(&json("sia", &after)?),
        )
        .await?;
        if edited {
            revisions::claim(&mut tx, Revised::Sia, &id.to_string(), revision, entry).await?;
        } else {
            revisions::set(&mut tx, Revised::Sia, &id.to_string(), entry).await?;
        }
        tx.commit().await?;
        Ok((id, entry))
    }

    /// Moves an assessment on in its workflow (submit, review, return), checked with
    /// `greenplan_core::sia::check_step` for `actor` holding `access`. Reviewing an
    /// assessment of a scheme that is not yet tagged tags it "Greener NHS" in the same
    /// transaction. `revision` is the one the page was drawn from: a step taken on a stale
    /// copy (the answers changed since the reviewer read them) is refused
    /// ([`StoreError::Stale`]). Returns the new status.
    pub async fn sia_step(
        &self,
        actor: &str,
        access: &Access,
        id: i64,
        revision: i64,
        step: &Step,
    ) -> Result<SiaStatus> {
        let mut tx = self.begin_write().await?;
        let before = sia_in(&mut tx, id).await?;
        revisions::check(&mut tx, Revised::Sia, &id.to_string(), revision).await?;
        let status = check_step(&before, step, actor, access).map_err(rejected)?;
        let at = now();
        match step {
            Step::Submit => {
                sqlx::query("UPDATE sias SET status = $1, submitted_by = $2, submitted_at = $3 WHERE id = $4")
                    .bind(status.slug())
                    .bind(actor)
                    .bind(at)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            Step::Review { comment } | Step::Return { comment } => {
                let comment = Some(comment.trim()).filter(|c| !c.is_empty());
                sqlx::query("UPDATE sias SET status = $1, reviewed_by = $2, reviewed_at = $3, review_comment = $4 WHERE id = $5")
                    .bind(status.slug())
                    .bind(actor)
                    .bind(at)
                    .bind(comment)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let after = sia_in(&mut tx, id).await?;
        revisions::audited_change(
            &mut tx,
            Revised::Sia,
            &id.to_string(),
            revision,
            actor,
            step.name(),
            Some(before.organisation.as_str()),
            Some(&serde_json::json!({"status": before.status})),
            Some(&serde_json::json!({"status": after.status, "comment": after.review_comment})),
        )
        .await?;
        if let Some(scheme) = after.scheme.filter(|_| status == SiaStatus::Reviewed) {
            tag_by_assessment(&mut tx, actor, scheme, &after).await?;
        }
        tx.commit().await?;
        Ok(status)
    }
}

/// Tags `scheme` by a reviewed assessment, unless it is already tagged.
async fn tag_by_assessment(
    tx: &mut Transaction<'_, Any>,
    actor: &str,
    scheme: i64,
    assessment: &Assessment,
) -> Result<()> {
    let before = scheme_in(tx, scheme).await?;
    if before.consideration.is_some() {
        return Ok(());
    }
    let consideration = consider_by_assessment(scheme, assessment).map_err(rejected)?;
    sqlx::query("UPDATE schemes SET considered_by_sia = $1 WHERE id = $2")
        .bind(assessment.id)
        .bind(scheme)
        .execute(&mut **tx)
        .await?;
    audit::record(
        tx,
        actor,
        "tag",
        "scheme",
        &scheme.to_string(),
        Some(before.details.organisation.as_str()),
        None,
        Some(&json("scheme", &consideration)?),
    )
    .await
}
