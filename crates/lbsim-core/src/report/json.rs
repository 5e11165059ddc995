//! JSON in and out: every output file is written through one formatter
//! (serde_json's two-space layout, floats rounded as they are written), and
//! every results file is read back through one function that names the file
//! and the field path when it is not what lbsim wrote.

use crate::error::{Error, Result};
use crate::report::AtomicFile;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};
use std::io;
use std::path::Path;

/// Decimal places kept for every float in an output file.
pub const FLOAT_DECIMALS: i32 = 6;
/// `10^FLOAT_DECIMALS`, written out so it is exact on every platform.
const FLOAT_SCALE: f64 = 1e6;

/// `x` rounded to `FLOAT_DECIMALS` places, so the printed text does not
/// depend on the last bits of a float sum; -0.0 becomes 0.0 (it would print
/// as "-0.0"), and `None` where the result is not finite (written `null`).
fn rounded(x: f64) -> Option<f64> {
    let r = (x * FLOAT_SCALE).round() / FLOAT_SCALE;
    let r = if r == 0.0 { 0.0 } else { r };
    r.is_finite().then_some(r)
}

/// serde_json's pretty layout (two-space indent) with every float rounded
/// by [`rounded`] as it is written: no `Value` tree is built.
struct RoundingFormatter(PrettyFormatter<'static>);

impl Formatter for RoundingFormatter {
    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        match rounded(value) {
            Some(r) => CompactFormatter.write_f64(w, r),
            None => self.write_null(w),
        }
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(w, f64::from(value))
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }

    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Writes `value` as an output file's JSON: rounded floats, two-space
/// indentation, newline-ended.
pub fn write_json<W: io::Write, T: Serialize + ?Sized>(mut writer: W, value: &T) -> io::Result<()> {
    let formatter = RoundingFormatter(PrettyFormatter::new());
    let mut ser = serde_json::Serializer::with_formatter(&mut writer, formatter);
    value.serialize(&mut ser).map_err(io::Error::from)?;
    writer.write_all(b"\n")
}

/// [`write_json`] into a string.
pub fn to_pretty_json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut bytes = Vec::new();
    // Writing to a Vec cannot fail, and every type lbsim writes serialises
    // (string keys only); an empty string would show in any test.
    if write_json(&mut bytes, value).is_err() {
        return String::new();
    }
    String::from_utf8(bytes).unwrap_or_default()
}

/// [`write_json`] into `path`, whole or not at all.
pub(crate) fn write_json_file<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    write_json(file.writer(), value).map_err(|e| Error::io(path, e))?;
    file.commit()
}

/// Reads a JSON document of type `T` from `text` (named `file` in errors).
/// Broken JSON is `FILE: line L column C: not valid JSON: …`; JSON of the
/// wrong shape is `FILE: FIELD.PATH (line L, column C): …`, e.g. a missing
/// field or a string where a number belongs. Both are bad input (exit 2).
pub fn parse_json<T: DeserializeOwned>(file: &str, text: &str) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut *de)
        .map_err(|e| json_error(file, &e.path().to_string(), e.inner()))?;
    de.end().map_err(|e| json_error(file, ".", &e))?;
    Ok(value)
}

/// Reads a JSON document of type `T` from the file at `path`.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = crate::input::read(path, crate::input::InputKind::Results)?;
    let name = path.display().to_string();
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::bad_file(name.as_str(), "contents", "not UTF-8 text"))?;
    parse_json(&name, &text)
}

