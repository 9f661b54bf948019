//! Load tests for cx-inbox: each scenario starts real `cx-inbox` servers as child processes,
//! drives them from this process over 127.0.0.1, and prints every figure beside a baseline
//! measured in the same run on the same machine (a bare actix handler, a bare WebSocket server,
//! raw INSERTs, raw Redis pub/sub). Results also go to `load-tests/results/<scenario>.json`.
//!
//! ```sh
//! cargo run --release -p load-tests -- all      # or ingest | e2e | sockets | cluster | ui | campaign | widget | scale
//! ```

mod baselines;
mod report;
mod scenarios;
mod server;
mod stats;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T> = std::result::Result<T, Error>;

#[derive(Parser)]
#[command(name = "load-tests", about = "cx-inbox load tests with same-run baselines")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    /// Signed webhooks at rising rates, SQLite and PostgreSQL, vs bare actix and raw INSERTs.
    Ingest,
    /// Webhook -> 1,000 agent sockets latency, vs a bare WebSocket broadcast server.
    E2e,
    /// Idle authenticated sockets one node holds and memory per socket, vs a bare echo server.
    Sockets,
    /// Two nodes on PostgreSQL + Redis: webhook on A, socket on B, vs raw Redis pub/sub.
    Cluster,
    /// Webhook -> message painted in the agent app (headless Chromium), 1,000 conversations,
    /// vs webhook -> agent socket in the same run; the app's initial JS, gzipped.
    Ui,
    /// A 10,000-recipient campaign against the number's throughput limit (achieved/allowed),
    /// and the inbound webhook p99 while it runs, vs no campaign.
    Campaign,
    /// Live-chat visitor -> agent socket latency with 1,000 visitor sockets at 100 msg/s, vs
    /// WhatsApp webhook -> agent socket at the same rate on the same node in the same run.
    Widget,
    /// The queries users hit often at 1x / 10x / 100x data (10,000 to 1,000,000 conversations),
    /// SQLite and PostgreSQL, through the API: flat when the p99 at 100x is at most 2x that at 1x.
    Scale,
    /// Every scenario, one after another.
    All,
    /// Baseline child: a bare actix-web server answering 200 to every request.
    #[command(hide = true)]
    BareHttp {
        #[arg(long)]
        port: u16,
    },
    /// Baseline child: POST /publish on `port` is broadcast to every WebSocket on `ws_port`.
    #[command(hide = true)]
    BareWsBroadcast {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        ws_port: u16,
    },
    /// Baseline child: a bare WebSocket echo server.
    #[command(hide = true)]
    BareWsEcho {
        #[arg(long)]
        port: u16,
        /// Read buffer per socket; tungstenite's default is 128 KiB.
        #[arg(long, default_value_t = 128 * 1024)]
        read_buffer: usize,
    },
}

/// Upper bounds per scenario: a stuck server must not hold the run hostage; on expiry the
/// scenario future is dropped and its guards kill the children.
const INGEST_BUDGET: Duration = Duration::from_secs(420);
const E2E_BUDGET: Duration = Duration::from_secs(200);
const SOCKETS_BUDGET: Duration = Duration::from_secs(150);
const CLUSTER_BUDGET: Duration = Duration::from_secs(240);
const UI_BUDGET: Duration = Duration::from_secs(150);
const CAMPAIGN_BUDGET: Duration = Duration::from_secs(240);
const WIDGET_BUDGET: Duration = Duration::from_secs(240);
const SCALE_BUDGET: Duration = Duration::from_secs(480);

fn main() -> ExitCode {
    // sqlx links ring and reqwest aws-lc-rs: one default provider must be chosen up front.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::BareHttp { port } => baselines::run_bare_http(port),
        Cmd::BareWsBroadcast { port, ws_port } => baselines::run_bare_ws_broadcast(port, ws_port),
        Cmd::BareWsEcho { port, read_buffer } => baselines::run_bare_ws_echo(port, read_buffer),
        scenario => run_scenarios(scenario),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load-tests: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_scenarios(cmd: Cmd) -> Result<()> {
    // Children inherit the limit, so it is raised before anything is spawned.
    match stats::raise_nofile_limit() {
        Ok(n) => println!("open-file limit: {n}"),
        Err(e) => eprintln!("could not raise the open-file limit: {e}"),
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        // On Ctrl-C or SIGTERM the scenarios' future is dropped, so the guards kill the children
        // and drop the scratch databases (the kernel kills the children anyway if we die hard).
        tokio::select! {
            r = run_list(cmd) => r,
            signal = shutdown_signal() => Err(format!("interrupted by {signal}; cleaned up").into()),
        }
    })
}

