//! The `offboard` command: serve, migrate, seed, create-owner.

use std::io::Read;

/// See Cargo.toml: fewer locks per request than glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use offboard::db;
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
    /// Webhook endpoints: add one, or send its validation challenge again.
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Create or revoke an API token (the REST API under /v2).
    #[command(subcommand)]
    ApiToken(ApiTokenCommand),
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Add an endpoint: prints its secret first, then sends the validation challenge.
    Add {
        /// The owner or admin who adds it (needs the right to manage webhooks).
        #[arg(long)]
        owner: String,
        #[arg(long)]
        url: String,
        /// Comma-separated: user.deactivated,user.activated,user.disassociated,user.deleted,user.updated
        #[arg(long)]
        events: String,
    },
    /// Send the validation challenge to an endpoint again.
    Validate {
        #[arg(long)]
        owner: String,
        #[arg(long)]
        url: String,
    },
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

/// Errors end the command with their message (not their debug form) and status 1.
fn main() -> std::process::ExitCode {
    offboard::purge_freed_memory_at_once();
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("offboard: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), AnyError> {
    // With the `tracing-log` feature `init` also forwards the `log` records
    // of the dependencies (r2d2's pool errors, actix-files) into tracing.
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
        Command::Serve { bind, demo, workers } => serve_command(&bind, demo, workers),
        Command::Migrate => {
            let config = Config::settings_from_env(DEFAULT_BIND)?;
            db::connect(&config.database, 1)?;
            println!("migrations are up to date");
            Ok(())
        }
        Command::Seed { demo, users } => seed_command(demo, users),
        Command::Sweep => sweep_command(),
        Command::Webhook { command } => webhook(command),
        Command::CreateOwner { email } => create_owner(&email),
        Command::ApiToken(command) => api_token(command),
    }
}

/// `serve`: the portal, its worker and its webhook sender.
fn serve_command(bind: &str, demo: bool, workers: Option<usize>) -> Result<(), AnyError> {
    let config = Config::from_env(bind)?;
    let pool = db::connect_serving(&config.database, config.db_pool)?;
    // Named by host and address: restarted there, it takes its own CSV job back at once.
    offboard::cluster::set_instance(format!("{}/{bind}", offboard::cluster::host_name()));
    if demo {
        let mut conn = pool.get()?;
        if !seed::has_accounts(&mut conn)? {
            print_demo(&seed_demo(&mut conn, &config)?, &config);
        }
    }
    let mailer = offboard::mail::SmtpMailer::from_config(&config).transpose()?;
    offboard::worker::spawn(pool.clone(), mailer, offboard::worker::Settings::of(&config))?;
    offboard::webhooks::spawn(pool.clone(), config.webhooks.clone())?;
    serve(AppState::new(pool, config), bind, workers)?;
    Ok(())
}

