//! Two `greenplan serve` processes over one database (PostgreSQL when GREENPLAN_TEST_POSTGRES
//! is set, as in a shared deployment; else one SQLite file), used alternately by one person:
//! a session started on one server works on the other, a write through one is read through
//! the other, and signing out on one ends the session on both.
//!
//! The HTTP is spoken by hand over a TCP socket (one request per connection), so the test
//! needs no HTTP client library.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use greenplan_store::testing::TestDatabase;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_greenplan");
const PASSWORD: &str = "a long test pass phrase";

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn greenplan(db: &str, args: &[&str], input: Option<&str>) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("GREENPLAN_DB", db)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    if let Some(text) = input {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    assert!(child.wait().unwrap().success(), "greenplan {args:?}");
}

fn serve(db: &str) -> Server {
    let port = free_port();
    let child = Command::new(BIN)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("GREENPLAN_DB", db)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(r) = server.request("GET", "/healthz", None, None, "")
            && r.status == 200
        {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the server on port {port} did not start");
}

struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn csrf(&self) -> String {
        self.body
            .split("name=\"csrf_token\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    }
}

impl Server {
    fn request(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        content_type: Option<&str>,
        body: &str,
    ) -> std::io::Result<Reply> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let host = format!("127.0.0.1:{}", self.port);
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some(c) = cookie {
            request.push_str(&format!("Cookie: {c}\r\n"));
        }
        if let Some(t) = content_type {
            request.push_str(&format!("Content-Type: {t}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes())?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Ok(Reply {
            status,
            head: head.to_string(),
            body: body.to_string(),
        })
    }

    fn get(&self, path: &str, cookie: &str) -> Reply {
        self.request("GET", path, Some(cookie), None, "").unwrap()
    }

    fn post(&self, path: &str, cookie: Option<&str>, form: &str) -> Reply {
        self.request(
            "POST",
            path,
            cookie,
            Some("application/x-www-form-urlencoded"),
            form,
        )
        .unwrap()
    }
}

#[test]
fn one_session_works_on_two_servers_sharing_a_database() {
    let db = TestDatabase::new();
    greenplan(&db.url, &["init"], None);
    greenplan(
        &db.url,
        &[
            "user",
            "add",
            "pat@uhdb.nhs.uk",
            "--org",
            "RTG",
            "--role",
            "contributor",
            "--name",
            "Pat Lead",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    let a = serve(&db.url);
    let b = serve(&db.url);

    // Sign in on A.
    let login = a.post(
        "/login",
        None,
        &format!(
            "email=pat%40uhdb.nhs.uk&password={}",
            PASSWORD.replace(' ', "+")
        ),
    );
    assert_eq!(login.status, 303, "{}", login.body);
    let cookie = login
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();

    // The same session on B: signed in, and B's forms carry the session's CSRF token.
    let account = b.get("/account", &cookie);
    assert_eq!(account.status, 200);
    assert!(account.body.contains("Pat Lead"), "B knows the session");
    let csrf = account.csrf();
    assert_eq!(
        csrf,
        a.get("/account", &cookie).csrf(),
        "one session, one token"
    );

    // A write through B is read through A (A checks the data revision at most once a second).
    let posted = b.post(
        "/actions/DT3/updates",
        Some(&cookie),
        &format!("csrf_token={csrf}&status=on-track&note=Written+through+server+B&evidence_url=&revised_due="),
    );
    assert_eq!(posted.status, 303, "{}", posted.body);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let page = a.get("/actions/DT3", &cookie);
        if page.body.contains("Written through server B") {
            break;
        }
        assert!(Instant::now() < deadline, "A never showed B's write");
        std::thread::sleep(Duration::from_millis(200));
    }
    // And back: a write through A, read through B.
    let posted = a.post(
        "/actions/DT3/updates",
        Some(&cookie),
        &format!(
            "csrf_token={csrf}&status=at-risk&note=Then+through+server+A&evidence_url=&revised_due="
        ),
    );
    assert_eq!(posted.status, 303, "{}", posted.body);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !b
        .get("/actions/DT3", &cookie)
        .body
        .contains("Then through server A")
    {
        assert!(Instant::now() < deadline, "B never showed A's write");
        std::thread::sleep(Duration::from_millis(200));
    }

    // Signing out on B ends the session on A too.
    let out = b.post("/logout", Some(&cookie), &format!("csrf_token={csrf}"));
    assert_eq!(out.status, 303);
    let after = a.get("/account", &cookie);
    assert_eq!(after.status, 303, "A sends a signed-out person to sign in");
    assert_eq!(after.header("location"), Some("/login"));
}
