use std::process::ExitCode;

use clap::Parser;
use cx_inbox::config::{Cli, Command};
use cx_inbox::startup::{self, Application};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    cx_inbox::install_crypto_provider();
    let cli = Cli::parse();
    let filter = EnvFilter::try_new(&cli.config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    if cli.config.log_json {
        tracing_subscriber::fmt().with_env_filter(filter).json().init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let result = actix_web::rt::System::new().block_on(run(cli));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("cx-inbox: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => {
            config.secrets()?;
            startup::connect_and_migrate(&config).await?;
            tracing::info!(database = %redact(&config.database_url()), "migrations applied");
            Ok(())
        }
        Command::Serve => {
            let app = Application::build(config.clone()).await?;
            let base = format!("http://{}", app.address());
            tracing::info!(
                database = %redact(&config.database_url()),
                data_dir = %config.data_dir.display(),
                "cx-inbox listening on {base}"
            );
            tracing::info!(
                "API docs: {base}/api/v1/docs/  —  create your organization with POST {base}/api/v1/auth/register"
            );
            if config.whatsapp_app_secret.is_none() {
                tracing::warn!("CX_WHATSAPP_APP_SECRET is not set: WhatsApp webhooks will be refused until it is");
            }
            app.run_until_signal().await?;
            tracing::info!("stopped");
            Ok(())
        }
    }
}

/// The database URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..s], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}
