//! `cx-inbox demo`: the product alive on a fresh machine with nothing to configure. It runs the
//! real server on a fresh SQLite database in `<data dir>/demo`, seeds an organization through the
//! public API (as an admin would), and starts two local stand-ins for the outside world on a
//! loopback port: a WhatsApp Cloud API that accepts every send and reports it delivered and read
//! through signed status webhooks, and a deterministic OpenAI-compatible model for the bot, so no
//! key is needed. Simulated customers then write in on a timer through the signed webhook, the
//! same path Meta's deliveries take.

mod customers;
mod fakes;
mod seed;

use std::time::Duration;

use rand::Rng;

use crate::config::{Config, DemoArgs};
use crate::startup::Application;

/// Runs the demo until Ctrl-C.
pub async fn run(mut config: Config, args: DemoArgs) -> Result<(), Box<dyn std::error::Error>> {
    let dir = config.data_dir.join("demo");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("cannot empty {}: {e}", dir.display()))?;
    }
    config.data_dir = dir;
    // The demo never touches a configured database or cluster: its data is its own.
    config.database_url = None;
    config.redis_url = None;
    config.jwt_secret = None;
    config.secrets_key = None;
    config.smtp_url = None;
    config.dev_endpoints = Some(true);
    let app_secret = hex::encode(rand::rng().random::<[u8; 16]>());
    config.whatsapp_app_secret = Some(app_secret.clone());
    config.whatsapp_verify_token = Some(hex::encode(rand::rng().random::<[u8; 8]>()));

    let outside = fakes::Outside::start(app_secret.clone())?;
    config.whatsapp_graph_url = outside.graph_url();
    if !config.llm_private_hosts.iter().any(|h| h == "127.0.0.1") {
        config.llm_private_hosts.push("127.0.0.1".into());
    }

    let app = Application::build(config.clone()).await?;
    let base = format!("http://{}", app.address());
    outside.serve_webhooks_to(&base);
    let server = actix_web::rt::spawn(app.run_until_signal());

    let seeded = match seed::seed(&base, &outside.model_url()).await {
        Ok(s) => s,
        Err(e) => {
            server.abort();
            return Err(format!("seeding the demo failed: {e}").into());
        }
    };
    print_banner(&base, &seeded);

    let http = reqwest::Client::builder().timeout(Duration::from_secs(15)).build()?;
    let driver = customers::Customers::new(http, &base, &app_secret, &seeded.phone_number_id, args.customers);
    let every = Duration::from_secs(args.every_secs.max(1));
    let customers = actix_web::rt::spawn(driver.run(every));
    let result = server.await;
    customers.abort();
    result.map_err(|e| format!("the server task failed: {e}"))??;
    Ok(())
}

fn print_banner(base: &str, s: &seed::Seeded) {
    println!();
    println!("  cx-inbox demo is running: open {base}/");
    println!();
    println!("  admin   {:<32} password {}", s.admin.0, s.admin.1);
    for (email, password) in &s.agents {
        println!("  agent   {email:<32} password {password}");
    }
    println!();
    println!("  Simulated customers write in every few seconds; the bot answers from the shop's FAQ and");
    println!("  hands refunds and requests for a person to the Support and Sales teams. Take over and reply:");
    println!("  the simulated WhatsApp API accepts the send and reports it delivered, then read.");
    println!("  Data: a fresh SQLite database under the data directory's demo/ folder. Ctrl-C stops.");
    println!();
}
