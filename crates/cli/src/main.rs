//! `greenplan`: the command line of an NHS Integrated Care System's green plan.
//!
//! Argument parsing and wiring only: every rule lives in `greenplan-core`, every file format in
//! `greenplan-ingest`, every query in `greenplan-store`.

#![forbid(unsafe_code)]
// The doc comments here are also the `--help` text, which clap prints verbatim: optional
// columns in brackets and bare addresses read right on a terminal, so rustdoc may not rewrite them.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::bare_urls)]

mod activity_cmd;
mod factors_cmd;
mod medicines_cmd;
mod output;
mod pathway_cmd;
mod people_cmd;
mod plan_cmd;
mod registers_cmd;
mod reminders_cmd;
mod report_cmd;
mod returns_cmd;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use greenplan_store::Store;
use std::path::PathBuf;

/// greenplan: an NHS ICS green plan, its carbon footprint and its progress.
#[derive(Parser)]
#[command(name = "greenplan", version, about, long_about = None)]
struct Cli {
    /// Database: a SQLite file path (created if missing) or a postgres:// URL.
    #[arg(
        long,
        global = true,
        env = "GREENPLAN_DB",
        default_value = "greenplan.db"
    )]
    db: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load the built-in Derbyshire plan (or another) into the database. Safe to run twice.
    Init {
        /// Load this plan file instead of the built-in one.
        #[arg(long, conflicts_with = "empty")]
        plan: Option<PathBuf>,
        /// Create the database with no plan.
        #[arg(long)]
        empty: bool,
        /// Also import every conversion factor file (.xls/.xlsx) in this folder.
        #[arg(long, env = "GREENPLAN_FACTORS_DIR")]
        factors: Option<PathBuf>,
    },
    /// Run the web application.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "GREENPLAN_ADDR", default_value = "127.0.0.1:8080")]
        addr: String,
        /// Load this plan if the database is empty (default: the built-in plan).
        #[arg(long)]
        plan: Option<PathBuf>,
        /// Import every conversion factor file in this folder on start, if none are loaded.
        #[arg(long, env = "GREENPLAN_FACTORS_DIR")]
        factors: Option<PathBuf>,
        /// Require signing in to read anything (by default anyone may read the plan).
        #[arg(long, env = "GREENPLAN_REQUIRE_LOGIN")]
        require_login: bool,
        /// Served over HTTPS (e.g. behind a proxy): mark cookies Secure and send HSTS.
        #[arg(long, env = "GREENPLAN_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Open survey link: starts and answers one client may make to a survey a minute.
        #[arg(long, env = "GREENPLAN_SURVEY_PER_CLIENT_PER_MINUTE", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
        survey_per_client_per_minute: u32,
        /// Open survey link: starts and answers of a survey an hour from everyone.
        #[arg(long, env = "GREENPLAN_SURVEY_PER_HOUR", default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..))]
        survey_per_hour: u32,
        /// A header a trusted proxy sets to the client's address (e.g. X-Forwarded-For); only
        /// behind such a proxy: unset, the connection's address is used and no header believed.
        #[arg(long, env = "GREENPLAN_CLIENT_ADDRESS_HEADER")]
        client_address_header: Option<String>,
        /// The address people use to reach the site, e.g. https://greenplan.example.nhs.uk:
        /// unsafe requests must come from it (not whatever `Host` a request names), and links
        /// handed out (survey invitations) start with it.
        #[arg(long, env = "GREENPLAN_PUBLIC_URL")]
        public_url: Option<greenplan_web::PublicUrl>,
        /// Send reminder digests every day at --reminders-at (as `greenplan reminders send`;
        /// needs GREENPLAN_SMTP_URL and GREENPLAN_MAIL_FROM). Several servers on one database
        /// send once between them.
        #[arg(long, env = "GREENPLAN_SEND_REMINDERS")]
        send_reminders: bool,
        /// The local time of day reminders go, as HH:MM.
        #[arg(long, env = "GREENPLAN_REMINDERS_AT", default_value = "07:00", value_parser = parse_time_of_day)]
        reminders_at: chrono::NaiveTime,
        #[command(flatten)]
        connections: ConnectionArgs,
    },
    /// Conversion factors: import the official flat files or your own, list them.
    #[command(subcommand)]
    Factors(factors_cmd::FactorsCommand),
    /// Activity data (energy, fuel, travel, waste, water…) from CSV or XLSX.
    #[command(subcommand)]
    Activity(activity_cmd::ActivityCommand),
    /// The carbon footprint, from stored activity or straight from a file.
    Footprint(activity_cmd::FootprintArgs),
    /// The care pathway carbon calculator: the carbon a pathway change saves, from counts of
    /// care activities avoided (or before and after) and care-activity factors.
    Pathway(pathway_cmd::PathwayArgs),
    /// Quarterly data returns: open a reporting period, see who has submitted and who is late.
    #[command(subcommand)]
    Returns(returns_cmd::ReturnsCommand),
    /// Inhaler prescribing from the English Prescribing Dataset: import, measures, league table.
    #[command(subcommand)]
    Prescribing(medicines_cmd::PrescribingCommand),
    /// Anaesthetic gas returns: import, and kgCO2e with a chosen GWP set.
    #[command(subcommand, name = "anaesthetic-gases")]
    AnaestheticGases(medicines_cmd::GasCommand),
    /// Registers (sites, vehicles, contracts, spend, training…): records, figures, import and
    /// export.
    #[command(subcommand)]
    Registers(registers_cmd::RegistersCommand),
    /// The plan's priority actions.
    #[command(subcommand)]
    Actions(plan_cmd::ActionsCommand),
    /// The plan's metrics, their targets, trajectories and ratings.
    #[command(subcommand)]
    Metrics(plan_cmd::MetricsCommand),
    /// People who sign in, and their roles per organisation.
    #[command(subcommand)]
    User(people_cmd::UserCommand),
    /// API tokens for scripts.
    #[command(subcommand)]
    Token(people_cmd::TokenCommand),
    /// Save every table (the audit trail included) to FILE in a portable format (JSON Lines),
    /// readable by either database.
    Backup { file: PathBuf },
    /// Restore a backup into this database, which must be new and empty (SQLite or
    /// PostgreSQL, whichever made the backup). All or nothing.
    Restore { file: PathBuf },
    /// Governance reports: the quarterly Delivery Group pack and the annual Board report.
    #[command(subcommand)]
    Report(report_cmd::ReportCommand),
    /// Reminder e-mails: one digest per person of what needs them (overdue and stale actions,
    /// milestones, returns due or late, assessments to review), each task sent once.
    #[command(subcommand)]
    Reminders(reminders_cmd::RemindersCommand),
    /// The audit trail: every change, who made it, when, before and after.
    Audit {
        /// One record, as KIND:ID (action:MED1, metric:inhaler-carbon, user:EMAIL).
        #[arg(long)]
        entity: Option<String>,
        #[arg(long, default_value_t = 200)]
        limit: i64,
        #[arg(long, value_enum, default_value_t)]
        format: output::Format,
    },
}

