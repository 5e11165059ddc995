//! `lbsim submit`: send one test (`-- CMD ARGS...`) or many (`--file
//! tests.jsonl`) to a coordinator, and with `--wait` follow them to the
//! end, print a summary, write JUnit XML and exit 0 only if every test
//! passed. How a CI job fans its suite out over the fleet.

use super::submit_wait::{self, WaitOptions};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::service::api::{TestRequest, MAX_LIST};
use clap::Args;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Options of `submit`.
#[derive(Clone, Debug, Args)]
pub(crate) struct SubmitArgs {
    /// The coordinator's base URL
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub(crate) url: String,
    /// The coordinator's bearer token
    #[arg(long, env = "LB_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// Tests to submit, one TestRequest JSON object per line
    #[arg(long, value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
    /// The test's name (shown in summaries and JUnit; learned durations key on it)
    #[arg(long, value_name = "NAME", help_heading = "One test (-- CMD ARGS...)")]
    pub(crate) name: Option<String>,
    /// 1 (most urgent) to 5 [default: 3]
    #[arg(long, value_name = "P", help_heading = "One test (-- CMD ARGS...)")]
    pub(crate) priority: Option<u8>,
    /// Memory it needs, GB [default: 0.5]
    #[arg(long, value_name = "GB", help_heading = "One test (-- CMD ARGS...)")]
    pub(crate) memory_gb: Option<f64>,
    /// CUDA devices it needs [default: 0]
    #[arg(long, value_name = "N", help_heading = "One test (-- CMD ARGS...)")]
    pub(crate) cuda: Option<u32>,
    /// Cores it needs [default: 1]
    #[arg(long, value_name = "N", help_heading = "One test (-- CMD ARGS...)")]
    pub(crate) cores: Option<u32>,
    /// Longest run time, seconds (then SIGTERM, grace, SIGKILL: timed out)
    #[arg(
        long,
        value_name = "SECONDS",
        help_heading = "One test (-- CMD ARGS...)"
    )]
    pub(crate) timeout: Option<f64>,
    /// Runs a failed or timed-out test again, up to R times
    #[arg(long, value_name = "R", help_heading = "One test (-- CMD ARGS...)")]
    pub(crate) retries: Option<u32>,
    /// Labels a worker must all carry to run it
    #[arg(
        long,
        value_name = "A,B",
        value_delimiter = ',',
        help_heading = "One test (-- CMD ARGS...)"
    )]
    pub(crate) labels: Vec<String>,
    /// An environment variable for the command (repeatable)
    #[arg(
        long,
        value_name = "KEY=VALUE",
        help_heading = "One test (-- CMD ARGS...)"
    )]
    pub(crate) env: Vec<String>,
    /// Its expected run time, seconds [default: learned from its name, else 60]
    #[arg(
        long,
        value_name = "SECONDS",
        help_heading = "One test (-- CMD ARGS...)"
    )]
    pub(crate) expected_duration: Option<f64>,
    /// Follow the tests to the end: a summary, exit 0 only if all passed
    #[arg(long)]
    pub(crate) wait: bool,
    /// With --wait: write the results as JUnit XML to FILE
    #[arg(long, value_name = "FILE", requires = "wait")]
    pub(crate) junit: Option<PathBuf>,
    /// The command, after `--`: an argv, never through a shell
    #[arg(last = true, value_name = "CMD")]
    pub(crate) command: Vec<String>,
}

/// The most tests one file may hold, and its largest size.
const MAX_FILE_TESTS: usize = 100_000;
const MAX_FILE_BYTES: u64 = 256 << 20;

pub(crate) fn run(args: &SubmitArgs) -> Result<()> {
    let tests = match (&args.file, args.command.is_empty()) {
        (Some(_), false) => {
            return Err(Error::invalid("--file", "or a command after --, not both"))
        }
        (Some(path), true) => {
            one_test_flags_absent(args)?;
            read_file(path)?
        }
        (None, false) => vec![one_test(args)?],
        (None, true) => {
            return Err(Error::invalid(
                "CMD",
                "a command after -- (lbsim submit -- pytest tests/x.py) or --file FILE",
            ))
        }
    };
    let client = Client::new(&args.url, args.token.clone());
    let ids = submit_all(&client, &tests)?;
    if !args.wait {
        return print_submitted(&ids);
    }
    submit_wait::follow(
        &client,
        &ids,
        &WaitOptions {
            junit: args.junit.clone(),
        },
    )
}