fn json_error(file: &str, path: &str, e: &serde_json::Error) -> Error {
    if !e.is_data() {
        return Error::bad_file(
            file,
            format!("line {} column {}", e.line(), e.column()),
            format!("not valid JSON: {e}"),
        );
    }
    let text = e.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m);
    let field = if path == "." { "top level" } else { path };
    Error::bad_file(
        file,
        format!("{field} (line {}, column {})", e.line(), e.column()),
        message,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// The rounding every output had before the formatter: the document
    /// turned into a `Value` tree and walked.
    fn old_round_floats(v: &mut Value) {
        match v {
            Value::Number(n) if n.is_f64() => {
                let x = n.as_f64().unwrap_or(0.0);
                let r = (x * FLOAT_SCALE).round() / FLOAT_SCALE;
                let r = if r == 0.0 { 0.0 } else { r };
                *v = serde_json::Number::from_f64(r).map_or(Value::Null, Value::Number);
            }
            Value::Array(items) => items.iter_mut().for_each(old_round_floats),
            Value::Object(map) => map.values_mut().for_each(old_round_floats),
            _ => {}
        }
    }

    fn old_to_pretty_json<T: Serialize>(value: &T) -> String {
        let mut v = serde_json::to_value(value).unwrap_or(Value::Null);
        old_round_floats(&mut v);
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    }

    #[test]
    fn the_scale_matches_the_decimals() {
        assert_eq!(FLOAT_SCALE.log10().round() as i32, FLOAT_DECIMALS);
    }

    #[test]
    fn floats_are_rounded_and_integers_kept() {
        let v = json!({"a": 0.1 + 0.2, "b": [1, 2.0000004, -0.0000001], "c": 7});
        let compact: Value = serde_json::from_str(&to_pretty_json(&v)).unwrap();
        assert_eq!(compact.to_string(), r#"{"a":0.3,"b":[1,2.0,0.0],"c":7}"#);
    }

    #[test]
    fn the_formatter_rounds_exactly_like_the_old_value_walk() {
        let edge: Vec<f64> = vec![
            -0.0,
            0.0,
            0.1 + 0.2,
            1e-7,
            -1e-7,
            5e-7,
            -5e-7,
            2.0000004,
            2.0000005,
            0.0000015,
            123_456.789_012_5,
            1e15 + 0.3,
            9_007_199_254.740_993,
            1e20,
            -1e20,
            1.797e302,
            1e303,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1.0,
            -1.5,
        ];
        let doc = json!({"xs": edge, "nested": {"x": [[1, 0.1 + 0.2]], "none": null}, "s": "a\"b"});
        assert_eq!(to_pretty_json(&doc), old_to_pretty_json(&doc));
        // Straight from typed values too (NaN never reaches a `Value`).
        #[derive(Serialize)]
        struct Typed {
            xs: Vec<f64>,
            single: f32,
            pair: (u64, f64),
            empty: Vec<f64>,
            map: indexmap::IndexMap<String, f64>,
        }
        let typed = Typed {
            xs: edge,
            single: 0.1,
            pair: (3, -0.0),
            empty: Vec::new(),
            map: indexmap::IndexMap::new(),
        };
        let text = to_pretty_json(&typed);
        assert_eq!(text, old_to_pretty_json(&typed));
        assert!(text.contains("\"pair\": [\n    3,\n    0.0\n  ]"), "{text}");
        assert!(
            text.contains("\"empty\": [],\n  \"map\": {}\n}\n"),
            "{text}"
        );
        let xs: Vec<String> = serde_json::from_str::<Value>(&text).unwrap()["xs"]
            .as_array()
            .unwrap()
            .iter()
            .map(Value::to_string)
            .collect();
        assert_eq!(&xs[..5], ["0.0", "0.0", "0.3", "0.0", "0.0"]);
        assert_eq!(&xs[7..9], ["2.0", "2.000001"]);
        assert_eq!(&xs[16..18], ["null"; 2], "overflowing when scaled: null");
        assert_eq!(xs[18], "0.0");
        assert_eq!(&xs[19..22], ["null"; 3], "NaN and infinite: null");
    }

    #[test]
    fn writing_a_file_is_the_same_text() {
        let dir = std::env::temp_dir().join(format!("lbsim-json-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.json");
        let v = json!({"a": [0.1 + 0.2, 4], "b": {}});
        write_json_file(&path, &v).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), to_pretty_json(&v));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Shape {
        name: String,
        inner: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        xs: Vec<u64>,
    }

    #[test]
    fn a_wrong_shape_names_the_file_and_the_field_path() {
        let err = |text: &str| parse_json::<Shape>("r.json", text).unwrap_err();
        let e = err(r#"{"name": "a", "inner": {"xs": [1, "two"]}}"#);
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.to_string(),
            "r.json: inner.xs[1] (line 1, column 39): invalid type: string \"two\", expected u64"
        );
        let e = err("{\"name\": \"a\",\n \"inner\": {}}");
        assert_eq!(
            e.to_string(),
            "r.json: inner (line 2, column 12): missing field `xs`"
        );
        let e = err("5");
        assert!(
            e.to_string().starts_with("r.json: top level (line 1"),
            "{e}"
        );
        let e = err("{\"name\": ");
        assert_eq!(
            e.to_string(),
            "r.json: line 1 column 9: not valid JSON: EOF while parsing a value at line 1 column 9"
        );
        let e = err(r#"{"name": "a", "inner": {"xs": []}} x"#);
        assert!(
            e.to_string()
                .contains("not valid JSON: trailing characters"),
            "{e}"
        );
    }
}
