//! `greenplan reminders send` against a real SMTP server (aiosmtpd, `tests/smtp/sink.py`) on
//! the built-in plan as of today: who gets a digest and what it names, each task once, opting
//! out, two senders at once, and a server that refuses. SQLite, or PostgreSQL when
//! GREENPLAN_TEST_POSTGRES is set.

use crate::common::*;
use greenplan_store::testing::TestDatabase;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

/// The SMTP server of one test, writing what it accepts to a folder of its own.
struct SmtpSink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpSink {
    fn start(refuse: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/smtp/sink.py");
        let mut command = Command::new("python3");
        command
            .arg(&script)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .stdout(Stdio::piped());
        if refuse {
            command.arg("--refuse");
        }
        let mut child = command
            .spawn()
            .expect("python3 runs tests/smtp/sink.py (pip install aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP sink did not start: is aiosmtpd installed (pip install aiosmtpd)?"
        );
        Self { child, port, dir }
    }

    /// The messages accepted so far, in order.
    fn messages(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// How many times a message was offered (accepted or refused).
    fn attempts(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("attempts.log"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }
}

fn reminders(db: &str, sink: &SmtpSink, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("reminders")
        .args(args)
        .env("GREENPLAN_DB", db)
        .env(
            "GREENPLAN_SMTP_URL",
            format!("smtp://127.0.0.1:{}", sink.port),
        )
        .env(
            "GREENPLAN_MAIL_FROM",
            "Green Plan <greenplan@derbyshire.example.nhs.uk>",
        )
        .env(
            "GREENPLAN_PUBLIC_URL",
            "https://greenplan.derbyshire.example.nhs.uk",
        )
        .env("GREENPLAN_SMTP_ATTEMPTS", "2")
        .env("GREENPLAN_SMTP_RETRY_SECONDS", "0")
        .output()
        .unwrap()
}

fn add_person(db: &str, email: &str, org: &str, role: &str) {
    greenplan(
        db,
        &[
            "user",
            "add",
            email,
            "--org",
            org,
            "--role",
            role,
            "--name",
            "Test Person",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
}

fn to_of(message: &str) -> String {
    message
        .lines()
        .find_map(|l| l.strip_prefix("To: "))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The plain-text part of a message (lettre writes short ASCII lines as they are, and
/// quoted-printable otherwise: soft line breaks are joined here).
fn text_of(message: &str) -> String {
    message.replace("=\r\n", "").replace("=\n", "")
}

/// A database with the built-in plan and three people: a contributor of the ICB (QJ2), a
/// contributor of a trust (RTG), and a viewer of the ICB.
fn deployment() -> TestDatabase {
    let db = TestDatabase::new();
    greenplan(&db.url, &["init"], None);
    add_person(
        &db.url,
        "icb.lead@derbyshire.example.nhs.uk",
        "QJ2",
        "contributor",
    );
    add_person(
        &db.url,
        "trust.lead@uhdb.example.nhs.uk",
        "RTG",
        "contributor",
    );
    add_person(&db.url, "reader@derbyshire.example.nhs.uk", "QJ2", "viewer");
    db
}

#[test]
fn an_icb_contributor_gets_one_digest_naming_tt3_and_a_second_run_sends_nothing() {
    let db = deployment();
    let sink = SmtpSink::start(false);
    let first = reminders(&db.url, &sink, &["send"]);
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let messages = sink.messages();
    let to_icb: Vec<&String> = messages
        .iter()
        .filter(|m| to_of(m).contains("icb.lead@derbyshire.example.nhs.uk"))
        .collect();
    assert_eq!(to_icb.len(), 1, "one digest for the ICB contributor: {out}");
    let digest = text_of(to_icb[0]);
    assert!(digest.contains("TT3 Work with Modeshift stars"), "{digest}");
    assert!(
        digest.contains("Actions past their delivery date"),
        "{digest}"
    );
    assert!(
        digest.contains("https://greenplan.derbyshire.example.nhs.uk/actions/TT3"),
        "{digest}"
    );
    assert!(
        digest.contains("multipart/alternative"),
        "plain text and HTML: {digest}"
    );
    assert!(digest.contains("text/html"), "{digest}");
    assert!(
        digest.contains("From: \"Green Plan\" <greenplan@derbyshire.example.nhs.uk>")
            || digest.contains("From: Green Plan <greenplan@derbyshire.example.nhs.uk>"),
        "{digest}"
    );
    // The trust's contributor hears of the trust's actions, never of the ICB's TT3.
    for m in messages.iter().filter(|m| to_of(m).contains("trust.lead@")) {
        assert!(!text_of(m).contains("/actions/TT3"), "{m}");
    }
    // A viewer is sent nothing.
    assert!(messages.iter().all(|m| !to_of(m).contains("reader@")));
    assert!(
        out.contains("sent to icb.lead@derbyshire.example.nhs.uk"),
        "{out}"
    );

    // Again at once: nothing new.
    let second = reminders(&db.url, &sink, &["send"]);
    assert!(second.status.success());
    assert_eq!(
        sink.messages().len(),
        messages.len(),
        "the second run sent nothing"
    );
    assert!(String::from_utf8_lossy(&second.stdout).contains("Nothing new to send"));

    // The log says what went.
    let log = reminders(&db.url, &sink, &["log", "--format", "csv"]);
    let log = String::from_utf8_lossy(&log.stdout);
    assert!(log.contains("icb.lead@derbyshire.example.nhs.uk"), "{log}");
    assert!(log.contains("action-overdue/TT3"), "{log}");
}

#[test]
fn a_person_who_turned_digests_off_gets_none_and_preview_sends_nothing() {
    let db = deployment();
    let sink = SmtpSink::start(false);
    greenplan(
        &db.url,
        &[
            "reminders",
            "digest",
            "icb.lead@derbyshire.example.nhs.uk",
            "off",
        ],
        None,
    );
    let preview = reminders(&db.url, &sink, &["preview", "--list"]);
    let listed = String::from_utf8_lossy(&preview.stdout);
    assert!(preview.status.success());
    assert!(!listed.contains("icb.lead@"), "{listed}");
    assert_eq!(sink.attempts(), 0, "a preview sends nothing");
    let sent = reminders(&db.url, &sink, &["send"]);
    assert!(sent.status.success());
    assert!(
        sink.messages()
            .iter()
            .all(|m| !to_of(m).contains("icb.lead@"))
    );
    // Turned on again, the digest goes.
    greenplan(
        &db.url,
        &[
            "reminders",
            "digest",
            "icb.lead@derbyshire.example.nhs.uk",
            "weekly",
        ],
        None,
    );
    let preview = reminders(
        &db.url,
        &sink,
        &["preview", "--to", "icb.lead@derbyshire.example.nhs.uk"],
    );
    let text = String::from_utf8_lossy(&preview.stdout);
    assert!(text.contains("Subject: "), "{text}");
    assert!(text.contains("TT3"), "{text}");
    assert!(reminders(&db.url, &sink, &["send"]).status.success());
    assert_eq!(
        sink.messages()
            .iter()
            .filter(|m| to_of(m).contains("icb.lead@"))
            .count(),
        1
    );
}

#[test]
fn two_senders_at_once_send_each_digest_once() {
    let db = deployment();
    let sink = SmtpSink::start(false);
    let spawn = || {
        Command::new(BIN)
            .args(["reminders", "send"])
            .env("GREENPLAN_DB", &db.url)
            .env(
                "GREENPLAN_SMTP_URL",
                format!("smtp://127.0.0.1:{}", sink.port),
            )
            .env("GREENPLAN_MAIL_FROM", "greenplan@derbyshire.example.nhs.uk")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success());
    let messages = sink.messages();
    let mut to: Vec<String> = messages.iter().map(|m| to_of(m)).collect();
    let all = to.len();
    to.sort();
    to.dedup();
    assert!(all > 0, "something was sent");
    assert_eq!(to.len(), all, "nobody got two digests: {to:?}");
}

#[test]
fn a_refusing_server_is_retried_reported_and_nothing_is_marked_sent() {
    let db = deployment();
    let refusing = SmtpSink::start(true);
    let failed = reminders(&db.url, &refusing, &["send"]);
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(!failed.status.success(), "a refused digest fails the run");
    assert!(
        err.contains("not sent to icb.lead@derbyshire.example.nhs.uk"),
        "{err}"
    );
    assert!(err.contains("after 2 attempts"), "{err}");
    assert!(
        err.contains("451"),
        "the server's answer is reported: {err}"
    );
    // Each digest was offered twice (GREENPLAN_SMTP_ATTEMPTS=2).
    assert_eq!(refusing.attempts() % 2, 0);
    assert!(refusing.attempts() >= 2);
    let log = reminders(&db.url, &refusing, &["log", "--format", "csv"]);
    assert_eq!(
        String::from_utf8_lossy(&log.stdout).lines().count(),
        1,
        "only the header: nothing recorded as sent"
    );
    // Once the server accepts mail, what was not sent goes.
    let working = SmtpSink::start(false);
    assert!(reminders(&db.url, &working, &["send"]).status.success());
    assert!(
        working
            .messages()
            .iter()
            .any(|m| to_of(m).contains("icb.lead@"))
    );
}
