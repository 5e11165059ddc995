//! The config file as written: plain serde types, every struct closed with
//! `deny_unknown_fields` so a typo is an error, not a silent default. The
//! four sections and their first fields are the reference's; everything
//! marked "extension" is lbsim's and optional.

pub(crate) use super::arrivals::{RawArrivals, RawSpike};
use crate::scenario::DurationDist;
use indexmap::IndexMap;
use serde::de::{Error as _, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    #[serde(default, deserialize_with = "unique_names")]
    pub(crate) test_configurations: IndexMap<String, RawTestConfig>,
    #[serde(default, deserialize_with = "unique_names")]
    pub(crate) worker_profiles: IndexMap<String, RawWorkerProfile>,
    #[serde(default, deserialize_with = "unique_names")]
    pub(crate) test_profiles: IndexMap<String, RawTestProfile>,
    #[serde(default, deserialize_with = "unique_names")]
    pub(crate) scenario_configurations: IndexMap<String, RawScenario>,
}

/// A section of named entries; a name given twice is an error (serde's
/// maps keep the last one silently).
fn unique_names<'de, D, V>(de: D) -> Result<IndexMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Names<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> Visitor<'de> for Names<V> {
        type Value = IndexMap<String, V>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map of names to entries")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = IndexMap::new();
            while let Some(name) = map.next_key::<String>()? {
                if out.contains_key(&name) {
                    return Err(A::Error::custom(format!("'{name}' is defined twice")));
                }
                let entry = map.next_value()?;
                out.insert(name, entry);
            }
            Ok(out)
        }
    }
    de.deserialize_map(Names(std::marker::PhantomData))
}

/// Counts are signed here so a negative one gets lbsim's message, not serde's.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTestConfig {
    pub(crate) workers: Option<i64>,
    pub(crate) tests: Option<i64>,
    pub(crate) duration: Option<f64>,
    /// Read and then ignored: a config may say what it is for.
    #[serde(default)]
    #[allow(dead_code)]
    pub(crate) description: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWorkerProfile {
    pub(crate) memory_distribution: Option<Vec<f64>>,
    pub(crate) cuda_distribution: Option<Vec<i64>>,
    /// Read and then ignored: a config may say what it is for.
    #[serde(default)]
    #[allow(dead_code)]
    pub(crate) description: String,
    /// Extension: CPU cores per worker [default: `[4]`].
    pub(crate) cpu_cores_distribution: Option<Vec<i64>>,
    /// Extension: relative speeds [default: [1.0]].
    pub(crate) speed_distribution: Option<Vec<f64>>,
    /// Extension: share of memory tests may use [default: 0.9].
    pub(crate) usable_memory_fraction: Option<f64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTestProfile {
    pub(crate) memory_requirements: Option<Vec<f64>>,
    pub(crate) cuda_requirements: Option<Vec<i64>>,
    pub(crate) priority_distribution: Option<Vec<i64>>,
    /// Read and then ignored: a config may say what it is for.
    #[serde(default)]
    #[allow(dead_code)]
    pub(crate) description: String,
    /// Extension: CPU cores per test [default: `[1]`].
    pub(crate) cpu_requirements: Option<Vec<i64>>,
    /// Extension: mean run time, seconds [default: 10].
    pub(crate) expected_duration: Option<f64>,
    /// Extension: run-time distribution [default: uniform 0.5–1.5].
    pub(crate) duration_distribution: Option<DurationDist>,
    /// Extension: probability that a run fails [default: 0].
    pub(crate) failure_probability: Option<f64>,
    /// The reference's `retries`: extra runs after a failure [default: 3].
    pub(crate) retries: Option<i64>,
    /// The reference's `timeout`, seconds: a longer run is stopped and
    /// counts as failed [default: 3600].
    pub(crate) timeout: Option<f64>,
    /// Extension: distinct model families [default: 1].
    pub(crate) model_families: Option<i64>,
    /// Extension: distinct concurrency keys tests draw from [default: 0, none].
    pub(crate) concurrency_keys: Option<i64>,
    /// Extension: probability that a test carries a key [default: 1].
    pub(crate) concurrency_key_probability: Option<f64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub(crate) test_config: Option<String>,
    pub(crate) worker_profile: Option<String>,
    pub(crate) test_profile: Option<String>,
    pub(crate) burst_mode: Option<bool>,
    pub(crate) dynamic_workers: Option<bool>,
    /// Read and then ignored: a config may say what it is for.
    #[serde(default)]
    #[allow(dead_code)]
    pub(crate) description: String,
    /// Extension: master seed [default: 42; --seed wins].
    pub(crate) seed: Option<u64>,
    /// Extension: scheduling policy by name [--scheduler wins].
    pub(crate) scheduler: Option<String>,
    /// Extension: the arrival process [default: from burst_mode].
    pub(crate) arrivals: Option<RawArrivals>,
    /// Extension: worker churn [default: from dynamic_workers].
    pub(crate) churn: Option<RawChurn>,
    /// Extension: background load and thermal events.
    pub(crate) load: Option<RawLoad>,
    /// Extension: the run stops here, seconds [default: 10 × the window].
    pub(crate) horizon: Option<f64>,
    /// Extension: member weights of the `composite` policy, by policy name.
    pub(crate) composite_weights: Option<indexmap::IndexMap<String, f64>>,
    /// Extension: work stealing and rebalancing [default: off].
    pub(crate) work_stealing: Option<RawStealing>,
}

/// Work stealing, every field optional (the reference service's numbers
/// fill the gaps).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStealing {
    pub(crate) enabled: Option<bool>,
    pub(crate) steal_interval: Option<f64>,
    pub(crate) rebalance_interval: Option<f64>,
    pub(crate) idle_threshold: Option<f64>,
    pub(crate) busy_threshold: Option<f64>,
    pub(crate) overload_threshold: Option<f64>,
    pub(crate) max_transfers: Option<u32>,
    pub(crate) max_steals: Option<u32>,
    pub(crate) restart_cost: Option<f64>,
}

