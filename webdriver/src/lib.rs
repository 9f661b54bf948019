//! A small WebDriver client: Debian's `chromedriver` driving Debian's headless `chromium`,
//! spoken to over HTTP with the reqwest client the workspace already builds (a WebDriver crate
//! would bring a second HTTP stack to compile). Chromedriver's CDP passthrough
//! (`/goog/cdp/execute`) gives what WebDriver lacks, such as a script that runs before the
//! page's own. Used by the UI tests (which skip without Chromium unless
//! `CX_TEST_BROWSER=required`) and the UI benchmark.
//!
//! Test support code: it panics on a driver that misbehaves, with what it saw.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::{Semaphore, SemaphorePermit};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Browsers run one at a time: two Chromiums on two cores beside the servers make every wait
/// in these tests a guess.
static ONE_AT_A_TIME: Semaphore = Semaphore::const_new(1);

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
    /// The test's turn; `None` for a second browser of the same test (see `second`).
    _turn: Option<SemaphorePermit<'static>>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn find_binary(names: &[&str]) -> Option<String> {
    names.iter().find(|p| std::path::Path::new(p).exists()).map(|p| (*p).to_owned())
}

impl Browser {
    /// A fresh headless Chromium at 1280x800, or `None` (with a message) when there is none and
    /// CI does not require one.
    pub async fn start(test: &str) -> Option<Browser> {
        match Browser::launch().await {
            Ok(b) => Some(b),
            Err(missing) => {
                let required = std::env::var("CX_TEST_BROWSER").is_ok_and(|v| v == "required");
                assert!(!required, "CX_TEST_BROWSER=required but {missing}");
                // Straight to stderr: the harness captures `eprintln!` of passing tests.
                use std::io::Write;
                let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {missing} (CI sets CX_TEST_BROWSER=required)");
                None
            }
        }
    }

    /// A fresh headless Chromium at 1280x800; `Err` says what is missing.
    pub async fn launch() -> Result<Browser, String> {
        Browser::launch_in(true).await
    }

    /// Another headless Chromium with its own profile (no shared storage or cookies) for the
    /// same test, while this one keeps running: e.g. a visitor and an agent side by side. It
    /// runs within this browser's turn.
    pub async fn second(&self) -> Browser {
        Browser::launch_in(false).await.expect("a second Chromium where the first one runs")
    }

    async fn launch_in(take_turn: bool) -> Result<Browser, String> {
        let chromium = find_binary(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]);
        let driver = find_binary(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            return Err("no Chromium here (apt-get install chromium chromium-driver)".into());
        };
        let turn = if take_turn { Some(ONE_AT_A_TIME.acquire().await.expect("semaphore open")) } else { None };
        let port = free_port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = http.get(format!("{base}/status")).send().await;
            if let Ok(r) = ready
                && r.json::<Value>().await.is_ok_and(|v| v["value"]["ready"] == true)
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-quic", "--window-size=1280,800", "--lang=en-US",
                    "--autoplay-policy=no-user-gesture-required",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let res: Value = http.post(format!("{base}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
        let session = res["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("new session: {res}")).to_owned();
        let b = Browser { driver: child, base, session, http, _profile: profile, _turn: turn };
        b.cmd("POST", "/timeouts", json!({"script": 30000, "pageLoad": 30000, "implicit": 0})).await;
        Ok(b)
    }

    async fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let res: Value = req.send().await.unwrap().json().await.unwrap();
        if res["value"]["error"].is_string() {
            panic!("webdriver {method} {path}: {}", res["value"]);
        }
        res["value"].clone()
    }

    /// Runs a Chrome DevTools Protocol command.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.cmd("POST", "/goog/cdp/execute", json!({"cmd": cmd, "params": params})).await
    }

    /// Runs `script` in every page before the page's own scripts.
    pub async fn before_each_page(&self, script: &str) {
        self.cdp("Page.addScriptToEvaluateOnNewDocument", json!({"source": script})).await;
    }

