//! The Standard Workload Format: `;` header comments (`; MaxProcs: 128`),
//! then one job per line, 18 whitespace-separated numbers, `-1` = unknown.
//!
//! Fields used (1-based): 2 submit time, 4 run time, 5 allocated processors
//! (else 8, requested processors), 7 used memory and 10 requested memory (KB
//! per processor; requested wins), 9 requested time (the test's expected
//! duration; else the run time), 11 status (0 failed and 5 cancelled replay
//! as failed runs; anything else as completed).

use super::{bad_line, numbered_lines, Trace, TraceFormat, TraceJob};
use crate::balancer::model::TestSpec;
use crate::error::Result;
use crate::sim::{SimDuration, SimTime};
use std::io::BufRead;

/// SWF has no priorities; every job gets the middle one.
pub(super) const SWF_PRIORITY: u8 = 3;
/// Job lines have exactly this many fields.
pub(super) const SWF_FIELDS: usize = 18;

/// The test a job becomes: `cores` processors, `memory_mib` in total.
pub(super) fn job_spec(cores: u32, memory_mib: u64, expected: SimDuration) -> TestSpec {
    TestSpec {
        priority: SWF_PRIORITY,
        memory_mib,
        cuda_devices: 0,
        cpu_cores: cores,
        backend: None,
        expected_duration: expected,
        model_family: 0,
        concurrency_key: None,
    }
}

/// Reads a whole SWF trace.
pub(super) fn read<R: BufRead>(file: &str, input: R) -> Result<Trace> {
    let mut trace = Trace::empty(file, TraceFormat::Swf);
    for line in numbered_lines(file, input) {
        let (n, line) = line?;
        let text = line.trim();
        if let Some(comment) = text.strip_prefix(';') {
            header_line(&mut trace, n, comment)?;
        } else if !text.is_empty() {
            trace.records += 1;
            match job_line(file, n, text)? {
                Ok(job) => trace.jobs.push(job),
                Err(reason) => trace.count_unusable(reason, n),
            }
        }
    }
    Ok(trace)
}

/// `; Key: value`. Only the keys that size the cluster are read; a value
/// that is not a whole number there is a malformed line.
fn header_line(trace: &mut Trace, n: u64, comment: &str) -> Result<()> {
    let Some((key, value)) = comment.split_once(':') else {
        return Ok(());
    };
    let key = key.trim();
    if !matches!(key, "MaxProcs" | "MaxNodes" | "MaxMemory") {
        return Ok(());
    }
    let value: i64 = value.trim().parse().map_err(|_| {
        bad_line(
            &trace.file,
            n,
            format!("header {key}: '{}' is not a whole number", value.trim()),
        )
    })?;
    let value = u64::try_from(value).ok().filter(|v| *v > 0);
    let h = &mut trace.header;
    match key {
        "MaxProcs" => {
            if value.is_some() {
                h.max_procs = value;
                h.procs_source = Some("MaxProcs");
            }
        }
        "MaxNodes" => {
            if value.is_some() && h.procs_source != Some("MaxProcs") {
                h.max_procs = value;
                h.procs_source = Some("MaxNodes");
            }
        }
        _ => h.max_memory_kb = value,
    }
    Ok(())
}

