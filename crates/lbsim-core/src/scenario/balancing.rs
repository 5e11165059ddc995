//! The rules of the balancing options (composite weights, work stealing),
//! named by where the options were written: `composite_weights` and
//! `stealing` in a scenario, `composite_weights` and `work_stealing` in a
//! config file's scenario.

use super::check::FieldPath;
use crate::balancer::options::BalancerOptions;
use crate::error::Result;

/// Checks both options; `weights` and `stealing` name their sections.
pub(crate) fn check(
    options: &BalancerOptions,
    weights: &FieldPath,
    stealing: &FieldPath,
) -> Result<()> {
    options
        .composite_weights
        .validate()
        .map_err(|m| weights.error(m.to_string()))?;
    options.stealing.validate().map_err(|(field, m)| {
        // The balancer names its fields `stealing.<name>`.
        let name = field.strip_prefix("stealing.").unwrap_or(field);
        stealing.field(name).error(m)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_option_is_named_under_its_section() {
        let mut o = BalancerOptions::default();
        let (w, s) = (FieldPath::root().field("cw"), FieldPath::root().field("ws"));
        check(&o, &w, &s).unwrap();
        o.stealing.idle_threshold = 0.9;
        let e = check(&o, &w, &s).unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid ws.idle_threshold: must not exceed busy_threshold"
        );
        o.composite_weights.0.clear();
        let e = check(&o, &w, &s).unwrap_err().to_string();
        assert_eq!(e, "invalid cw: needs at least one NAME:WEIGHT");
    }
}
