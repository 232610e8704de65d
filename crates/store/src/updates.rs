//! Progress updates on priority actions: a dated note with a status (RAG), an evidence link
//! and, where the date has moved, a revised delivery period. The latest update sets the
//! action's status; earlier ones stay as its history.

use crate::{Result, Store, StoreError, audit, corrupt, now};
use greenplan_core::period::Period;
use greenplan_core::plan::{Action, ActionStatus};
use serde::Serialize;
use sqlx::Row;

/// An update as posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionUpdate {
    pub action_id: String,
    pub posted_by: String,
    /// Unix seconds.
    pub posted_at: i64,
    pub status: ActionStatus,
    pub note: String,
    pub evidence_url: Option<String>,
    /// A file attached as evidence: its number and name.
    pub evidence_file: Option<(i64, String)>,
    pub revised_due: Option<Period>,
}

/// A file attached to an update as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceFile {
    pub file_name: String,
    pub content_type: String,
    pub contents: Vec<u8>,
}

/// Largest evidence file accepted.
pub const MAX_EVIDENCE_BYTES: usize = 10 * 1024 * 1024;

/// Kinds of evidence file accepted: (extension, content type, how the file must start).
/// Checking the first bytes as well as the name stops, say, an HTML page named `.pdf` being
/// served back to other people's browsers.
const EVIDENCE_KINDS: &[(&str, &str, &[u8])] = &[
    ("pdf", "application/pdf", b"%PDF-"),
    ("png", "image/png", b"\x89PNG\r\n\x1a\n"),
    ("jpg", "image/jpeg", b"\xff\xd8\xff"),
    ("jpeg", "image/jpeg", b"\xff\xd8\xff"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        b"PK\x03\x04",
    ),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        b"PK\x03\x04",
    ),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        b"PK\x03\x04",
    ),
    ("csv", "text/csv; charset=utf-8", b""),
    ("txt", "text/plain; charset=utf-8", b""),
];

impl EvidenceFile {
    /// Checks an uploaded file and gives it its content type, or says what is wrong.
    pub fn new(file_name: &str, contents: Vec<u8>) -> Result<Self> {
        let name = file_name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(file_name)
            .trim();
        let extension = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let Some((_, content_type, magic)) =
            EVIDENCE_KINDS.iter().find(|(e, _, _)| *e == extension)
        else {
            return Err(StoreError::Rejected(format!(
                "{name}: evidence must be a PDF, PNG or JPEG image, Word, Excel or PowerPoint file, CSV or text file"
            )));
        };
        if contents.is_empty() {
            return Err(StoreError::Rejected(format!("{name} is empty")));
        }
        if contents.len() > MAX_EVIDENCE_BYTES {
            return Err(StoreError::Rejected(format!(
                "{name} is larger than 10 MB: link to it with the evidence link instead"
            )));
        }
        let text = magic.is_empty();
        if (text && std::str::from_utf8(&contents).is_err()) || !contents.starts_with(magic) {
            return Err(StoreError::Rejected(format!(
                "{name} is not a .{extension} file: its contents do not match its name"
            )));
        }
        Ok(Self {
            file_name: name.to_string(),
            content_type: content_type.to_string(),
            contents,
        })
    }
}

/// What a lead sends.
#[derive(Debug, Clone)]
pub struct NewActionUpdate {
    pub status: ActionStatus,
    pub note: String,
    pub evidence_url: Option<String>,
    pub evidence_file: Option<EvidenceFile>,
    pub revised_due: Option<Period>,
}

impl NewActionUpdate {
    /// Checks the update reads well: a note, and an evidence link that is a web address.
    pub fn check(&self) -> Result<()> {
        if self.note.trim().is_empty() {
            return Err(StoreError::Rejected(
                "write what has happened since the last update".into(),
            ));
        }
        if self.note.chars().count() > 10_000 {
            return Err(StoreError::Rejected("the note is too long: keep it under 10,000 characters and link to longer documents".into()));
        }
        if let Some(url) = &self.evidence_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(StoreError::Rejected(
                "the evidence link must be a web address starting with https://".into(),
            ));
        }
        Ok(())
    }
}

