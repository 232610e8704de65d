//! Slow clients against the real server (`greenplan_web::serve` on 127.0.0.1:0, raw TCP):
//! 2,000 half-sent requests leave `/healthz` answering and are closed after the header-read
//! timeout; an idle connection is closed after the idle timeout; a stalled request body after
//! the body-read timeout (issue 21, class 6). No assertion on time beyond generous limits
//! that only catch a connection that is never closed. SQLite or PostgreSQL.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use greenplan_store::Store;
use greenplan_store::testing::TestDatabase;
use greenplan_web::WebConfig;
use greenplan_web::connections::ConnectionLimits;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Far longer than any limit under test: reaching it means the server never closed.
const NEVER: Duration = Duration::from_secs(90);

struct Server {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _db: TestDatabase,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn server(limits: ConnectionLimits) -> Server {
    let db = TestDatabase::new();
    let store = Store::connect(&db.url).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = WebConfig {
        connections: limits,
        ..WebConfig::default()
    };
    let task = tokio::spawn(greenplan_web::serve(store, config, listener));
    Server {
        addr,
        task,
        _db: db,
    }
}

/// The whole answer to one request sent in full on a new connection.
async fn request(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// Waits until the server closes `stream`, returning what it sent before closing.
async fn closed_by_server(stream: &mut TcpStream) -> Vec<u8> {
    let mut sent = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return sent, // end of stream, or reset: closed either way
            Ok(n) => sent.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_during_2000_half_sent_requests_which_the_header_timeout_closes() {
    // This process holds both ends of every connection. Raise its own open-file limit to
    // the hard limit; where even that is too low for 2,000 (two descriptors each, and the
    // test's own), use as many as fit: the property is the same.
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap();
    let count = usize::try_from(limit.saturating_sub(600) / 2)
        .unwrap()
        .min(2_000);
    assert!(
        count >= 100,
        "open-file limit {limit} is too low for this test"
    );
    let server = server(ConnectionLimits {
        header_read_timeout: Duration::from_secs(5),
        ..ConnectionLimits::default()
    })
    .await;
    assert!(
        request(server.addr, "/healthz")
            .await
            .starts_with("HTTP/1.1 200")
    );

    let mut half_sent = Vec::with_capacity(count);
    for _ in 0..count {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: ")
            .await
            .unwrap();
        half_sent.push(stream);
    }
    let answer = tokio::time::timeout(NEVER, request(server.addr, "/healthz"))
        .await
        .expect("/healthz answers while the half-sent requests are open");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok"), "{answer}");

    for (i, stream) in half_sent.iter_mut().enumerate() {
        tokio::time::timeout(NEVER, closed_by_server(stream))
            .await
            .unwrap_or_else(|_| panic!("half-sent request {i} was never closed"));
    }
    // And the server still serves.
    assert!(
        request(server.addr, "/healthz")
            .await
            .starts_with("HTTP/1.1 200")
    );
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_idle_timeout() {
    // The header timeout is set far beyond the test's limit, so only the idle timeout can
    // close the connection.
    let server = server(ConnectionLimits {
        header_read_timeout: Duration::from_secs(3_600),
        idle_timeout: Duration::from_secs(1),
        ..ConnectionLimits::default()
    })
    .await;
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    tokio::time::timeout(NEVER, closed_by_server(&mut idle))
        .await
        .expect("an idle connection is closed");

    // A keep-alive connection idle after its answer goes the same way.
    let mut kept = TcpStream::connect(server.addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let answered = tokio::time::timeout(NEVER, closed_by_server(&mut kept))
        .await
        .expect("an idle keep-alive connection is closed");
    assert!(String::from_utf8_lossy(&answered).starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn a_stalled_request_body_is_answered_after_the_body_timeout() {
    let server = server(ConnectionLimits {
        header_read_timeout: Duration::from_secs(3_600),
        idle_timeout: Duration::from_secs(3_600),
        body_read_timeout: Duration::from_secs(1),
        ..ConnectionLimits::default()
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // The sign-in form reads its body before anything else; 100 bytes promised, 10 sent.
    stream
        .write_all(
            b"POST /login HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=a%40",
        )
        .await
        .unwrap();
    let answer = tokio::time::timeout(NEVER, closed_by_server(&mut stream))
        .await
        .expect("a stalled body is given up on");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "a stalled body is refused, not served: {answer}"
    );
}
