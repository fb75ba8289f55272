//! `make bench`'s load generator: starts a release `onboard` on a fresh data directory (SQLite,
//! or the PostgreSQL `--database-url` names), sets up an OBUK workspace with every check on,
//! and drives it over HTTPS with client certificates and keep-alive, closed loop, at each
//! concurrency: OBUK registrations (PS256 request carrying a PS256 statement, each with its own
//! `jti`, durable), `client_credentials` with `private_key_jwt` and with `tls_client_auth`
//! (PS256 access tokens), and GET of a registration. Signed requests and client assertions are
//! made before each run, so the generator spends its CPU on the wire only. Writes the runs as
//! JSON and, with the peer's results, one markdown table with the ratio to the peer.
//!
//! Only 127.0.0.1 is ever used, and every run stops after `--secs`.

#![allow(clippy::print_stdout, clippy::print_stderr, reason = "a command-line tool reports on its terminal")]
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "statistics over request counts, far below 2^52"
)]

mod drive;
mod fixtures;
mod report;
mod wire;

use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(about = "Load benchmark of Onboard over HTTPS with client certificates")]
pub struct Args {
    /// The release `onboard` binary.
    #[arg(long)]
    server_bin: PathBuf,
    /// Scratch directory for the server's data, logs and results.
    #[arg(long)]
    work_dir: PathBuf,
    /// A PostgreSQL URL; without it, SQLite in the work directory.
    #[arg(long)]
    database_url: Option<String>,
    /// Concurrencies, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,64")]
    conc: Vec<usize>,
    /// Seconds per run.
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// Runs per scenario and concurrency (the table shows medians).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Scenarios, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    scenarios: Vec<String>,
    /// The peer's results (`run_peer_bench.py`'s JSON), for the ratio column.
    #[arg(long)]
    peer: Option<PathBuf>,
    /// Where the markdown table goes.
    #[arg(long)]
    out: PathBuf,
    /// A label for the table's heading (e.g. "SQLite" or "PostgreSQL").
    #[arg(long, default_value = "SQLite")]
    label: String,
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; it means nothing here.
    let args = Args::parse_from(std::env::args().filter(|arg| arg != "--bench"));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let rows = runtime.block_on(drive::run(&args))?;
    let json = serde_json::to_string_pretty(&rows)?;
    std::fs::write(args.work_dir.join(format!("onboard-{}.json", args.label.to_lowercase())), json)?;
    let peer = args.peer.as_deref().map(report::read_peer).transpose()?.unwrap_or_default();
    let table = report::table(&args.label, &rows, &peer);
    std::fs::write(&args.out, &table)?;
    println!("{table}");
    Ok(())
}