impl Store {
    /// Posts an update: stores it, sets the action's status, and records both in the audit
    /// trail, in one transaction. Permission is checked by the caller with
    /// `greenplan_core::access`.
    pub async fn post_action_update(
        &self,
        actor: &str,
        action_id: &str,
        update: &NewActionUpdate,
    ) -> Result<ActionUpdate> {
        update.check()?;
        let mut tx = self.begin_write().await?;
        let row: Option<(String,)> =
            sqlx::query_as("SELECT body FROM actions WHERE id = $1 AND archived_at IS NULL")
                .bind(action_id)
                .fetch_optional(&mut *tx)
                .await?;
        let (body,) =
            row.ok_or_else(|| StoreError::Rejected(format!("there is no action `{action_id}`")))?;
        let mut action: Action = serde_json::from_str(&body).map_err(|e| corrupt("action", e))?;
        let before = serde_json::json!({"status": action.status.slug()});
        action.status = update.status;
        let posted_at = now();
        let evidence_file = match &update.evidence_file {
            Some(f) => Some((
                store_evidence(&mut tx, actor, action_id, f, posted_at).await?,
                f.file_name.clone(),
            )),
            None => None,
        };
        sqlx::query(
            "INSERT INTO action_updates (action_id, posted_by, posted_at, status, note, evidence_url, revised_due, evidence_file) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(action_id)
        .bind(actor)
        .bind(posted_at)
        .bind(update.status.slug())
        .bind(update.note.trim())
        .bind(update.evidence_url.clone())
        .bind(update.revised_due.map(|p| p.code()))
        .bind(evidence_file.as_ref().map(|(id, _)| *id))
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE actions SET status = $1, body = $2 WHERE id = $3")
            .bind(update.status.slug())
            .bind(serde_json::to_string(&action).map_err(|e| corrupt("action", e))?)
            .bind(action_id)
            .execute(&mut *tx)
            .await?;
        let after = serde_json::json!({
            "status": update.status.slug(), "note": update.note.trim(), "evidence_url": update.evidence_url,
            "revised_due": update.revised_due.map(|p| p.code()),
            "evidence_file": evidence_file.as_ref().map(|(id, name)| serde_json::json!({"id": id, "name": name})),
        });
        let org = action.lead_organisations.first().map(|o| o.to_string());
        audit::record(
            &mut tx,
            actor,
            "post-update",
            "action",
            action_id,
            org.as_deref(),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(ActionUpdate {
            action_id: action_id.to_string(),
            posted_by: actor.to_string(),
            posted_at,
            status: update.status,
            note: update.note.trim().to_string(),
            evidence_url: update.evidence_url.clone(),
            evidence_file,
            revised_due: update.revised_due,
        })
    }

    /// The updates of an action, newest first.
    pub async fn action_updates(&self, action_id: &str) -> Result<Vec<ActionUpdate>> {
        let rows = sqlx::query(
            "SELECT u.id, u.action_id, u.posted_by, u.posted_at, u.status, u.note, u.evidence_url, u.revised_due, u.evidence_file, f.file_name \
             FROM action_updates u LEFT JOIN evidence_files f ON f.id = u.evidence_file WHERE u.action_id = $1 ORDER BY u.posted_at DESC, u.id DESC",
        )
        .bind(action_id)
        .fetch_all(self.pool())
        .await?;
        let mut decoded = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            decoded.push((
                id.to_string(),
                (|| -> Result<ActionUpdate> {
                    let status: String = r.try_get("status")?;
                    let revised: Option<String> = r.try_get("revised_due")?;
                    Ok(ActionUpdate {
                        action_id: r.try_get("action_id")?,
                        posted_by: r.try_get("posted_by")?,
                        posted_at: r.try_get("posted_at")?,
                        status: status
                            .parse()
                            .map_err(|e: String| corrupt("action update", e))?,
                        note: r.try_get("note")?,
                        evidence_url: r.try_get("evidence_url")?,
                        evidence_file: match r.try_get::<Option<i64>, _>("evidence_file")? {
                            Some(id) => Some((id, r.try_get("file_name")?)),
                            None => None,
                        },
                        revised_due: revised
                            .map(|p| {
                                Period::parse(&p)
                                    .map_err(|e| corrupt("action update revised due", e))
                            })
                            .transpose()?,
                    })
                })(),
            ));
        }
        self.keep_all("action_updates", decoded)
    }

    /// An evidence file and the action it belongs to.
    pub async fn evidence_file(&self, id: i64) -> Result<Option<(String, EvidenceFile)>> {
        let row: Option<(String, String, String, Vec<u8>)> = sqlx::query_as(
            "SELECT action_id, file_name, content_type, contents FROM evidence_files WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(action, file_name, content_type, contents)| {
            (
                action,
                EvidenceFile {
                    file_name,
                    content_type,
                    contents,
                },
            )
        }))
    }
}

async fn store_evidence(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    actor: &str,
    action_id: &str,
    file: &EvidenceFile,
    at: i64,
) -> Result<i64> {
    use sha2::Digest;
    let sha = format!("{:x}", sha2::Sha256::digest(&file.contents));
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO evidence_files (action_id, file_name, content_type, sha256, contents, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(action_id)
    .bind(&file.file_name)
    .bind(&file.content_type)
    .bind(&sha)
    .bind(file.contents.clone())
    .bind(actor)
    .bind(at)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_files_are_what_they_say() {
        assert!(EvidenceFile::new("minutes.pdf", b"%PDF-1.7 ...".to_vec()).is_ok());
        let f =
            EvidenceFile::new("C:\\Users\\sam\\photo.JPG", b"\xff\xd8\xff\xe0".to_vec()).unwrap();
        assert_eq!(
            (f.file_name.as_str(), f.content_type.as_str()),
            ("photo.JPG", "image/jpeg")
        );
        let html = EvidenceFile::new("report.pdf", b"<html><script>alert(1)</script>".to_vec());
        assert!(
            html.unwrap_err()
                .to_string()
                .contains("contents do not match")
        );
        assert!(EvidenceFile::new("page.html", b"<p>".to_vec()).is_err());
        assert!(EvidenceFile::new("notes.txt", b"\xff\xfe".to_vec()).is_err());
        assert!(EvidenceFile::new("empty.pdf", Vec::new()).is_err());
        let big = EvidenceFile::new("big.txt", vec![b'a'; MAX_EVIDENCE_BYTES + 1]);
        assert!(big.unwrap_err().to_string().contains("10 MB"));
    }
}
