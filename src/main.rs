//! The `offboard` command: serve, migrate, seed, create-owner.

use std::io::Read;

use clap::{Parser, Subcommand};
use offboard::db::{self, DbUrl};
use offboard::services::{self, seed};
use offboard::{app, AppState, Config};

#[derive(Parser)]
#[command(
    name = "offboard",
    about = "Offboard: deactivate, unlink and delete users of an organisation account"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the portal.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        /// Seed the demo account first when the database is empty.
        #[arg(long)]
        demo: bool,
        /// Worker threads (default: one per core).
        #[arg(long)]
        workers: Option<usize>,
    },
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Fill the database with the demo account or a large benchmark account.
    Seed {
        #[arg(long)]
        demo: bool,
        /// A benchmark account with this many users.
        #[arg(long)]
        users: Option<i64>,
    },
    /// Run the auto-delete sweeper once (deletions, warnings, mail delivery) and exit.
    Sweep,
    /// Create a new account and its owner; the password is read from standard input.
    CreateOwner {
        #[arg(long)]
        email: String,
    },
    /// Create or revoke an API token (the REST API under /v2).
    #[command(subcommand)]
    ApiToken(ApiTokenCommand),
}

#[derive(Subcommand)]
enum ApiTokenCommand {
    /// Create a token held by --owner; prints it as the last word (shown once).
    Create {
        /// The account owner, or an admin allowed to manage API tokens.
        #[arg(long)]
        owner: String,
        #[arg(long)]
        name: String,
        /// Comma-separated: user:read, user:write, user:delete, import, scim.
        #[arg(long)]
        scopes: String,
        /// Days until it expires (1-365, default 90).
        #[arg(long)]
        days: Option<i64>,
    },
    /// Revoke the live token called NAME of --owner's account.
    Revoke {
        name: String,
        #[arg(long)]
        owner: String,
    },
}

type AnyError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), AnyError> {
    offboard::tune_allocator();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve {
        bind: "127.0.0.1:8080".into(),
        demo: false,
        workers: None,
    });
    match command {
        Command::Serve { bind, demo, workers } => {
            let config = Config::from_env(&bind)?;
            let pool = db::connect(&config.database, 16)?;
            if demo {
                let mut conn = pool.get()?;
                if !seed::has_accounts(&mut conn)? {
                    print_demo(&seed_demo(&mut conn)?, &config);
                }
            }
            let mailer = offboard::mail::SmtpMailer::from_env().transpose()?;
            let limits = offboard::domain::signin::SessionLimits {
                idle: config.session_idle,
                lifetime: config.session_lifetime,
            };
            offboard::worker::spawn(pool.clone(), mailer, limits)?;
            serve(AppState::new(pool, config), &bind, workers)?;
        }
        Command::Migrate => {
            let url = database_url();
            db::connect(&url, 1)?;
            println!("migrations are up to date");
        }
        Command::Seed { demo, users } => {
            let config = Config::from_env("127.0.0.1:8080")?;
            let pool = db::connect(&config.database, 2)?;
            let mut conn = pool.get()?;
            if demo {
                print_demo(&seed_demo(&mut conn)?, &config);
            }
            if let Some(n) = users {
                let password = demo_password();
                let started = std::time::Instant::now();
                let hash = services::auth::hash_password(&password, false)?;
                let seeded = seed::seed_big(&mut conn, n, hash, services::now())?;
                if let db::DbConn::Sqlite(_) = &mut *conn {
                    diesel::connection::SimpleConnection::batch_execute(&mut *conn, "ANALYZE")?;
                }
                println!(
                    "seeded {} users in {:.1} s",
                    seeded.users,
                    started.elapsed().as_secs_f64()
                );
                println!(
                    "sign in at {}/login as {} with password {}",
                    config.public_url, seeded.owner_email, password
                );
            }
            if !demo && users.is_none() {
                return Err("say what to seed: --demo or --users N".into());
            }
        }
        Command::Sweep => {
            let pool = db::connect(&database_url(), 2)?;
            let mailer = offboard::mail::SmtpMailer::from_env().transpose()?;
            let report = offboard::worker::sweep_once(
                &pool,
                mailer.as_ref().map(|m| m as &dyn offboard::mail::Mailer),
                services::now(),
            )?;
            println!(
                "deleted {} users, skipped {}, queued {} warnings, sent {} mails ({} failed)",
                report.0.deleted, report.0.skipped, report.0.warnings, report.1 .0, report.1 .1
            );
        }
        Command::CreateOwner { email } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            if password.len() < 8 {
                return Err("the password (read from standard input) needs at least 8 characters".into());
            }
            let url = database_url();
            let pool = db::connect(&url, 1)?;
            let hash = services::auth::hash_password(&password, false)?;
            let seeded = seed::create_owner(&mut *pool.get()?, &email, hash, services::now())?;
            println!(
                "created account {} with owner {}",
                seeded.account_id, seeded.owner_email
            );
        }
        Command::ApiToken(command) => api_token(command)?,
    }
    Ok(())
}

