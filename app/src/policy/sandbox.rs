//! Rego policies run in processes of their own. A policy is code an administrator wrote, fed
//! with what a TPP sent: however it is written, it must not take the server down with it.
//! regorus's timer stops long evaluations between steps, but a single step can still allocate
//! without bound (`sprintf` widths, `replace`, numbers that grow with each product), and a
//! function that calls itself overflows the stack, which no thread survives. So each
//! evaluation is a message to a worker process (`onboard policy-worker`), which runs with a
//! cap on its memory, no environment (no secret the server was given), and nothing on its
//! standard error that anyone reads. A worker that crashes, runs out of memory or does not
//! answer within [`CALL_LIMIT`] is stopped, and the evaluation fails: the registration is
//! refused (fail closed), the next one gets a fresh worker.
//!
//! The messages are JSON, one per line, both ways: [`Request`] in, [`Answer`] out.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Semaphore;

use super::rego::{CompiledRego, RegoVerdict};
use crate::domain::workspace::SettingsError;

/// The subcommand of the `onboard` binary that serves as a worker.
pub const WORKER_COMMAND: &str = "policy-worker";
/// The most address space a worker may map: room for the binary and a policy's honest work,
/// not for an evaluation that grows without bound.
pub const WORKER_MEMORY_LIMIT: u64 = 1 << 30;
/// The longest a worker may take to answer one message, its start included: well past the
/// policy's own time limit, which stops every evaluation that can be stopped between steps.
pub const CALL_LIMIT: Duration = Duration::from_secs(2);
/// Compiled modules a worker keeps; past it, it starts over.
const WORKER_CACHE: usize = 64;
/// The longest answer the server reads: a worker's answers are cut well below it (a policy
/// may make a message of hundreds of megabytes in one step; the server never holds it).
const MAX_ANSWER: u64 = 256 * 1024;
/// The most `deny` messages an answer carries, each cut to [`MAX_MESSAGE_CHARS`]; a TPP is
/// told at most 500 characters of them anyway.
const MAX_MESSAGES: usize = 20;
const MAX_MESSAGE_CHARS: usize = 500;

/// What the server asks a worker.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// Compile `module` and evaluate it once on an empty input, as a policy is checked before
    /// it is saved.
    Check { module: String },
    /// Evaluate `module` on `input`.
    Evaluate { module: String, input: Value },
}

/// What a worker answers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Checked,
    /// The module is not a policy Onboard can use: where, and why.
    Invalid {
        field: String,
        message: String,
    },
    Verdict(RegoVerdict),
    /// The evaluation failed (an error, or its time limit).
    Failed(String),
}

/// The worker processes of one server, and how many may run at once.
pub struct RegoSandbox {
    program: PathBuf,
    idle: Mutex<Vec<Worker>>,
    running: Semaphore,
}

impl std::fmt::Debug for RegoSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegoSandbox").field("program", &self.program).finish_non_exhaustive()
    }
}

impl RegoSandbox {
    /// Workers are `program policy-worker` (the `onboard` binary), at most `workers` at once.
    pub fn new(program: PathBuf, workers: usize) -> Self {
        Self { program, idle: Mutex::new(Vec::new()), running: Semaphore::new(workers.max(1)) }
    }

    /// Checks `module` as a policy is checked before it is saved.
    pub async fn check(&self, module: &str) -> Result<(), SettingsError> {
        match self.ask(&Request::Check { module: module.to_owned() }).await {
            Ok(Answer::Checked) => Ok(()),
            Ok(Answer::Invalid { field, message }) => Err(SettingsError::new(field, message)),
            Ok(other) => Err(SettingsError::new("body", format!("the policy could not be checked: {}", unexpected(&other)))),
            Err(reason) => Err(SettingsError::new("body", format!("the policy could not be checked: {reason}"))),
        }
    }

    /// Evaluates `module` on `input`; an error is the reason it could not be (for the log).
    pub async fn evaluate(&self, module: &str, input: &Value) -> Result<RegoVerdict, String> {
        match self.ask(&Request::Evaluate { module: module.to_owned(), input: input.clone() }).await? {
            Answer::Verdict(verdict) => Ok(verdict),
            Answer::Failed(reason) => Err(reason),
            Answer::Invalid { message, .. } => Err(format!("the policy does not compile: {message}")),
            other @ Answer::Checked => Err(unexpected(&other)),
        }
    }

    async fn ask(&self, request: &Request) -> Result<Answer, String> {
        let line = serde_json::to_string(request).map_err(|e| e.to_string())?;
        // A slot is waited for no longer than an answer: with every worker busy (a slow
        // policy elsewhere), the evaluation fails rather than queue without end.
        let _running = match tokio::time::timeout(CALL_LIMIT, self.running.acquire()).await {
            Ok(permit) => permit.map_err(|e| e.to_string())?,
            Err(_) => return Err(format!("every policy worker stayed busy for {} s", CALL_LIMIT.as_secs())),
        };
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut worker = match idle {
            Some(worker) => worker,
            None => Worker::start(&self.program).map_err(|e| format!("the policy's process could not start: {e}"))?,
        };
        match tokio::time::timeout(CALL_LIMIT, worker.exchange(&line)).await {
            Ok(Ok(answer)) => {
                self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(worker);
                Ok(answer)
            }
            // The worker is dropped, which kills it.
            Ok(Err(reason)) => Err(format!("the policy's process stopped ({reason}): it may have run out of memory or stack")),
            Err(_) => Err(format!("the policy did not finish within {} s; its process was stopped", CALL_LIMIT.as_secs())),
        }
    }
}

fn unexpected(answer: &Answer) -> String {
    format!("the policy's process gave an unexpected answer: {answer:?}")
}

