//! The config file's `arrivals`: a plain pattern's fields under `"type"`
//! (as a results file writes them), with `spikes` beside them.
//!
//! serde cannot read that shape into `Arrivals` by itself (the spikes sit
//! among the pattern's fields, and it ignores stray fields of patterns that
//! have none), so this reader splits the object and checks its keys against
//! what serde knows of each pattern. Its messages are serde's own.

use crate::scenario::Arrivals;
use serde::de::{DeserializeSeed, Error as _, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use std::fmt;
use std::sync::OnceLock;

/// One spike as the file writes it (here, with the arrivals that hold it,
/// so `raw` may re-export both without a circle).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSpike {
    pub(crate) start: f64,
    pub(crate) length: f64,
    pub(crate) multiplier: f64,
    #[serde(default)]
    pub(crate) ramp: f64,
}

/// `arrivals` as written: the plain pattern and the spikes beside it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawArrivals {
    pub(crate) pattern: Arrivals,
    pub(crate) spikes: Vec<RawSpike>,
}

/// The variant serde writes for spikes; not a pattern of its own.
const SPIKY: &str = "spiky";

/// A plain pattern: its `type` and the fields a config may give it
/// (its own, then `spikes`).
struct PatternInfo {
    name: &'static str,
    fields: Vec<&'static str>,
}

/// Every plain pattern of `Arrivals`, as serde knows them: asked once, by
/// reading probe inputs whose errors carry serde's lists of names.
fn patterns() -> &'static [PatternInfo] {
    static PATTERNS: OnceLock<Vec<PatternInfo>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let names = probe(&[("type", "\u{0}")]);
        let plain = names.iter().filter(|&&n| n != SPIKY);
        plain
            .map(|&name| {
                let mut fields = probe(&[("type", name), ("\u{0}", "")]).to_vec();
                fields.push("spikes");
                PatternInfo { name, fields }
            })
            .collect()
    })
}

fn pattern_names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| patterns().iter().map(|p| p.name).collect())
}

/// The list serde hands its `unknown_variant` or `unknown_field` error when
/// `Arrivals` is read from `entries` (empty when it reads them fine).
fn probe(entries: &[(&'static str, &'static str)]) -> &'static [&'static str] {
    let de = serde::de::value::MapDeserializer::<_, Probe>::new(entries.iter().copied());
    Arrivals::deserialize(de).err().map_or(&[], |p| p.expected)
}

/// An error that keeps only the list of names serde says it expected.
#[derive(Debug, Default)]
struct Probe {
    expected: &'static [&'static str],
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected one of {:?}", self.expected)
    }
}

impl std::error::Error for Probe {}

impl serde::de::Error for Probe {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Probe::default()
    }
    fn unknown_variant(_: &str, expected: &'static [&'static str]) -> Self {
        Probe { expected }
    }
    fn unknown_field(_: &str, expected: &'static [&'static str]) -> Self {
        Probe { expected }
    }
}

impl<'de> Deserialize<'de> for RawArrivals {
    /// `type` and `spikes` are read in place, so their errors keep their
    /// path and position; the other fields must be the pattern's.
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let (fields, spikes) = de.deserialize_map(ArrivalsVisitor)?;
        let name = fields
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let info = patterns().iter().find(|p| p.name == name);
        let known: &'static [&'static str] = info.map_or(&[], |p| &p.fields);
        if let Some(k) = fields
            .keys()
            .find(|k| *k != "type" && !known.contains(&k.as_str()))
        {
            return Err(D::Error::unknown_field(k, known));
        }
        let pattern = read_pattern(fields).map_err(D::Error::custom)?;
        Ok(RawArrivals {
            pattern,
            spikes: spikes.unwrap_or_default(),
        })
    }
}