async fn shutdown_signal() -> &'static str {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term => "SIGTERM",
    }
}

async fn run_list(cmd: Cmd) -> Result<()> {
    let list: Vec<(&str, Duration)> = match cmd {
        Cmd::Ingest => vec![("ingest", INGEST_BUDGET)],
        Cmd::E2e => vec![("e2e", E2E_BUDGET)],
        Cmd::Sockets => vec![("sockets", SOCKETS_BUDGET)],
        Cmd::Cluster => vec![("cluster", CLUSTER_BUDGET)],
        Cmd::Ui => vec![("ui", UI_BUDGET)],
        Cmd::Campaign => vec![("campaign", CAMPAIGN_BUDGET)],
        Cmd::Widget => vec![("widget", WIDGET_BUDGET)],
        Cmd::Scale => vec![("scale", SCALE_BUDGET)],
        _ => vec![
            ("ingest", INGEST_BUDGET),
            ("e2e", E2E_BUDGET),
            ("sockets", SOCKETS_BUDGET),
            ("cluster", CLUSTER_BUDGET),
            ("ui", UI_BUDGET),
            ("campaign", CAMPAIGN_BUDGET),
            ("widget", WIDGET_BUDGET),
            ("scale", SCALE_BUDGET),
        ],
    };
    let binary = server::ensure_server_binary().await?;
    let everything = std::time::Instant::now();
    let mut failed = Vec::new();
    let mut summary = String::new();
    for (name, budget) in &list {
        let (name, budget) = (*name, *budget);
        println!("\n=== {name} (budget {} s) ===", budget.as_secs());
        // Another job's burst (a compile on the same 2 cores) would land in the figures.
        let background = stats::wait_for_quiet(Duration::from_secs(20)).await;
        if background >= 25.0 {
            println!("machine still {background:.0}% busy with other work: the cpu columns will show it");
        }
        let started = std::time::Instant::now();
        let fut = async {
            match name {
                "ingest" => scenarios::ingest::run(&binary).await,
                "e2e" => scenarios::e2e::run(&binary).await,
                "sockets" => scenarios::sockets::run(&binary).await,
                "ui" => scenarios::ui::run(&binary).await,
                "campaign" => scenarios::campaign::run(&binary).await,
                "widget" => scenarios::widget::run(&binary).await,
                "scale" => scenarios::scale::run(&binary).await,
                _ => scenarios::cluster::run(&binary).await,
            }
        };
        let outcome = match tokio::time::timeout(budget, fut).await {
            Ok(Ok(mut report)) => {
                report.set("machineBusyPctBeforeStart", serde_json::json!(background));
                report.set("durationSecs", serde_json::json!(started.elapsed().as_secs_f64()));
                report.finish(name)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(format!("{name} exceeded its {} s budget", budget.as_secs()).into()),
        };
        // Let killed children release their ports and files before the next scenario.
        tokio::time::sleep(Duration::from_millis(500)).await;
        match outcome {
            Ok(tables) => {
                println!("{name} finished in {:.0} s", started.elapsed().as_secs_f64());
                summary.push_str(&tables);
            }
            Err(e) => {
                eprintln!("{name} failed after {:.0} s: {e}", started.elapsed().as_secs_f64());
                summary.push_str(&format!("\n{name}: FAILED: {e}\n"));
                failed.push(name);
            }
        }
    }
    if list.len() > 1 {
        println!("\n=== summary ({:.0} s) ==={summary}", everything.elapsed().as_secs_f64());
    }
    if failed.is_empty() { Ok(()) } else { Err(format!("failed: {}", failed.join(", ")).into()) }
}
