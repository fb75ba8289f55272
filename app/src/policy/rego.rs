//! Rego policies, evaluated by `regorus`. A module defines `allow` (a boolean) and may define
//! `deny` (a set of messages); a registration passes when `allow` is true and `deny` is empty.
//! Evaluation is bounded by the engine's execution timer and fails closed: an error or a
//! timeout is a rejection, never an acceptance. The server runs this only in its policy
//! workers ([`super::sandbox`]): what the timer cannot stop, a worker's limits do.

use std::num::NonZeroU32;
use std::time::Duration;

use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Value as RegoValue};
use serde_json::Value;

use crate::domain::workspace::SettingsError;

/// The longest one evaluation may run: `allow` and `deny` get half each.
pub const EVALUATION_LIMIT: Duration = Duration::from_millis(100);
/// The most numbers `numbers.range` and `numbers.range_step` may make (regorus allocates the
/// whole range at once, before its timer can stop it).
pub const MAX_RANGE: i64 = 10_000;
/// The widest shift `bits.lsh` may make (regorus's numbers grow without bound).
const MAX_SHIFT: i64 = 63;
/// The file name syntax errors are reported against.
const SOURCE_NAME: &str = "policy.rego";
/// A rule name no policy defines, asked for to have the engine analyse a module.
const UNDEFINED_PROBE: &str = "onboard_analysis_probe_";
/// What regorus answers for a rule the module does not define.
const UNDEFINED_RULE: &str = "not a valid rule path";

/// A parsed module, ready to be cloned for each evaluation.
#[derive(Debug, Clone)]
pub struct CompiledRego {
    engine: Engine,
    allow: String,
    deny: String,
}

/// What a Rego policy decided.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RegoVerdict {
    pub allow: bool,
    /// The `deny` messages, sorted.
    pub deny: Vec<String>,
}

impl RegoVerdict {
    pub fn passed(&self) -> bool {
        self.allow && self.deny.is_empty()
    }
}

impl CompiledRego {
    /// Parses the module and evaluates it once on an empty input, so mistakes that only show
    /// at evaluation (an undefined `allow`, conflicting rules) are reported on save too.
    pub fn compile(module: &str) -> Result<Self, SettingsError> {
        Self::compile_with_limit(module, EVALUATION_LIMIT)
    }

    pub fn compile_with_limit(module: &str, limit: Duration) -> Result<Self, SettingsError> {
        let compiled = Self::parse_with_limit(module, limit)?;
        let problem = |message: String| SettingsError::new("body", message);
        let package = compiled.allow.trim_end_matches(".allow");
        // The probe runs on a copy: a failed evaluation may leave state behind.
        let mut engine = compiled.engine.clone();
        engine.set_input(RegoValue::new_object());
        match engine.eval_rule(compiled.allow.clone()) {
            Ok(_) => {}
            Err(e) if e.to_string() == UNDEFINED_RULE => return Err(problem(format!("{package} must define allow"))),
            Err(e) => return Err(problem(format!("evaluating on an empty input failed: {e}"))),
        }
        match engine.eval_rule(compiled.deny.clone()) {
            Ok(_) => {}
            Err(e) if e.to_string() == UNDEFINED_RULE => {}
            Err(e) => return Err(problem(format!("evaluating deny on an empty input failed: {e}"))),
        }
        Ok(compiled)
    }

    /// Parses the module without evaluating it (a saved policy was checked when it was saved;
    /// a mistake shows at evaluation, which then fails closed).
    pub fn parse(module: &str) -> Result<Self, SettingsError> {
        Self::parse_with_limit(module, EVALUATION_LIMIT)
    }