/// `seed --demo` and/or `seed --users N`.
fn seed_command(demo: bool, users: Option<i64>) -> Result<(), AnyError> {
    if !demo && users.is_none() {
        return Err("say what to seed: --demo or --users N".into());
    }
    let config = Config::from_env(DEFAULT_BIND)?;
    let pool = db::connect(&config.database, 2)?;
    let mut conn = pool.get()?;
    if demo {
        print_demo(&seed_demo(&mut conn, &config)?, &config);
    }
    if let Some(n) = users {
        let password = demo_password(&config);
        let started = std::time::Instant::now();
        let hash = services::auth::hash_password(&password, false)?;
        let seeded = seed::seed_big(&mut conn, n, hash, services::now())?;
        // Fresh statistics on both databases: PostgreSQL's autovacuum would
        // analyze a million new rows only a minute or more later, and until
        // then plans a batch's `id = ANY(...)` UPDATE as a walk of the
        // account's whole status index (a 100,000-row CSV took 57 s, not 10).
        diesel::connection::SimpleConnection::batch_execute(&mut *conn, "ANALYZE")?;
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
    Ok(())
}

/// `sweep`: one pass of the sweeper and the mail outbox.
fn sweep_command() -> Result<(), AnyError> {
    let config = Config::settings_from_env(DEFAULT_BIND)?;
    let pool = db::connect(&config.database, 2)?;
    let mailer = offboard::mail::SmtpMailer::from_config(&config).transpose()?;
    let report = offboard::worker::sweep_once(
        &pool,
        mailer.as_ref().map(|m| m as &dyn offboard::mail::Mailer),
        config.job_retention_days,
        services::now(),
    )?;
    println!(
        "deleted {} users, skipped {}, queued {} warnings, sent {} mails ({} failed)",
        report.0.deleted, report.0.skipped, report.0.warnings, report.1 .0, report.1 .1
    );
    Ok(())
}

/// `create-owner`: a new account and its owner, the password from stdin.
fn create_owner(email: &str) -> Result<(), AnyError> {
    let email = offboard::email::parse(email).ok_or_else(|| format!("'{email}' is not an email address"))?;
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    if password.len() < 8 {
        return Err("the password (read from standard input) needs at least 8 characters".into());
    }
    let config = Config::settings_from_env(DEFAULT_BIND)?;
    let pool = db::connect(&config.database, 1)?;
    let hash = services::auth::hash_password(&password, false)?;
    let seeded = seed::create_owner(&mut *pool.get()?, &email, hash, services::now())?;
    println!(
        "created account {} with owner {}",
        seeded.account_id, seeded.owner_email
    );
    Ok(())
}

/// `api-token create|revoke`, under the same rights as on the API page.
fn api_token(command: ApiTokenCommand) -> Result<(), AnyError> {
    let config = Config::settings_from_env(DEFAULT_BIND)?;
    let pool = db::connect(&config.database, 1)?;
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

/// `offboard webhook add|validate`: the secret is printed and flushed before
/// the challenge goes out, since the receiver needs it to answer.
fn webhook(command: WebhookCommand) -> Result<(), AnyError> {
    use offboard::domain::webhooks::EventKind;
    use offboard::services::webhooks as hooks;
    use std::io::Write;
    let config = Config::settings_from_env(DEFAULT_BIND)?;
    let settings = config.webhooks.clone();
    let pool = db::connect(&config.database, 1)?;
    let mut conn = pool.get()?;
    let (owner, url) = match &command {
        WebhookCommand::Add { owner, url, .. } | WebhookCommand::Validate { owner, url } => (owner, url),
    };
    let (by, custom_role) = offboard::services::users::actor_by_email(&mut conn, owner)?;
    hooks::check_manager(&mut conn, &by, custom_role)?;
    let endpoint = match command {
        WebhookCommand::Add { events, url, .. } => {
            offboard::webhooks::check_destination(&url, settings.allow_private)?;
            let kinds = EventKind::parse_list(&events).map_err(|bad| format!("unknown event \"{bad}\""))?;
            let endpoint = hooks::add_endpoint(&mut conn, &by, &url, &kinds, services::now())?;
            println!("endpoint added; secret token: {}", endpoint.secret);
            std::io::stdout().flush()?;
            endpoint
        }
        WebhookCommand::Validate { .. } => hooks::find_by_url(&mut conn, by.account_id, url)?,
    };
    match offboard::webhooks::validate(&endpoint.url, &endpoint.secret, settings.allow_private) {
        Ok(()) => {
            hooks::set_validated(&mut conn, endpoint.id, true, services::now())?;
            println!("validated: {} receives events", endpoint.url);
        }
        Err(why) => {
            hooks::set_validated(&mut conn, endpoint.id, false, services::now())?;
            eprintln!("warning: validation failed ({why}); the endpoint is kept but gets nothing until validated");
        }
    }
    Ok(())
}

const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// `OFFBOARD_DEMO_PASSWORD`, else a fresh random one.
fn demo_password(config: &Config) -> String {
    config.demo_password.clone().unwrap_or_else(|| {
        use rand::Rng;
        let bytes: [u8; 9] = rand::rng().random();
        offboard::config::encode_hex(&bytes)
    })
}

fn seed_demo(conn: &mut db::DbConn, config: &Config) -> Result<(seed::Seeded, String), AnyError> {
    let password = demo_password(config);
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
