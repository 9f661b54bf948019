//! The binary itself: `cx-inbox migrate` on a fresh data directory, and a clean stop on SIGTERM.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    let (mut stop, _base) = serve(dir.path(), &[]).await;
    let child = &mut stop.child;
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
    let log = stop.all_lines().join("\n");
    assert!(log.contains("shutting down") && log.contains("stopped"), "{log}");
}

/// Starts the binary with `args` on port 0 (so no other process can take its port between a
/// check and the bind), reads its address from the line it prints ("… is running: open
/// http://…/"), and answers the child (killed when dropped) once that address answers its
/// health check. The child's stdout lines stay readable through [`Stop::line_with`].
async fn serve(data_dir: &std::path::Path, args: &[&str]) -> (Stop, String) {
    let mut child = cx_inbox(data_dir)
        .env("CX_BIND", "127.0.0.1:0")
        // What a user gets: the default log filter (migrations quiet, the address first).
        .env_remove("CX_LOG")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stop = Stop { child, lines: rx, seen: Vec::new() };
    let banner = stop.line_with("is running: open http://", Duration::from_secs(60));
    let base = banner
        .split("open ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(|url| url.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| panic!("no address in {banner:?}"));
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client.get(format!("{base}/api/v1/health")).send().await.is_ok_and(|r| r.status() == 200) {
            return (stop, base);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not answer its health check");
}

struct Stop {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    /// Every line read so far, in order.
    seen: Vec<String>,
}

impl Stop {
    /// Reads stdout until a line containing `needle`, and answers it.
    fn line_with(&mut self, needle: &str, wait: Duration) -> String {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(e) => panic!("no line with {needle:?} ({e}); printed so far: {:?}", self.seen),
            }
        }
    }

    /// Every line the child printed, once it has exited.
    fn all_lines(&mut self) -> Vec<String> {
        let _ = self.child.wait();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        self.seen.clone()
    }
}

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[actix_web::test]
async fn the_binary_serves_the_app_at_the_root_prints_its_address_first_and_deep_links_get_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = serve(dir.path(), &[]).await;
    let client = reqwest::Client::new();

    let root = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(root.status(), 200);
    assert!(root.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(root.headers()["cache-control"], "no-cache");
    let html = root.text().await.unwrap();
    assert!(html.contains(r#"<div id="app">"#), "{html}");
    let script = html
        .split(r#"src=""#)
        .find_map(|s| s.split('"').next().filter(|p| p.starts_with("/assets/") && p.ends_with(".js")));
    let script = script.unwrap_or_else(|| panic!("no app script in {html}")).to_owned();

    let js = client.get(format!("{base}{script}")).send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.headers()["content-type"].to_str().unwrap().contains("javascript"));
    assert!(js.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    let etag = js.headers()["etag"].to_str().unwrap().to_owned();
    let again = client.get(format!("{base}{script}")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);

    // A deep link answers the same app, so a reload lands on the same screen.
    let deep = client.get(format!("{base}/conversations/0192-some-id")).send().await.unwrap();
    assert_eq!(deep.status(), 200);
    assert_eq!(deep.text().await.unwrap(), html);
    // The API and missing assets keep their JSON 404s.
    let api = client.get(format!("{base}/api/v1/nope")).send().await.unwrap();
    assert_eq!(api.status(), 404);
    assert_eq!(api.json::<serde_json::Value>().await.unwrap()["error"]["code"], "not_found");
    assert_eq!(client.get(format!("{base}/assets/gone-1234.js")).send().await.unwrap().status(), 404);
    assert_eq!(client.post(format!("{base}/conversations")).send().await.unwrap().status(), 404);

    // The address is the first thing the server prints.
    let _ = child.child.kill();
    let out = child.all_lines();
    let first = out.iter().find(|l| !l.trim().is_empty()).cloned().unwrap_or_default();
    assert!(first.contains(&format!("{base}/")), "first line: {first:?}\n{out:?}");
}

#[actix_web::test]
async fn create_admin_makes_an_organization_whose_admin_signs_in_with_the_printed_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = cx_inbox(dir.path())
        .args(["create-admin", "--email", "Boss@Example.com", "--name", "Bo Boss", "--company", "Real Co"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    // The same address again is refused, and nothing is created.
    let again = cx_inbox(dir.path()).args(["create-admin", "--email", "boss@example.com"]).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let bad = cx_inbox(dir.path())
        .args(["create-admin", "--email", "nope", "--password", "long-enough-pw"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("email"));

    let (_child, base) = serve(dir.path(), &[]).await;
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "boss@example.com", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let s: serde_json::Value = res.json().await.unwrap();
    assert_eq!(s["data"]["user"]["role"], "ADMIN");
    assert_eq!(s["data"]["organization"]["name"], "Real Co");
}

#[actix_web::test]
async fn the_demo_seeds_an_organization_whose_simulated_customers_are_answered_by_the_bot() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = serve(dir.path(), &["demo", "--every-secs", "1"]).await;
    // The banner comes once seeding is done: its last line is the second agent's.
    child.line_with("sue@demo.test", Duration::from_secs(60));
    let banner = child.seen.clone();
    assert!(banner.iter().any(|l| l.contains(&format!("{base}/"))), "{banner:?}");
    let password_of = |who: &str| {
        banner
            .iter()
            .find(|l| l.contains(who))
            .and_then(|l| l.split("password ").nth(1))
            .map(|p| p.trim().to_owned())
            .unwrap()
    };
    let client = reqwest::Client::new();
    let login = |email: &'static str, password: String| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let res = client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&serde_json::json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{email} signs in");
            res.json::<serde_json::Value>().await.unwrap()["data"]["accessToken"].as_str().unwrap().to_owned()
        }
    };
    let token = login("admin@demo.test", password_of("admin@demo.test")).await;
    login("sam@demo.test", password_of("sam@demo.test")).await;
    login("sue@demo.test", password_of("sue@demo.test")).await;
    let get = |path: String| {
        let client = client.clone();
        let token = token.clone();
        let base = base.clone();
        async move {
            client
                .get(format!("{base}/api/v1{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let teams = get("/teams".into()).await;
    assert_eq!(teams["data"].as_array().unwrap().len(), 2, "{teams}");
    assert_eq!(get("/routing-rules".into()).await["data"].as_array().unwrap().len(), 2);
    assert_eq!(get("/tags".into()).await["data"].as_array().unwrap().len(), 3);

    // Customers write in through the webhook; the bot answers one from the FAQ and the
    // simulated Graph API reports the answer delivered.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut answered = None;
    while answered.is_none() {
        assert!(Instant::now() < deadline, "no delivered bot answer within a minute");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let convs = get("/conversations?limit=50".into()).await;
        for c in convs["data"].as_array().into_iter().flatten() {
            let msgs = get(format!("/conversations/{}/messages", c["id"].as_str().unwrap())).await;
            answered = msgs["data"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|m| {
                    m["direction"] == "outbound"
                        && ["delivered", "read"].contains(&m["status"].as_str().unwrap_or_default())
                })
                .cloned();
            if answered.is_some() {
                break;
            }
        }
    }
    // Mid-run restart is not part of the demo: stopping it is.
    let _ = child.child.kill();
}