/// One worker process, spoken to over its standard input and output.
struct Worker {
    _child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Worker {
    fn start(program: &Path) -> std::io::Result<Self> {
        let mut child = Command::new(program)
            .arg(WORKER_COMMAND)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let input = child.stdin.take().ok_or_else(|| std::io::Error::other("no standard input"))?;
        let output = child.stdout.take().ok_or_else(|| std::io::Error::other("no standard output"))?;
        Ok(Self { _child: child, input, output: BufReader::new(output) })
    }

    async fn exchange(&mut self, line: &str) -> Result<Answer, String> {
        self.input.write_all(line.as_bytes()).await.map_err(|e| e.to_string())?;
        self.input.write_all(b"\n").await.map_err(|e| e.to_string())?;
        self.input.flush().await.map_err(|e| e.to_string())?;
        let mut answer = String::new();
        let mut limited = (&mut self.output).take(MAX_ANSWER);
        if limited.read_line(&mut answer).await.map_err(|e| e.to_string())? == 0 {
            return Err("it ended".to_owned());
        }
        if !answer.ends_with('\n') {
            return Err(format!("its answer is longer than {MAX_ANSWER} bytes"));
        }
        serde_json::from_str(&answer).map_err(|e| format!("its answer is not one: {e}"))
    }
}

/// The worker's side: answers each request read from `input` on `output`, until `input`
/// ends. The caller caps the process's memory first.
pub fn serve(input: impl BufRead, mut output: impl Write) -> std::io::Result<()> {
    let mut compiled: std::collections::HashMap<String, CompiledRego> = std::collections::HashMap::new();
    for line in input.lines() {
        let answer = match serde_json::from_str::<Request>(&line?) {
            Ok(Request::Check { module }) => match CompiledRego::compile(&module) {
                Ok(_) => Answer::Checked,
                Err(problem) => Answer::Invalid { field: problem.field, message: problem.message },
            },
            Ok(Request::Evaluate { module, input }) => {
                if !compiled.contains_key(&module) {
                    if compiled.len() >= WORKER_CACHE {
                        compiled.clear();
                    }
                    match CompiledRego::parse(&module) {
                        Ok(rego) => compiled.insert(module.clone(), rego),
                        Err(problem) => {
                            write_answer(&mut output, &Answer::Invalid { field: problem.field, message: problem.message })?;
                            continue;
                        }
                    };
                }
                match compiled.get(&module).map(|rego| rego.evaluate(&input)) {
                    Some(Ok(verdict)) => Answer::Verdict(bounded(verdict)),
                    Some(Err(reason)) => Answer::Failed(cut(&reason)),
                    None => Answer::Failed("the policy was not kept".to_owned()),
                }
            }
            Err(error) => Answer::Failed(format!("not a request: {error}")),
        };
        write_answer(&mut output, &answer)?;
    }
    Ok(())
}

/// The verdict with at most [`MAX_MESSAGES`] messages of [`MAX_MESSAGE_CHARS`] each.
fn bounded(mut verdict: RegoVerdict) -> RegoVerdict {
    verdict.deny.truncate(MAX_MESSAGES);
    verdict.deny = verdict.deny.iter().map(|message| cut(message)).collect();
    verdict
}

fn cut(text: &str) -> String {
    text.chars().take(MAX_MESSAGE_CHARS).collect()
}

fn write_answer(output: &mut impl Write, answer: &Answer) -> std::io::Result<()> {
    serde_json::to_writer(&mut *output, answer)?;
    output.write_all(b"\n")?;
    output.flush()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn answers(requests: &[Request]) -> Vec<Value> {
        let input: String = requests.iter().map(|r| serde_json::to_string(r).unwrap_or_default() + "\n").collect();
        let mut output = Vec::new();
        serve(input.as_bytes(), &mut output).unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&output).lines().map(|line| serde_json::from_str(line).unwrap_or(Value::Null)).collect()
    }

    #[test]
    fn an_answer_carries_a_bounded_number_of_bounded_messages() {
        let module =
            "package onboard\n\nallow := true\n\ndeny contains sprintf(\"%02000d\", [n]) if some n in numbers.range(1, 30)\n";
        let answers = answers(&[Request::Evaluate { module: module.to_owned(), input: json!({}) }]);
        let deny = answers[0]["verdict"]["deny"].as_array().cloned().unwrap_or_default();
        assert_eq!(deny.len(), MAX_MESSAGES);
        assert!(deny.iter().all(|m| m.as_str().map(str::len) == Some(MAX_MESSAGE_CHARS)), "{deny:?}");
    }

    #[test]
    fn a_worker_checks_and_evaluates_one_request_a_line() {
        let module = "package onboard\n\nallow if input.n > 1\n\ndeny contains \"odd\" if input.n % 2 == 1\n";
        let answers = answers(&[
            Request::Check { module: module.to_owned() },
            Request::Check { module: "package onboard\n\nok := true\n".to_owned() },
            Request::Evaluate { module: module.to_owned(), input: json!({"n": 4}) },
            Request::Evaluate { module: module.to_owned(), input: json!({"n": 3}) },
            Request::Evaluate { module: module.to_owned(), input: json!({"n": "four"}) },
        ]);
        assert_eq!(answers[0], json!("checked"));
        assert_eq!(answers[1], json!({"invalid": {"field": "body", "message": "data.onboard must define allow"}}));
        assert_eq!(answers[2], json!({"verdict": {"allow": true, "deny": []}}));
        assert_eq!(answers[3], json!({"verdict": {"allow": true, "deny": ["odd"]}}));
        assert!(answers[4]["failed"].is_string() || answers[4]["verdict"]["allow"] == json!(false), "{}", answers[4]);
    }
}
