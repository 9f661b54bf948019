//! The binary itself: `cx-inbox migrate` on a fresh data directory, and a clean stop on SIGTERM.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::free_port;

/// The binary with an environment holding nothing but what the test gives it.
fn cx_inbox(data_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cx-inbox"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CX_DATA_DIR", data_dir)
        .env("CX_LOG", "info");
    cmd
}

#[actix_web::test]
async fn migrate_creates_the_data_directory_and_the_schema_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = cx_inbox(&data).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in ["cx-inbox.db", "jwt.secret", "secrets.key"] {
        assert!(data.join(f).exists(), "{f} created");
    }
    let url = format!("sqlite://{}?mode=ro", data.join("cx-inbox.db").display());
    let db = sea_orm::Database::connect(url).await.unwrap();
    use sea_orm::ConnectionTrait;
    for table in ["organizations", "conversations", "messages", "events", "tags"] {
        db.execute_unprepared(&format!("SELECT COUNT(*) FROM {table}"))
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
    }
    // Running it again is a no-op.
    assert!(cx_inbox(&data).arg("migrate").output().unwrap().status.success());
}

#[actix_web::test]
async fn sigterm_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = cx_inbox(dir.path())
        .env("CX_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client.get(format!("http://127.0.0.1:{port}/api/v1/health")).send().await.is_ok_and(|r| r.status() == 200) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server answered its health check");
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "still running 15 s after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
    let mut log = String::new();
    use std::io::Read;
    child.stdout.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(log.contains("shutting down") && log.contains("stopped"), "{log}");
}