/// Limits on clients' connections to `serve` (defaults from `greenplan_web::connections`).
/// Timeouts are 1 s to a day: the timers add them to the clock, and a huge one would overflow.
#[derive(clap::Args)]
struct ConnectionArgs {
    /// Seconds a client may take to send a request's head; also how long a keep-alive
    /// connection waits for its next request.
    #[arg(long, env = "GREENPLAN_HEADER_READ_TIMEOUT", value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..=86_400),
        default_value_t = greenplan_web::connections::ConnectionLimits::default().header_read_timeout.as_secs())]
    header_read_timeout: u64,
    /// Seconds a connection may stay with no byte moving and no request being handled.
    #[arg(long, env = "GREENPLAN_IDLE_TIMEOUT", value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..=86_400),
        default_value_t = greenplan_web::connections::ConnectionLimits::default().idle_timeout.as_secs())]
    idle_timeout: u64,
    /// Seconds the server waits for the next piece of a request's body (an upload).
    #[arg(long, env = "GREENPLAN_BODY_READ_TIMEOUT", value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..=86_400),
        default_value_t = greenplan_web::connections::ConnectionLimits::default().body_read_timeout.as_secs())]
    body_read_timeout: u64,
    /// Most connections open at once (more wait to be accepted); lowered to fit the
    /// open-file limit, which is raised to its hard limit at start.
    #[arg(long, env = "GREENPLAN_MAX_CONNECTIONS",
        value_parser = clap::value_parser!(u64).range(1..=1_000_000),
        default_value_t = greenplan_web::connections::ConnectionLimits::default().max_connections as u64)]
    max_connections: u64,
}

