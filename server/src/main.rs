//! The `onboard` binary.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser as _;
use tracing_subscriber::EnvFilter;

use app::clock::SystemClock;
use app::domain::activity::COMMAND_LINE_ACTOR;
use onboard::cli::{AdminCommand, AdministratorAddressArgs, AdministratorArgs, Cli, Command, LogFormat};
use onboard::startup;

/// mimalloc instead of glibc's allocator: a request allocates and frees many small buffers on
/// two worker threads, and glibc's malloc and free took about a fifth of the server's CPU
/// under load (`perf`, registrations at c=64).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A policy worker runs admin-written code on TPPs' input: no runtime, no logging, capped.
    if let Some(Command::PolicyWorker) = cli.command {
        return policy_worker();
    }
    init_logging(cli.log_format);
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(run_command(cli)),
        Err(error) => {
            tracing::error!("starting the async runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `onboard policy-worker`: caps the address space this process may map, then answers the
/// server's requests until it closes standard input. A policy that would take more ends this
/// process, not the server, which refuses the registration and starts another worker.
fn policy_worker() -> ExitCode {
    // Short of memory, the kernel ends a worker before the server.
    let _ = std::fs::write("/proc/self/oom_score_adj", "1000");
    let limit = app::policy::sandbox::WORKER_MEMORY_LIMIT;
    if rlimit::Resource::AS.set(limit, limit).is_err() {
        return ExitCode::FAILURE;
    }
    match app::policy::sandbox::serve(std::io::stdin().lock(), std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

async fn run_command(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Some(Command::Migrate(database)) => migrate(&database).await,
        Some(Command::Rekey(rekey)) => startup::rekey(&rekey, &SystemClock).await.map(|_| ()),
        Some(Command::Admin(AdminCommand::CreateUser(administrator))) => create_user(administrator).await,
        Some(Command::Admin(AdminCommand::SetPassword(administrator))) => set_password(administrator).await,
        Some(Command::Admin(AdminCommand::SignOut(administrator))) => sign_out(administrator).await,
        Some(Command::Admin(AdminCommand::ResetTwoStep(administrator))) => reset_two_step(administrator).await,
        Some(Command::Serve(serve)) => run(&serve).await,
        Some(Command::Tpp(command)) => onboard::tpp::toolkit::run(command).await,
        // Served before the runtime starts (`main`).
        Some(Command::PolicyWorker) => Ok(()),
        None => run(&cli.serve).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &onboard::cli::ServeArgs) -> anyhow::Result<()> {
    let running = startup::start(args, Arc::new(SystemClock)).await?;
    if let Some(ca) = &running.dev_ca {
        tracing::info!(ca = %ca.display(), "using a development TLS certificate; clients should trust this CA");
    }
    wait_for_signal().await;
    tracing::info!("shutting down; draining open connections");
    running.stop().await;
    Ok(())
}

async fn migrate(database: &onboard::cli::DatabaseArgs) -> anyhow::Result<()> {
    let store = migrated_store(database).await?;
    tracing::info!(database = store.backend().as_str(), "migrations applied");
    Ok(())
}

/// The database `database` names, its migrations applied.
async fn migrated_store(database: &onboard::cli::DatabaseArgs) -> anyhow::Result<Arc<dyn app::storage::Store>> {
    std::fs::create_dir_all(&database.data_dir)?;
    let store = app::storage::connect(&database.url()).await?;
    store.migrate().await?;
    Ok(store)
}

/// The administrator commands need only the database: a locked-out team's way back in must not
/// depend on the key encryption key or anything else a server needs to start.
async fn create_user(AdministratorArgs { database, email, password }: AdministratorArgs) -> anyhow::Result<()> {
    let password = password_or_first_line(password)?;
    let store = migrated_store(&database).await?;
    let administrator =
        app::services::accounts::create_administrator(store.as_ref(), &SystemClock, COMMAND_LINE_ACTOR, &email, &password)
            .await?;
    tracing::info!(email = %administrator.email, "administrator created");
    Ok(())
}

async fn set_password(AdministratorArgs { database, email, password }: AdministratorArgs) -> anyhow::Result<()> {
    let password = password_or_first_line(password)?;
    let store = migrated_store(&database).await?;
    app::services::accounts::set_password(store.as_ref(), &SystemClock, &email, &password).await?;
    tracing::info!(%email, "administrator's password replaced; their sessions end");
    Ok(())
}

async fn sign_out(AdministratorAddressArgs { database, email }: AdministratorAddressArgs) -> anyhow::Result<()> {
    let store = migrated_store(&database).await?;
    let ended = app::services::accounts::sign_out_everywhere(store.as_ref(), &SystemClock, &email).await?;
    tracing::info!(%email, sessions = ended, "administrator signed out everywhere");
    Ok(())
}

async fn reset_two_step(AdministratorAddressArgs { database, email }: AdministratorAddressArgs) -> anyhow::Result<()> {
    let store = migrated_store(&database).await?;
    if app::services::accounts::reset_two_step(store.as_ref(), &SystemClock, &email).await? {
        tracing::info!(%email, "administrator's two-step sign-in turned off; they sign in with the password alone");
    } else {
        tracing::info!(%email, "administrator's two-step sign-in was off already");
    }
    Ok(())
}

/// `--password`, else the first line of standard input.
fn password_or_first_line(password: Option<String>) -> std::io::Result<String> {
    if let Some(password) = password {
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let sigterm = async {
        match terminate.as_mut() {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        () = sigterm => {}
    }
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Logs go to stderr, leaving stdout to commands' own output; colours only on a terminal,
    // so a log file or the journal gets plain text.
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