/// `api-token create|revoke`, under the same rights as on the API page.
fn api_token(command: ApiTokenCommand) -> Result<(), AnyError> {
    let pool = db::connect(&database_url(), 1)?;
    let mut conn = pool.get()?;
    let owner = match &command {
        ApiTokenCommand::Create { owner, .. } | ApiTokenCommand::Revoke { owner, .. } => owner,
    };
    let user = services::users::find_any_by_email(&mut conn, owner)?.ok_or_else(|| format!("no user {owner}"))?;
    let by = services::api_tokens::actor_info(&mut conn, &user, offboard::i18n::Lang::En, false)?;
    let now = services::now();
    match command {
        ApiTokenCommand::Create { name, scopes, days, .. } => {
            let created = services::api_tokens::create(&mut conn, &by, &name, &scopes, days, now)?;
            println!(
                "created API token {} ({}), expires {}; it is shown once:",
                created.row.name,
                created.row.scopes,
                created.row.expires_at.format("%Y-%m-%d")
            );
            println!("{}", created.token);
        }
        ApiTokenCommand::Revoke { name, .. } => {
            let name = services::api_tokens::revoke_by_name(&mut conn, &by, &name, now)?;
            println!("revoked API token {name}");
        }
    }
    Ok(())
}

fn database_url() -> DbUrl {
    DbUrl::parse(&std::env::var("DATABASE_URL").unwrap_or_else(|_| offboard::config::DEFAULT_DATABASE.into()))
}

/// `OFFBOARD_DEMO_PASSWORD`, else a fresh random one.
fn demo_password() -> String {
    std::env::var("OFFBOARD_DEMO_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| {
            use rand::Rng;
            let bytes: [u8; 9] = rand::rng().random();
            offboard::config::encode_hex(&bytes)
        })
}

fn seed_demo(conn: &mut db::DbConn) -> Result<(seed::Seeded, String), AnyError> {
    let password = demo_password();
    let hash = services::auth::hash_password(&password, false)?;
    Ok((seed::seed_demo(conn, &hash, services::now())?, password))
}

fn print_demo((seeded, password): &(seed::Seeded, String), config: &Config) {
    println!("Demo account seeded: {} users.", seeded.users);
    println!("Sign in at {}/login", config.public_url);
    println!("  owner:    {}  password: {}", seeded.owner_email, password);
    println!("  admin:    admin@acme.example (same password)");
    println!("  helpdesk: helpdesk@acme.example (admin with the bulk privilege; same password)");
}

#[actix_web::main]
async fn serve(state: AppState, bind: &str, workers: Option<usize>) -> std::io::Result<()> {
    tracing::info!("Offboard listening on http://{bind}");
    let mut server = actix_web::HttpServer::new(move || app(state.clone()));
    if let Some(w) = workers {
        server = server.workers(w);
    }
    server.bind(bind)?.run().await
}
