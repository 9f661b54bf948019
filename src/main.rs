use std::process::ExitCode;

use clap::Parser;
use cx_inbox::config::{Cli, Command, Config, CreateAdmin, DEFAULT_LOG};
use cx_inbox::startup::{self, Application};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    cx_inbox::install_crypto_provider();
    let cli = Cli::parse();
    // The demo talks to a person at a terminal: its banner and what the customers write, and
    // warnings, unless a filter was asked for.
    let quiet_demo = matches!(cli.command, Some(Command::Demo(_))) && cli.config.log == DEFAULT_LOG;
    let wanted = if quiet_demo { "warn,cx_inbox::demo=info" } else { cli.config.log.as_str() };
    let filter = EnvFilter::try_new(wanted).unwrap_or_else(|_| EnvFilter::new("info"));
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
        Command::CreateAdmin(args) => create_admin(&config, args).await,
        Command::Demo(args) => cx_inbox::demo::run(config, args).await,
        Command::Serve => {
            let app = Application::build(config.clone()).await?;
            let base = format!("http://{}", app.address());
            // The address first, before the log lines: this is what a new user looks for.
            println!("\n  cx-inbox is running: open {base}/ in your browser\n");
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
            if config.smtp_url.is_none() {
                tracing::info!("CX_SMTP_URL is not set: mail is kept in the dev mailbox (GET /api/v1/dev/mailbox)");
            }
            app.run_until_signal().await?;
            tracing::info!("stopped");
            Ok(())
        }
    }
}

/// `create-admin`: an organization and its first admin, for a real install.
async fn create_admin(config: &Config, args: CreateAdmin) -> Result<(), Box<dyn std::error::Error>> {
    use cx_inbox::auth::users;
    use entities::enums::Role;
    config.secrets()?;
    let db = startup::connect_and_migrate(config).await?;
    let email = users::valid_email(&args.email).map_err(|e| e.to_string())?;
    let name = users::required("name", &args.name, 200).map_err(|e| e.to_string())?.to_owned();
    let company = users::required("company", &args.company, 200).map_err(|e| e.to_string())?.to_owned();
    let (password, generated) = match args.password {
        Some(p) => (p, false),
        None => (cx_inbox::crypto::random_password(), true),
    };
    users::valid_password_as("password", &password).map_err(|e| e.to_string())?;
    let hash = users::hash_password(password.clone()).await.map_err(|e| e.to_string())?;
    let role = if args.super_admin { Role::SuperAdmin } else { Role::Admin };
    let (org, user) =
        users::register_organization(&db, company, name, email, hash, role).await.map_err(|e| e.to_string())?;
    println!("created {} {} in organization {:?} ({})", role.as_str(), user.email, org.name, org.id);
    if generated {
        println!("password: {password}   (shown once; change it after signing in)");
    }
    Ok(())
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