impl ConnectionArgs {
    fn limits(&self) -> greenplan_web::connections::ConnectionLimits {
        use std::time::Duration;
        greenplan_web::connections::ConnectionLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout),
            idle_timeout: Duration::from_secs(self.idle_timeout),
            body_read_timeout: Duration::from_secs(self.body_read_timeout),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
        }
    }
}

fn main() -> std::process::ExitCode {
    match real_main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The whole cause chain, without a backtrace: these messages are for users.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GREENPLAN_LOG")
                .unwrap_or_else(|_| "warn,greenplan=info,sqlx=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> Result<()> {
    let store = Store::connect(&cli.db)
        .await
        .with_context(|| format!("opening the database {}", cli.db))?;
    let result = match cli.command {
        Command::Init {
            plan,
            empty,
            factors,
        } => plan_cmd::init(&store, plan.as_deref(), empty, factors.as_deref()).await,
        Command::Serve {
            addr,
            plan,
            factors,
            require_login,
            secure_cookies,
            survey_per_client_per_minute,
            survey_per_hour,
            client_address_header,
            public_url,
            send_reminders,
            reminders_at,
            connections,
        } => {
            if send_reminders {
                // Checked before the server starts: a typo in the mail settings must not wait
                // until tomorrow morning to show.
                let base = public_url
                    .as_ref()
                    .map_or_else(|| format!("http://{addr}"), |u| u.base().to_string());
                let mail = greenplan_service::reminders::MailConfig::from_env(&base)?;
                tokio::spawn(reminders_daily(store.clone(), mail, reminders_at));
            }
            let config = greenplan_web::WebConfig {
                secure_cookies,
                require_login,
                survey_limits: greenplan_web::SurveyLimits {
                    per_client_per_minute: survey_per_client_per_minute,
                    per_survey_per_hour: survey_per_hour,
                    client_address_header,
                },
                public_url,
                connections: connections.limits(),
            };
            serve(&store, &addr, plan, factors, config).await
        }
        Command::Factors(c) => factors_cmd::run(&store, c).await,
        Command::Activity(c) => activity_cmd::run(&store, c).await,
        Command::Footprint(args) => activity_cmd::footprint(&store, args).await,
        Command::Prescribing(c) => medicines_cmd::run(&store, c).await,
        Command::AnaestheticGases(c) => medicines_cmd::gases(&store, c).await,
        Command::Registers(c) => registers_cmd::run(&store, c).await,
        Command::Actions(c) => plan_cmd::actions(&store, c).await,
        Command::Returns(c) => returns_cmd::run(&store, c).await,
        Command::Pathway(args) => pathway_cmd::run(args),
        Command::Metrics(c) => plan_cmd::metrics(&store, c).await,
        Command::User(c) => people_cmd::user(&store, c).await,
        Command::Token(c) => people_cmd::token(&store, c).await,
        Command::Backup { file } => backup(&store, &file).await,
        Command::Restore { file } => restore(&store, &file).await,
        Command::Report(c) => report_cmd::run(&store, c).await,
        Command::Reminders(c) => reminders_cmd::run(&store, c).await,
        Command::Audit {
            entity,
            limit,
            format,
        } => people_cmd::audit(&store, entity, limit, format).await,
    };
    store.close().await;
    result
}

async fn serve(
    store: &Store,
    addr: &str,
    plan: Option<PathBuf>,
    factors: Option<PathBuf>,
    config: greenplan_web::WebConfig,
) -> Result<()> {
    if store.load_plan().await?.is_none() {
        plan_cmd::init(store, plan.as_deref(), false, factors.as_deref()).await?;
    } else if let Some(dir) = factors
        && store.editions().await?.is_empty()
    {
        factors_cmd::import_dir(store, &dir).await?;
    }
    // Databases made before the tools existed get the care-activity library on start.
    greenplan_service::tools::seed_care_pathways(store).await?;
    if store.user_count().await? == 0 {
        eprintln!(
            "No one can sign in yet. Create the first system administrator with:\n  \
             printf '%s' \"$PASSWORD\" | greenplan user add you@nhs.net --org {} --role system-admin --password-stdin",
            store
                .load_plan()
                .await?
                .map_or_else(|| "ICB-CODE".to_string(), |p| p.info.icb.to_string())
        );
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    let local = listener.local_addr()?;
    eprintln!("greenplan is serving the plan at http://{local}/  (Ctrl+C to stop)");
    greenplan_web::serve(store.clone(), config, listener).await?;
    Ok(())
}

fn parse_time_of_day(raw: &str) -> Result<chrono::NaiveTime, String> {
    chrono::NaiveTime::parse_from_str(raw, "%H:%M")
        .map_err(|_| format!("`{raw}` is not a time of day: write it as HH:MM, e.g. 07:00"))
}

/// Sends the day's reminders at `at` local time, every day, while the server runs. A failed
/// run is logged and tried again the next day (what was not sent goes then).
async fn reminders_daily(
    store: Store,
    mail: greenplan_service::reminders::MailConfig,
    at: chrono::NaiveTime,
) {
    loop {
        let now = chrono::Local::now();
        let today_at = now.date_naive().and_time(at);
        let next = if now.naive_local() < today_at {
            today_at
        } else {
            today_at + chrono::Days::new(1)
        };
        let wait = (next - now.naive_local())
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(60));
        tokio::time::sleep(wait).await;
        let today = chrono::Local::now().date_naive();
        match greenplan_service::reminders::send(&store, &mail, today, &reminders_cmd::holder())
            .await
        {
            Ok(report) => tracing::info!(
                sent = report.sent.len(),
                failed = report.failed.len(),
                another_sender = report.another_sender,
                "reminders run"
            ),
            Err(e) => tracing::error!(error = %e, "reminders could not be sent"),
        }
    }
}

/// Who the audit trail records for changes made from the command line: `cli:` and the
/// operating-system user.
pub(crate) fn cli_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

/// Writes the backup beside FILE and renames it into place when complete, so FILE is never a
/// half-written backup.
async fn backup(store: &Store, file: &std::path::Path) -> Result<()> {
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let temp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let mut out = std::io::BufWriter::new(temp.as_file());
    let summary = store.backup(&mut out).await?;
    drop(out);
    temp.as_file().sync_all()?;
    temp.persist(file)
        .with_context(|| format!("cannot write {}", file.display()))?;
    println!(
        "Saved {} rows of {} tables to {}.",
        summary.rows,
        summary.tables,
        file.display()
    );
    Ok(())
}

async fn restore(store: &Store, file: &std::path::Path) -> Result<()> {
    // Through the one opener of imported files: a regular file, within the backup bound.
    let input = greenplan_ingest::source::open(file, greenplan_ingest::source::FileKind::Backup)?;
    let summary = store.restore(std::io::BufReader::new(input)).await?;
    println!(
        "Restored {} rows of {} tables from {}.",
        summary.rows,
        summary.tables,
        file.display()
    );
    Ok(())
}