/// One job line: `Err(BadFile)` if malformed, `Ok(Err(reason))` if well
/// formed but unusable.
fn job_line(file: &str, n: u64, text: &str) -> Result<std::result::Result<TraceJob, &'static str>> {
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() != SWF_FIELDS {
        return Err(bad_line(
            file,
            n,
            format!("expected {SWF_FIELDS} fields, found {}", fields.len()),
        ));
    }
    let mut v = [0f64; SWF_FIELDS];
    for (i, f) in fields.iter().enumerate() {
        v[i] = f
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| bad_line(file, n, format!("field {}: '{f}' is not a number", i + 1)))?;
    }
    let field = |k: usize| v[k - 1];
    let (submit, run, allocated, requested) = (field(2), field(4), field(5), field(8));
    for (k, x) in [(5, allocated), (8, requested)] {
        if x.fract() != 0.0 {
            return Err(bad_line(
                file,
                n,
                format!("field {k}: '{x}' processors is not a whole number"),
            ));
        }
    }
    if submit < 0.0 {
        return Ok(Err("unknown submit time"));
    }
    if run < 0.0 {
        return Ok(Err("unknown run time"));
    }
    let procs = if allocated > 0.0 {
        allocated
    } else {
        requested
    };
    if procs <= 0.0 {
        return Ok(Err("unknown processor count"));
    }
    if procs > f64::from(u32::MAX) {
        return Ok(Err("processor count too large"));
    }
    let per_proc_kb = [field(10), field(7)].into_iter().find(|m| *m > 0.0);
    let memory_mib = per_proc_kb.map_or(0, |kb| (kb * procs / 1024.0).ceil() as u64);
    let run = SimDuration::from_secs_f64(run);
    let expected = if field(9) > 0.0 {
        SimDuration::from_secs_f64(field(9))
    } else {
        run
    };
    let status = field(11);
    Ok(Ok(TraceJob {
        submit: SimTime::from_secs_f64(submit),
        run,
        success: status != 0.0 && status != 5.0,
        spec: job_spec(procs as u32, memory_mib, expected),
        line: n,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Trace> {
        read("t.swf", text.as_bytes())
    }

    const JOB: &str = "1 10 -1 100 4 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1";

    #[test]
    fn reads_header_and_a_job() {
        let t = parse(&format!(
            "; MaxNodes: 64\n; MaxProcs: 128\n;   note: x\n\n{JOB}\n"
        ))
        .unwrap();
        assert_eq!(t.header.max_procs, Some(128));
        assert_eq!(t.header.procs_source, Some("MaxProcs"));
        assert_eq!(t.records, 1);
        let j = &t.jobs[0];
        assert_eq!(
            (j.submit, j.run, j.success),
            (SimTime::from_secs(10), SimDuration::from_secs(100), true)
        );
        assert_eq!((j.spec.cpu_cores, j.spec.memory_mib), (4, 0));
        assert_eq!(j.spec.expected_duration, SimDuration::from_secs(100));
    }

    #[test]
    fn requested_fields_fill_in_and_status_sets_success() {
        // allocated unknown → requested 8; requested memory 2048 KB/proc →
        // 16 MiB; requested time 300 s; status 0 = failed.
        let t = parse("1 0 -1 50 -1 -1 1024 8 300 2048 0 1 1 -1 -1 -1 -1 -1").unwrap();
        let j = &t.jobs[0];
        assert_eq!((j.spec.cpu_cores, j.spec.memory_mib), (8, 16));
        assert_eq!(j.spec.expected_duration, SimDuration::from_secs(300));
        assert!(!j.success);
    }

    #[test]
    fn unusable_jobs_are_counted_by_reason() {
        let t = parse(
            "1 -1 -1 100 4 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n\
             2 5 -1 -1 4 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n\
             3 5 -1 10 -1 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n\
             4 5 -1 10 0 -1 -1 0 -1 -1 1 1 1 -1 -1 -1 -1 -1\n",
        )
        .unwrap();
        assert_eq!(t.records, 4);
        assert!(t.jobs.is_empty());
        let reasons: Vec<_> = t.unusable.iter().map(|(r, c)| (*r, *c)).collect();
        assert_eq!(
            reasons,
            [
                ("unknown submit time", 1),
                ("unknown run time", 1),
                ("unknown processor count", 2)
            ]
        );
        assert_eq!(t.first_unusable_line, Some(1));
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let err = |text: &str| parse(text).unwrap_err().to_string();
        assert_eq!(
            err(&format!("{JOB}\n1 2 3\n")),
            "t.swf: line 2: expected 18 fields, found 3"
        );
        assert_eq!(
            err("1 x -1 100 4 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1"),
            "t.swf: line 1: field 2: 'x' is not a number"
        );
        assert_eq!(
            err("; MaxProcs: lots\n"),
            "t.swf: line 1: header MaxProcs: 'lots' is not a whole number"
        );
        assert!(
            err("1 0 -1 100 2.5 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1").contains("line 1: field 5")
        );
        assert!(err("1 0 -1 inf 2 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1").contains("field 4"));
    }
}
