//! One configuration run twice, every fact hashed in order: decisions as
//! the decision log writes them, final records as the per-test CSV writes
//! them, then the results JSON. The first fact that differs is reported.
//!
//! Run 1 keeps its facts as text (about 100 bytes each) so a divergence can
//! be shown from both sides; run 2 only compares.

use crate::balancer::policy::SchedulerName;
use crate::balancer::{Assignment, TestRecord};
use crate::engine::{Observer, RunOutput};
use crate::error::Result;
use crate::hash::Fnv64;
use crate::report::{self, DecisionLog, TestCsv};

/// Renders facts as text and hashes them; either keeps them (run 1) or
/// compares them with a kept stream (run 2).
struct FactStream<'a> {
    policy: SchedulerName,
    hash: Fnv64,
    count: u64,
    keep: Option<Vec<String>>,
    against: Option<&'a [String]>,
    first_difference: Option<(u64, String)>,
}

impl FactStream<'_> {
    fn fact(&mut self, text: String) {
        self.hash.write(text.as_bytes());
        self.hash.write(b"\n");
        let i = self.count;
        self.count += 1;
        if let Some(kept) = self.against {
            if self.first_difference.is_none() && kept.get(i as usize) != Some(&text) {
                self.first_difference = Some((i, text.clone()));
            }
        }
        if let Some(keep) = self.keep.as_mut() {
            keep.push(text);
        }
    }
}

impl Observer for FactStream<'_> {
    fn on_decision(&mut self, decision: &Assignment) -> Result<()> {
        let row = DecisionLog::row(decision, self.policy);
        self.fact(format!("decision {row}"));
        Ok(())
    }

    fn on_final(&mut self, record: &TestRecord) -> Result<()> {
        let mut row = String::new();
        TestCsv::push_row(&mut row, record);
        self.fact(format!("final {row}"));
        Ok(())
    }
}

/// Where two runs first differ: the fact's 1-based position and each run's
/// version of it (`None`: that run had no such fact).
#[derive(Clone, Debug, PartialEq)]
pub struct Divergence {
    /// 1-based position of the fact.
    pub index: u64,
    /// The first run's fact there.
    pub run1: Option<String>,
    /// The second run's fact there.
    pub run2: Option<String>,
}

/// What the check found.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Facts each run produced.
    pub facts: [u64; 2],
    /// Each run's hash over its facts.
    pub hashes: [Fnv64; 2],
    /// Each run's hash over its results JSON.
    pub json_hashes: [Fnv64; 2],
    /// The first differing fact, or the first differing line of the
    /// results JSON (as `json line N`).
    pub divergence: Option<Divergence>,
}

impl Verdict {
    /// True when both runs gave the same facts and the same results.
    pub fn is_deterministic(&self) -> bool {
        self.divergence.is_none()
    }
}

/// Runs `run` twice with a fact stream as its observer and compares.
pub fn check_determinism(
    policy: SchedulerName,
    mut run: impl FnMut(&mut dyn Observer) -> Result<RunOutput>,
) -> Result<Verdict> {
    let mut first = FactStream {
        policy,
        hash: Fnv64::default(),
        count: 0,
        keep: Some(Vec::new()),
        against: None,
        first_difference: None,
    };
    let out1 = run(&mut first)?;
    let kept = first.keep.take().unwrap_or_default();
    let mut second = FactStream {
        policy,
        hash: Fnv64::default(),
        count: 0,
        keep: None,
        against: Some(&kept),
        first_difference: None,
    };
    let out2 = run(&mut second)?;
    let json = |o: &RunOutput| report::ResultsDoc::from_run(o).to_json();
    let (j1, j2) = (json(&out1), json(&out2));
    let hash_of = |s: &str| {
        let mut h = Fnv64::default();
        h.write(s.as_bytes());
        h
    };
    let divergence = match second.first_difference.clone() {
        Some((i, text)) => Some(Divergence {
            index: i + 1,
            run1: kept.get(i as usize).cloned(),
            run2: Some(text),
        }),
        None if second.count < kept.len() as u64 => Some(Divergence {
            index: second.count + 1,
            run1: kept.get(second.count as usize).cloned(),
            run2: None,
        }),
        None => json_divergence(&j1, &j2),
    };
    Ok(Verdict {
        facts: [first.count, second.count],
        hashes: [first.hash, second.hash],
        json_hashes: [hash_of(&j1), hash_of(&j2)],
        divergence,
    })
}

fn json_divergence(a: &str, b: &str) -> Option<Divergence> {
    if a == b {
        return None;
    }
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let i = (0..la.len().max(lb.len())).find(|&i| la.get(i) != lb.get(i))?;
    Some(Divergence {
        index: i as u64 + 1,
        run1: la
            .get(i)
            .map(|l| format!("json line {}: {}", i + 1, l.trim())),
        run2: lb
            .get(i)
            .map(|l| format!("json line {}: {}", i + 1, l.trim())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine;
    use crate::scenario::StressOptions;

    #[test]
    fn fnv_matches_its_published_values() {
        let mut h = Fnv64::default();
        assert_eq!(h.hex(), "cbf29ce484222325");
        h.write(b"a");
        assert_eq!(h.0, 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn a_seeded_run_is_deterministic() {
        let s = StressOptions {
            tests: 50,
            dynamic: true,
            ..Default::default()
        }
        .to_scenario()
        .unwrap();
        let v = check_determinism(s.scheduler, |o| engine::run(&s, o)).unwrap();
        assert!(v.is_deterministic());
        assert_eq!(v.hashes[0], v.hashes[1]);
        assert!(v.facts[0] >= 100, "50 decisions and 50 finals at least");
    }

    #[test]
    fn a_run_that_changes_is_caught_at_its_first_difference() {
        let mut seed = 1;
        let v = check_determinism(SchedulerName::DEFAULT, |o| {
            seed += 1;
            let s = StressOptions {
                tests: 20,
                seed,
                ..Default::default()
            }
            .to_scenario()?;
            engine::run(&s, o)
        })
        .unwrap();
        let d = v.divergence.expect("different seeds diverge");
        assert!(d.run1.is_some() && d.run2.is_some());
        assert_ne!(d.run1, d.run2);
        assert_ne!(v.hashes[0], v.hashes[1]);
    }

    #[test]
    fn json_differences_name_the_line() {
        let d = json_divergence("{\n  \"a\": 1\n}\n", "{\n  \"a\": 2\n}\n").unwrap();
        assert_eq!(d.index, 2);
        assert_eq!(d.run2.as_deref(), Some("json line 2: \"a\": 2"));
        assert!(json_divergence("x", "x").is_none());
    }
}