/// The pattern from its fields. `Arrivals` is a tagged enum, so serde's
/// error names no field: on failure, the field that fails alone is named
/// (`.rate: invalid type…`, see `config::json_error`).
fn read_pattern(fields: Map<String, Value>) -> Result<Arrivals, String> {
    let whole = serde_json::from_value(Value::Object(fields.clone()));
    let err = match whole {
        Ok(pattern) => return Ok(pattern),
        Err(e) => e.to_string(),
    };
    let kind = fields.get("type").cloned().unwrap_or(Value::Null);
    for (key, value) in fields.iter().filter(|(k, _)| *k != "type") {
        let alone = Map::from_iter([
            ("type".to_string(), kind.clone()),
            (key.clone(), value.clone()),
        ]);
        if let Err(e) = serde_json::from_value::<Arrivals>(Value::Object(alone)) {
            return Err(format!(".{key}: {e}"));
        }
    }
    Err(err)
}

struct ArrivalsVisitor;

impl<'de> Visitor<'de> for ArrivalsVisitor {
    type Value = (Map<String, Value>, Option<Vec<RawSpike>>);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an arrival pattern {\"type\": …}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut fields, mut spikes) = (Map::new(), None);
        while let Some(key) = map.next_key::<String>()? {
            let value = match key.as_str() {
                "spikes" => {
                    spikes = Some(map.next_value()?);
                    continue;
                }
                "type" => Value::String(map.next_value_seed(PatternName)?),
                _ => map.next_value()?,
            };
            fields.insert(key, value);
        }
        if !fields.contains_key("type") {
            return Err(A::Error::missing_field("type"));
        }
        Ok((fields, spikes))
    }
}

/// A `type` value that names a plain pattern.
struct PatternName;

impl<'de> DeserializeSeed<'de> for PatternName {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<String, D::Error> {
        de.deserialize_str(self)
    }
}

impl Visitor<'_> for PatternName {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the name of an arrival pattern")
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<String, E> {
        if pattern_names().contains(&name) {
            Ok(name.to_string())
        } else {
            Err(E::unknown_variant(name, pattern_names()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<RawArrivals, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn serde_names_every_plain_pattern_and_its_fields() {
        let names = pattern_names();
        assert_eq!(names[..3], ["even", "bursts", "poisson"]);
        assert!(!names.contains(&SPIKY), "{names:?}");
        let fields = |name: &str| {
            let info = patterns().iter().find(|p| p.name == name).unwrap();
            info.fields.clone()
        };
        assert_eq!(fields("even"), ["spikes"]);
        assert_eq!(fields("poisson"), ["rate", "spikes"]);
    }

    #[test]
    fn spikes_sit_beside_the_patterns_fields() {
        let a =
            read(r#"{"spikes": [{"start": 1, "length": 2, "multiplier": 3}], "type": "poisson"}"#)
                .unwrap();
        assert_eq!(
            a.pattern,
            Arrivals::Poisson(crate::scenario::Poisson { rate: None })
        );
        assert_eq!((a.spikes.len(), a.spikes[0].ramp), (1, 0.0));
        let a = read(r#"{"type": "bursts"}"#).unwrap();
        assert_eq!((a.pattern, a.spikes), (Arrivals::Bursts, vec![]));
    }

    #[test]
    fn a_stray_field_or_type_gets_serdes_message() {
        let e = read(r#"{"type": "even", "rate": 1}"#).unwrap_err();
        assert!(
            e.starts_with("unknown field `rate`, expected `spikes`"),
            "{e}"
        );
        let e = read(r#"{"type": "poisson", "rat": 1}"#).unwrap_err();
        assert!(
            e.starts_with("unknown field `rat`, expected `rate` or `spikes`"),
            "{e}"
        );
        let e = read(r#"{"type": "spiky", "base": {"type": "even"}}"#).unwrap_err();
        assert!(
            e.starts_with("unknown variant `spiky`, expected one of `even`, `bursts`, `poisson`"),
            "{e}"
        );
        let e = read(r#"{"rate": 1}"#).unwrap_err();
        assert!(e.starts_with("missing field `type`"), "{e}");
    }
}
