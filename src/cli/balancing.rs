//! The balancing flags (`--composite-weights`, `--work-stealing`,
//! `--concurrency-keys`), applied on top of any command's scenario.

use super::args::CommonArgs;
use crate::error::Result;
use crate::scenario::Scenario;

/// The scenario with the balancing flags applied, validated again.
pub fn apply(scenario: &Scenario, common: &CommonArgs) -> Result<Scenario> {
    let mut s = scenario.clone();
    if let Some(w) = &common.composite_weights {
        s.balancing.composite_weights = w.clone();
    }
    if common.work_stealing {
        s.balancing.stealing.enabled = true;
    }
    if let Some(n) = common.concurrency_keys {
        s.test_profile.concurrency_keys = n;
    }
    s.validate()?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balancer::policy::{CompositeWeights, SchedulerName};
    use crate::scenario::StressOptions;

    #[test]
    fn flags_override_the_scenario_and_absent_flags_keep_it() {
        let base = StressOptions::default().to_scenario().unwrap();
        assert_eq!(apply(&base, &CommonArgs::default()).unwrap(), base);
        let common = CommonArgs {
            composite_weights: Some(CompositeWeights::parse("fifo:1").unwrap()),
            work_stealing: true,
            concurrency_keys: Some(4),
            ..Default::default()
        };
        let s = apply(&base, &common).unwrap();
        assert!(s.balancing.stealing.enabled);
        assert_eq!(s.test_profile.concurrency_keys, 4);
        assert_eq!(
            s.balancing
                .composite_weights
                .0
                .keys()
                .copied()
                .collect::<Vec<_>>(),
            vec![SchedulerName::Fifo]
        );
    }
}