#[derive(Clone, Debug)]
pub(crate) enum RawChurn {
    None,
    Random(RawRandomChurn),
    Timeline { events: Vec<RawChurnEvent> },
}

/// The fields of `{"type": "timeline", ...}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimeline {
    events: Vec<RawChurnEvent>,
}

/// The fields of `{"type": "none"}`: none.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoFields {}

impl<'de> Deserialize<'de> for RawChurn {
    /// By `type`, then the variant's fields with their own paths: serde's
    /// tagged enums buffer the object and lose the path below the section
    /// (`churn` instead of `churn.events[1].count`).
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let mut fields = serde_json::Map::deserialize(de)?;
        let kind = match fields.remove("type") {
            Some(Value::String(kind)) => kind,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    ".type: {other} is not a churn type"
                )))
            }
            None => return Err(D::Error::missing_field("type")),
        };
        let fields = Value::Object(fields);
        match kind.as_str() {
            "none" => nested::<NoFields, D::Error>(fields).map(|_| RawChurn::None),
            "random" => nested(fields).map(RawChurn::Random),
            "timeline" => nested::<RawTimeline, D::Error>(fields)
                .map(|t| RawChurn::Timeline { events: t.events }),
            _ => Err(D::Error::unknown_variant(
                &kind,
                &["none", "random", "timeline"],
            )),
        }
    }
}

/// Reads a section's buffered fields, keeping the path below it: the
/// message starts with `.path: ` (see `config::json_error`).
pub(super) fn nested<T: serde::de::DeserializeOwned, E: serde::de::Error>(
    value: Value,
) -> Result<T, E> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match path.as_str() {
            "." | "" => E::custom(inner),
            p if p.starts_with('[') => E::custom(format!(".{p}: {inner}").replacen(".[", "[", 1)),
            p => E::custom(format!(".{p}: {inner}")),
        }
    })
}

/// Random churn; missing rates are the reference's `--dynamic` ones.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRandomChurn {
    pub(crate) join_probability: Option<f64>,
    pub(crate) leave_probability: Option<f64>,
    pub(crate) fail_fraction: Option<f64>,
    pub(crate) max_factor: Option<f64>,
    pub(crate) min_factor: Option<f64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChurnEvent {
    pub(crate) at: f64,
    pub(crate) action: crate::scenario::ChurnAction,
    pub(crate) count: Option<i64>,
    #[serde(default)]
    pub(crate) every: f64,
    #[serde(default)]
    pub(crate) replace: bool,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLoad {
    pub(crate) enabled: Option<bool>,
    pub(crate) cycle_min: Option<f64>,
    pub(crate) cycle_max: Option<f64>,
    pub(crate) update_probability: Option<f64>,
    pub(crate) thermal_probability: Option<f64>,
    pub(crate) warming: Option<f64>,
    pub(crate) cooling: Option<f64>,
    /// Extension: runs started on a loaded worker are slowed [default: false].
    pub(crate) contention: Option<bool>,
    /// Extension: `live` (the reference) or `reported` [default: live].
    pub(crate) view: Option<crate::scenario::LoadView>,
    /// Extension, reported view: most reports a second across the fleet [default: 500].
    pub(crate) report_rate: Option<f64>,
    /// Extension, reported view: seconds between one worker's reports, at least [default: 5].
    pub(crate) report_interval: Option<f64>,
}
