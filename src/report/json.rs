//! The results JSON: the reference's `configuration`, `metrics` and
//! `time_series`, then lbsim's extensions.

use crate::engine::RunOutput;
use serde::Serialize;
use serde_json::{json, Value};

/// Decimal places kept for every float in an output file.
pub const FLOAT_DECIMALS: i32 = 6;
/// `10^FLOAT_DECIMALS`, written out so it is exact on every platform.
const FLOAT_SCALE: f64 = 1e6;

/// Rounds every non-integer number in `v` to `FLOAT_DECIMALS` places, so the
/// printed text does not depend on the last bits of a float sum.
pub fn round_floats(v: &mut Value) {
    match v {
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap_or(0.0);
            let scale = FLOAT_SCALE;
            let r = (x * scale).round() / scale;
            // -0.0 prints as "-0.0"; normalise it.
            let r = if r == 0.0 { 0.0 } else { r };
            *v = serde_json::Number::from_f64(r).map_or(Value::Null, Value::Number);
        }
        Value::Array(items) => items.iter_mut().for_each(round_floats),
        Value::Object(map) => map.values_mut().for_each(round_floats),
        _ => {}
    }
}

/// Serialises with rounded floats and two-space indentation, newline-ended.
pub fn to_pretty_json<T: Serialize>(value: &T) -> String {
    let mut v = serde_json::to_value(value).unwrap_or(Value::Null);
    round_floats(&mut v);
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

/// The results document of one run.
pub fn run_json(out: &RunOutput) -> Value {
    let s = &out.scenario;
    let mut doc = json!({
        "lbsim_version": env!("CARGO_PKG_VERSION"),
        "scenario": s.name,
        "seed": s.seed,
        "scheduler": s.scheduler,
        "configuration": {
            "workers": s.workers,
            "tests": s.tests,
            "duration": s.duration_s,
            "burst_mode": s.is_burst(),
            "dynamic_workers": s.is_dynamic(),
            // Wall-clock time would break byte-identical outputs; the
            // simulated run has no calendar date.
            "timestamp": null,
            "description": s.description,
            "horizon": s.horizon_s,
            "worker_profile": s.worker_profile,
            "test_profile": s.test_profile,
            "arrivals": s.arrivals,
            "churn": s.churn,
            "load": s.load,
        },
        "metrics": out.metrics,
        "time_series": out.series,
        "workers": out.workers,
        "run": out.run,
    });
    // Spike windows, for charts to mark (only when the arrivals have spikes).
    let spikes: Vec<Value> = s
        .arrivals
        .spikes()
        .iter()
        .map(|k| json!({"start": k.start_s, "end": k.end_s(), "multiplier": k.multiplier}))
        .collect();
    if let (false, Some(map)) = (spikes.is_empty(), doc.as_object_mut()) {
        map.insert("spikes".into(), Value::Array(spikes));
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_matches_the_decimals() {
        assert_eq!(FLOAT_SCALE.log10().round() as i32, FLOAT_DECIMALS);
    }

    #[test]
    fn floats_are_rounded_and_integers_kept() {
        let mut v = json!({"a": 0.1 + 0.2, "b": [1, 2.0000004, -0.0000001], "c": 7});
        round_floats(&mut v);
        assert_eq!(v.to_string(), r#"{"a":0.3,"b":[1,2.0,0.0],"c":7}"#);
    }
}