/// `--file` carries every field itself: the one-test flags would be lost.
fn one_test_flags_absent(a: &SubmitArgs) -> Result<()> {
    let given = [
        ("--name", a.name.is_some()),
        ("--priority", a.priority.is_some()),
        ("--memory-gb", a.memory_gb.is_some()),
        ("--cuda", a.cuda.is_some()),
        ("--cores", a.cores.is_some()),
        ("--timeout", a.timeout.is_some()),
        ("--retries", a.retries.is_some()),
        ("--labels", !a.labels.is_empty()),
        ("--env", !a.env.is_empty()),
        ("--expected-duration", a.expected_duration.is_some()),
    ];
    match given.iter().find(|(_, g)| *g) {
        Some((flag, _)) => Err(Error::invalid(
            *flag,
            "is for one test (-- CMD): with --file, put it in each line",
        )),
        None => Ok(()),
    }
}

/// The test the flags describe.
fn one_test(a: &SubmitArgs) -> Result<TestRequest> {
    let d = TestRequest::default();
    let mut env = BTreeMap::new();
    for kv in &a.env {
        match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                env.insert(k.to_string(), v.to_string());
            }
            _ => return Err(Error::invalid("--env", format!("'{kv}' is not KEY=VALUE"))),
        }
    }
    let t = TestRequest {
        name: a.name.clone(),
        priority: a.priority.unwrap_or(d.priority),
        memory_gb: a.memory_gb.unwrap_or(d.memory_gb),
        cuda_devices: a.cuda.unwrap_or(d.cuda_devices),
        cpu_cores: a.cores.unwrap_or(d.cpu_cores),
        timeout_s: a.timeout,
        max_retries: a.retries.unwrap_or(0),
        labels: a.labels.clone(),
        env: (!env.is_empty()).then_some(env),
        expected_duration_s: a.expected_duration,
        command: Some(a.command.clone()),
        ..d
    };
    t.validate("")
        .map_err(|(field, why)| Error::invalid(flag_of(&field), why))?;
    Ok(t)
}

/// The flag that sets a TestRequest field.
fn flag_of(field: &str) -> String {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    match base {
        "memory_gb" => "--memory-gb",
        "cuda_devices" => "--cuda",
        "cpu_cores" => "--cores",
        "timeout_s" => "--timeout",
        "max_retries" => "--retries",
        "expected_duration_s" => "--expected-duration",
        "command" => "CMD",
        "priority" => "--priority",
        "labels" => "--labels",
        "env" => "--env",
        _ => "--name",
    }
    .to_string()
}

/// One TestRequest per line (blank lines skipped); an error names the
/// file, the line and the field.
fn read_file(path: &std::path::Path) -> Result<Vec<TestRequest>> {
    let shown = path.display().to_string();
    let meta =
        std::fs::metadata(path).map_err(|e| Error::invalid("--file", format!("{shown}: {e}")))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(Error::invalid("--file", format!("{shown}: over 256 MiB")));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::invalid("--file", format!("{shown}: {e}")))?;
    let mut tests = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("{shown}:{}", i + 1);
        let t: TestRequest = serde_json::from_str(line)
            .map_err(|e| Error::invalid("--file", format!("{at}: {e}")))?;
        t.validate("")
            .map_err(|(field, why)| Error::invalid("--file", format!("{at}: {field}: {why}")))?;
        tests.push(t);
        if tests.len() > MAX_FILE_TESTS {
            return Err(Error::invalid(
                "--file",
                format!("{at}: over {MAX_FILE_TESTS} tests"),
            ));
        }
    }
    if tests.is_empty() {
        return Err(Error::invalid("--file", format!("{shown}: no tests in it")));
    }
    Ok(tests)
}

/// Submits in batches under the server's body limit; every id, in order.
fn submit_all(client: &Client, tests: &[TestRequest]) -> Result<Vec<u64>> {
    let mut ids = Vec::with_capacity(tests.len());
    let mut batch = Vec::new();
    let mut bytes = 0;
    for t in tests {
        let size = serde_json::to_string(t).map_or(0, |s| s.len());
        if !batch.is_empty() && (bytes + size > 512 * 1024 || batch.len() >= MAX_LIST / 10) {
            ids.extend(send(client, std::mem::take(&mut batch))?);
            bytes = 0;
        }
        bytes += size;
        batch.push(t.clone());
    }
    ids.extend(send(client, batch)?);
    Ok(ids)
}

fn send(client: &Client, batch: Vec<TestRequest>) -> Result<Vec<u64>> {
    let s = client
        .submit_tests(batch)
        .map_err(|e| Error::Run(format!("submitting: {e}")))?;
    for r in &s.rejected {
        crate::console::print_err(&format!(
            "lbsim submit: test {} rejected: {}\n",
            r.test_id, r.reason
        ));
    }
    Ok(s.test_ids)
}

fn print_submitted(ids: &[u64]) -> Result<()> {
    match ids {
        [one] => outln!("lbsim submit: test {one} submitted"),
        _ => outln!(
            "lbsim submit: {} tests submitted (ids {}..={})",
            ids.len(),
            ids.first().unwrap_or(&0),
            ids.last().unwrap_or(&0)
        ),
    }
    Ok(())
}