    fn parse_with_limit(module: &str, limit: Duration) -> Result<Self, SettingsError> {
        let problem = |message: String| SettingsError::new("body", message);
        let mut engine = Engine::new();
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: limit / 2,
            check_interval: NonZeroU32::new(32).unwrap_or(NonZeroU32::MIN),
        });
        // What a policy prints is kept with its evaluation and dropped with it, never written
        // out: it would be a TPP's data, unescaped, in the server's output.
        engine.set_gather_prints(true);
        bound_allocating_builtins(&mut engine).map_err(|e| problem(e.to_string()))?;
        let package =
            engine.add_policy(SOURCE_NAME.to_owned(), module.to_owned()).map_err(|e| problem(syntax_error(&e.to_string())))?;
        // Asking for a rule no module defines makes the engine analyse the module (once, for
        // every copy evaluations make) and evaluates nothing.
        match engine.eval_rule(format!("{package}.{UNDEFINED_PROBE}")) {
            Err(e) if e.to_string() == UNDEFINED_RULE => {}
            Err(e) => return Err(problem(e.to_string())),
            Ok(_) => return Err(problem(format!("{package}.{UNDEFINED_PROBE} is a name Onboard keeps"))),
        }
        Ok(Self { engine, allow: format!("{package}.allow"), deny: format!("{package}.deny") })
    }

    /// Evaluates the module on `input`. An error (including running past the time limit, or
    /// an undefined `allow`) is returned for the caller to reject with.
    pub fn evaluate(&self, input: &Value) -> Result<RegoVerdict, String> {
        let mut engine = self.engine.clone();
        engine.set_input(RegoValue::from(input.clone()));
        let allow = engine.eval_rule(self.allow.clone()).map_err(|e| e.to_string())? == RegoValue::from(true);
        let deny = match engine.eval_rule(self.deny.clone()) {
            Ok(messages_set) => messages(&messages_set)?,
            Err(e) if e.to_string() == UNDEFINED_RULE => Vec::new(),
            Err(e) => return Err(e.to_string()),
        };
        Ok(RegoVerdict { allow, deny })
    }
}

/// Replaces the builtins that allocate in one step, beyond the timer's reach, with bounded
/// versions (extensions are looked up before builtins).
fn bound_allocating_builtins(engine: &mut Engine) -> anyhow::Result<()> {
    engine.add_extension("numbers.range".to_owned(), 2, Box::new(|args: Vec<RegoValue>| range(&args, 1)))?;
    engine.add_extension(
        "numbers.range_step".to_owned(),
        3,
        Box::new(|args: Vec<RegoValue>| {
            let step = integer(&args, 2)?;
            anyhow::ensure!(step > 0, "numbers.range_step: the step must be a positive integer");
            range(&args, step)
        }),
    )?;
    engine.add_extension(
        "bits.lsh".to_owned(),
        2,
        Box::new(|args: Vec<RegoValue>| {
            let (value, shift) = (integer(&args, 0)?, integer(&args, 1)?);
            anyhow::ensure!((0..=MAX_SHIFT).contains(&shift), "bits.lsh: shifts of at most {MAX_SHIFT} bits");
            Ok(value.checked_shl(u32::try_from(shift)?).map_or(RegoValue::Undefined, RegoValue::from))
        }),
    )?;
    Ok(())
}

fn integer(args: &[RegoValue], at: usize) -> anyhow::Result<i64> {
    args.get(at).ok_or_else(|| anyhow::anyhow!("missing argument"))?.as_i64()
}

/// `numbers.range` (`step` 1) and `numbers.range_step`: from the first argument to the second,
/// both included, at most [`MAX_RANGE`] numbers.
fn range(args: &[RegoValue], step: i64) -> anyhow::Result<RegoValue> {
    let (from, to) = (integer(args, 0)?, integer(args, 1)?);
    let count = from.abs_diff(to) / step.unsigned_abs() + 1;
    anyhow::ensure!(count <= MAX_RANGE.unsigned_abs(), "numbers.range: at most {MAX_RANGE} numbers");
    let step = usize::try_from(step)?;
    let numbers: Vec<RegoValue> = if from <= to {
        (from..=to).step_by(step).map(RegoValue::from).collect()
    } else {
        (to..=from).rev().step_by(step).map(RegoValue::from).collect()
    };
    Ok(RegoValue::from(numbers))
}

/// The messages of a `deny` set (undefined counts as none).
fn messages(value: &RegoValue) -> Result<Vec<String>, String> {
    if *value == RegoValue::Undefined {
        return Ok(Vec::new());
    }
    let set = value.as_set().map_err(|_| "deny must be a set of messages".to_owned())?;
    let mut messages: Vec<String> = set
        .iter()
        .map(|message| match message.as_string() {
            Ok(text) => text.to_string(),
            Err(_) => message.to_json_str().unwrap_or_default(),
        })
        .collect();
    messages.sort();
    Ok(messages)
}