    pub async fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({"url": url})).await;
    }

    /// The handle of the tab (window) commands go to now.
    pub async fn tab(&self) -> String {
        self.cmd("GET", "/window", json!({})).await.as_str().unwrap_or_default().to_owned()
    }

    /// Opens a new tab of the same browser (same profile, so same localStorage) and switches
    /// to it; answers its handle.
    pub async fn new_tab(&self) -> String {
        let v = self.cmd("POST", "/window/new", json!({"type": "tab"})).await;
        let handle = v["handle"].as_str().unwrap_or_else(|| panic!("new tab: {v}")).to_owned();
        self.switch_to(&handle).await;
        handle
    }

    /// Sends the next commands into the iframe matching `css` (in the current document).
    pub async fn enter_frame(&self, css: &str) {
        let id = self.wait_for(css, Duration::from_secs(10)).await;
        let mut element = serde_json::Map::new();
        element.insert(ELEMENT.to_owned(), Value::String(id));
        self.cmd("POST", "/frame", json!({"id": element})).await;
    }

    /// Sends the next commands to the top document of the tab again.
    pub async fn leave_frames(&self) {
        self.cmd("POST", "/frame", json!({"id": null})).await;
    }

    /// Reloads the page.
    pub async fn reload(&self) {
        self.cmd("POST", "/refresh", json!({})).await;
    }

    /// Sends the next commands to the tab `handle`.
    pub async fn switch_to(&self, handle: &str) {
        self.cmd("POST", "/window", json!({"handle": handle})).await;
    }

    pub async fn set_size(&self, width: u32, height: u32) {
        self.cmd("POST", "/window/rect", json!({"width": width, "height": height})).await;
    }

    /// Runs `body` as a function body with `args`; answers its return value.
    pub async fn js(&self, body: &str, args: Value) -> Value {
        self.cmd("POST", "/execute/sync", json!({"script": body, "args": args})).await
    }

    /// Polls `body` (a function body) until it returns something truthy; answers it. Fails the
    /// test with `what` and the page's last state after `wait`.
    pub async fn until(&self, what: &str, wait: Duration, body: &str, args: Value) -> Value {
        let deadline = Instant::now() + wait;
        loop {
            let v = self.js(body, args.clone()).await;
            let truthy =
                !matches!(&v, Value::Null | Value::Bool(false)) && v != json!(0) && v != json!("") && v != json!([]);
            if truthy {
                return v;
            }
            if Instant::now() > deadline {
                let shot = std::env::temp_dir().join(format!("cx-ui-{}-{}.png", std::process::id(), self.session));
                self.screenshot(&shot).await;
                let text = self.js("return document.body.innerText.slice(0, 3000)", json!([])).await;
                let logs = self.console().await;
                panic!(
                    "waited {wait:?} for {what}; screenshot {}\npage text:\n{text}\nconsole:\n{logs}",
                    shot.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for an element matching `css` and answers its WebDriver id.
    pub async fn wait_for(&self, css: &str, wait: Duration) -> String {
        self.until(&format!("an element {css}"), wait, "return !!document.querySelector(arguments[0])", json!([css]))
            .await;
        let v = self.cmd("POST", "/element", json!({"using": "css selector", "value": css})).await;
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("find {css}: {v}")).to_owned()
    }

    pub async fn click(&self, css: &str) {
        let id = self.wait_for(css, Duration::from_secs(10)).await;
        self.cmd("POST", &format!("/element/{id}/click"), json!({})).await;
    }

    /// Types `text` into the element as a user would (key events); `\u{E007}` is Enter.
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.wait_for(css, Duration::from_secs(10)).await;
        self.cmd("POST", &format!("/element/{id}/value"), json!({"text": text})).await;
    }

    /// Presses keys on whatever has the focus (`\u{E00A}` is Alt, `\u{E00C}` Escape).
    pub async fn keys(&self, keys: &[&str]) {
        let mut down: Vec<Value> = keys.iter().map(|k| json!({"type": "keyDown", "value": k})).collect();
        down.extend(keys.iter().rev().map(|k| json!({"type": "keyUp", "value": k})));
        self.cmd("POST", "/actions", json!({"actions": [{"type": "key", "id": "keyboard", "actions": down}]})).await;
        self.cmd("DELETE", "/actions", json!({})).await;
    }

    pub async fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine;
        let b64 = self.cmd("GET", "/screenshot", json!({})).await;
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap_or_default()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    /// The page's console lines so far (errors included), one per line.
    pub async fn console(&self) -> String {
        let url = format!("{}/session/{}/se/log", self.base, self.session);
        let res = self.http.post(url).json(&json!({"type": "browser"})).send().await;
        let Ok(res) = res else { return String::new() };
        let v: Value = res.json().await.unwrap_or(Value::Null);
        v["value"]
            .as_array()
            .map(|a| a.iter().filter_map(|l| l["message"].as_str()).collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Chromedriver ends its Chromium when the session is deleted; a blocking call from Drop
        // would need a runtime, so ask in a thread of its own and then stop the driver.
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    let _ = reqwest::Client::new().delete(url).timeout(Duration::from_secs(10)).send().await;
                });
            }
        })
        .join();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
