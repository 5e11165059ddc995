//! Strict JSON for request bodies: a key given twice in one object is an
//! error (serde_json keeps the last one silently when it builds a `Value`,
//! so `{"priority": 1, "priority": 5}` would pass as whichever came last),
//! and a field the schema calls an object must be one.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::fmt;

/// A JSON value read with duplicate keys refused, at any depth.
#[derive(Debug)]
pub struct Strict(pub Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Strict, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Strict::deserialize(d).map(|s| s.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// `deserialize_with` for an optional field that must be a JSON object
/// when present (`null`, a list, a number or a string are refused).
pub(crate) fn object<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    match Strict::deserialize(d)?.0 {
        v @ Value::Object(_) => Ok(Some(v)),
        other => Err(de::Error::custom(format_args!(
            "must be a JSON object, not {}",
            kind(&other)
        ))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::Strict;

    #[test]
    fn a_key_given_twice_is_refused_at_any_depth() {
        let ok: Strict = serde_json::from_str(r#"{"a": [{"b": 1}, {"b": 2}]}"#).unwrap();
        assert_eq!(ok.0["a"][1]["b"], 2);
        for text in [r#"{"a": 1, "a": 2}"#, r#"{"x": {"b": 1, "b": 1}}"#] {
            let e = serde_json::from_str::<Strict>(text).expect_err(text);
            assert!(e.to_string().contains("duplicate field"), "{e}");
        }
    }

    #[derive(serde::Deserialize, Debug)]
    struct R {
        #[serde(default, deserialize_with = "super::object")]
        result: Option<serde_json::Value>,
    }

    #[test]
    fn an_object_field_takes_only_an_object() {
        assert!(serde_json::from_str::<R>("{}").unwrap().result.is_none());
        let r: R = serde_json::from_str(r#"{"result": {"k": 1}}"#).unwrap();
        assert_eq!(r.result.unwrap()["k"], 1);
        for bad in ["[]", "1", "\"s\"", "null", "true"] {
            let text = format!(r#"{{"result": {bad}}}"#);
            let e = serde_json::from_str::<R>(&text).expect_err(&text);
            assert!(e.to_string().contains("must be a JSON object"), "{e}");
        }
    }
}