/// "line 3, column 5: expecting `}`" from regorus's report, which reads
/// "--> policy.rego:3:5 ... error: expecting `}`".
fn syntax_error(report: &str) -> String {
    let position = report.lines().find_map(|line| {
        let location = line.trim().strip_prefix("-->")?.trim();
        let mut parts = location.rsplitn(3, ':');
        let column = parts.next()?.parse::<u32>().ok()?;
        let line = parts.next()?.parse::<u32>().ok()?;
        Some((line, column))
    });
    let message = report
        .lines()
        .find_map(|line| line.trim().strip_prefix("error:"))
        .map_or_else(|| report.trim().to_owned(), |m| m.trim().to_owned());
    match position {
        Some((line, column)) => format!("line {line}, column {column}: {message}"),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ROLES: &str = r#"
package onboard

default allow := false

allow if {
    every role in input.software_statement.software_roles { role in {"AISP", "PISP"} }
}

deny contains msg if {
    some uri in input.request.redirect_uris
    not startswith(uri, "https://")
    msg := sprintf("%s is not https", [uri])
}
"#;

    fn compiled(module: &str) -> CompiledRego {
        CompiledRego::compile(module).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn allow_and_deny_decide() {
        let policy = compiled(ROLES);
        let input = |roles: Value, uris: Value| json!({"software_statement": {"software_roles": roles}, "request": {"redirect_uris": uris}});
        let allowed = policy.evaluate(&input(json!(["AISP"]), json!(["https://a.example/cb"]))).unwrap_or_else(|e| panic!("{e}"));
        assert!(allowed.passed(), "{allowed:?}");
        let refused = policy.evaluate(&input(json!(["AISP", "CBPII"]), json!([]))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(refused, RegoVerdict { allow: false, deny: vec![] });
        let denied = policy
            .evaluate(&input(json!(["PISP"]), json!(["http://b.example", "http://a.example"])))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            denied,
            RegoVerdict {
                allow: true,
                deny: vec!["http://a.example is not https".to_owned(), "http://b.example is not https".to_owned()]
            }
        );
        assert!(!denied.passed());
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let error =
            CompiledRego::compile("package onboard\n\nallow if {\n    input.x ==\n").err().map(|e| e.message).unwrap_or_default();
        assert!(error.starts_with("line "), "{error}");
        assert!(error.contains(", column "), "{error}");
        let missing = CompiledRego::compile("package onboard\n\nok := true\n").err().map(|e| e.message).unwrap_or_default();
        assert_eq!(missing, "data.onboard must define allow");
    }

    #[test]
    fn an_evaluation_error_is_an_error_not_a_verdict() {
        // Division by zero on this input is a runtime error, which the caller rejects with.
        let policy = compiled("package onboard\n\nallow if { 1 / input.n == 1 }\n");
        assert!(policy.evaluate(&json!({"n": 1})).is_ok_and(|v| v.allow));
        let outcome = policy.evaluate(&json!({"n": 0}));
        assert!(outcome.is_err() || outcome.is_ok_and(|v| !v.passed()), "never an acceptance");
    }

    #[test]
    fn ranges_are_bounded_before_they_allocate() {
        let policy = compiled("package onboard\n\nallow if count(numbers.range(1, input.n)) == input.n\n");
        assert!(policy.evaluate(&json!({"n": 10_000})).is_ok_and(|v| v.allow));
        let error = policy.evaluate(&json!({"n": 100_000_000_000_i64})).err().unwrap_or_default();
        assert!(error.contains("at most 10000 numbers"), "{error}");
        let steps = compiled("package onboard\n\nallow if numbers.range_step(10, 1, 3) == [10, 7, 4, 1]\n");
        assert!(steps.evaluate(&json!({})).is_ok_and(|v| v.allow));
        let shift = compiled("package onboard\n\nallow if bits.lsh(1, input.n) > 0\n");
        assert!(shift.evaluate(&json!({"n": 62})).is_ok_and(|v| v.allow));
        assert!(shift.evaluate(&json!({"n": 1_000_000})).is_err());
    }

    #[test]
    fn a_runaway_policy_stops_at_the_time_limit() {
        // 25 million steps, none of them allocating.
        let module = "package onboard\n\nallow if {\n    some i in numbers.range(1, 5000)\n    some j in numbers.range(1, 5000)\n    i * j == -1\n}\n";
        let policy = CompiledRego::compile_with_limit(module, Duration::from_millis(20));
        // Either compiling (which evaluates once on an empty input) or evaluating hits the limit.
        let error = match policy {
            Err(error) => error.message,
            Ok(policy) => policy.evaluate(&json!({})).err().unwrap_or_default(),
        };
        assert!(error.contains("time limit"), "{error}");
    }
}
