//! The benchmark's table: medians of the runs for each scenario and concurrency, beside the
//! peer's medians from the same machine, and the ratio.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::drive::{Row, Scenario};

/// A run of the peer, as `run_peer_bench.py` records it.
#[derive(Debug, Clone, Deserialize)]
pub struct PeerRow {
    scenario: String,
    conc: usize,
    rps: f64,
    p99_ms: Option<f64>,
}

pub fn read_peer(path: &Path) -> anyhow::Result<Vec<PeerRow>> {
    Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => f64::midpoint(values[n / 2 - 1], values[n / 2]),
    }
}

pub fn table(label: &str, rows: &[Row], peer: &[PeerRow]) -> String {
    let mut groups: BTreeMap<(usize, usize), Vec<&Row>> = BTreeMap::new();
    for row in rows {
        let order = Scenario::ALL.iter().position(|s| s.name() == row.scenario).unwrap_or(usize::MAX);
        groups.entry((order, row.conc)).or_default().push(row);
    }
    let mut out = vec![
        format!(
            "#### Onboard on {label}: HTTPS with client certificates, medians of {} run(s)",
            groups.values().map(Vec::len).max().unwrap_or(0)
        ),
        String::new(),
        "| scenario | c | req/s | p50 ms | p99 ms | server CPU (cores) | peak RSS MB | errors | peer req/s (p99 ms) | ratio |"
            .to_owned(),
        "|---|---|---|---|---|---|---|---|---|---|".to_owned(),
    ];
    for ((order, conc), runs) in groups {
        let Some(scenario) = Scenario::ALL.get(order) else { continue };
        let field = |f: fn(&Row) -> f64| median(runs.iter().map(|r| f(r)).collect());
        let rps = field(|r| r.rps);
        let peer_runs: Vec<&PeerRow> =
            peer.iter().filter(|p| Some(p.scenario.as_str()) == scenario.peer() && p.conc == conc).collect();
        let (peer_cell, ratio) = if peer_runs.is_empty() {
            ("—".to_owned(), "—".to_owned())
        } else {
            let peer_rps = median(peer_runs.iter().map(|p| p.rps).collect());
            let peer_p99 = median(peer_runs.iter().filter_map(|p| p.p99_ms).collect());
            (format!("{peer_rps:.0} ({peer_p99:.1})"), format!("{:.2}×", rps / peer_rps))
        };
        let errors: usize = runs.iter().map(|r| r.errors).sum();
        let exhausted = if runs.iter().any(|r| r.exhausted) { " (pool ran out)" } else { "" };
        out.push(format!(
            "| {} | {conc} | {rps:.0}{exhausted} | {:.2} | {:.2} | {:.2} | {:.0} | {errors} | {peer_cell} | {ratio} |",
            scenario.title(),
            field(|r| r.p50_ms),
            field(|r| r.p99_ms),
            field(|r| r.server_cpu_cores),
            runs.iter().map(|r| r.peak_rss_mb).fold(0.0, f64::max),
        ));
    }
    out.join("\n") + "\n"
}
