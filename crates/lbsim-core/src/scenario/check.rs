//! Field paths and the value rules every section check shares, so each rule
//! and its message are written once.
//!
//! A section check names a field by its path under the section's own path:
//! `worker_profile.usable_memory_fraction` in a hand-built scenario,
//! `worker_profiles.gpu.usable_memory_fraction` in a config file. Field names
//! are the config file's (the names users write and the README documents).

use crate::error::{Error, Result};
use std::fmt;

/// Where a field sits: dotted names, list positions in brackets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FieldPath(String);

impl FieldPath {
    /// The empty path: the fields of a hand-built scenario are named bare.
    pub(crate) fn root() -> FieldPath {
        FieldPath::default()
    }

    /// The field `name` under this path.
    pub(crate) fn field(&self, name: &str) -> FieldPath {
        if self.0.is_empty() {
            FieldPath(name.to_string())
        } else {
            FieldPath(format!("{}.{name}", self.0))
        }
    }

    /// Item `i` of the list at this path.
    pub(crate) fn index(&self, i: usize) -> FieldPath {
        FieldPath(format!("{}[{i}]", self.0))
    }

    /// An error naming this field (exit 2); `Error::in_file` adds the file.
    pub(crate) fn error(&self, message: impl Into<String>) -> Error {
        Error::invalid(self.0.clone(), message)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A rule for a real number: the test and what a refused value must be.
/// Non-finite values are always refused.
pub(crate) struct Real {
    ok: fn(f64) -> bool,
    what: &'static str,
}

pub(crate) const POSITIVE: Real = Real {
    ok: |x| x > 0.0,
    what: "must be a positive number",
};
pub(crate) const NON_NEGATIVE: Real = Real {
    ok: |x| x >= 0.0,
    what: "must be a number >= 0",
};
pub(crate) const POSITIVE_SECONDS: Real = Real {
    ok: |x| x > 0.0,
    what: "must be a positive number of seconds",
};
pub(crate) const PROBABILITY: Real = Real {
    ok: |x| (0.0..=1.0).contains(&x),
    what: "must be a probability in [0, 1]",
};
/// A share that cannot be nothing (usable memory).
pub(crate) const SHARE: Real = Real {
    ok: |x| x > 0.0 && x <= 1.0,
    what: "must be a fraction in (0, 1]",
};
pub(crate) const FRACTION: Real = Real {
    ok: |x| (0.0..=1.0).contains(&x),
    what: "must be a fraction in [0, 1]",
};

impl Real {
    /// `x` at `path` passes, or the error says `"{x} must be …"`.
    pub(crate) fn check(&self, path: &FieldPath, x: f64) -> Result<()> {
        if x.is_finite() && (self.ok)(x) {
            Ok(())
        } else {
            Err(path.error(format!("{x} {}", self.what)))
        }
    }
}

/// A rule for a whole number, with its bounds.
pub(crate) struct Whole {
    min: i64,
    max: i64,
    what: &'static str,
}

pub(crate) const COUNT: Whole = Whole {
    min: 0,
    max: i64::MAX,
    what: "must be a whole number >= 0",
};
pub(crate) const AT_LEAST_ONE: Whole = Whole {
    min: 1,
    max: i64::MAX,
    what: "must be a whole number >= 1",
};
pub(crate) const PRIORITY: Whole = Whole {
    min: 1,
    max: 5,
    what: "must be a priority from 1 to 5",
};

impl Whole {
    /// `x` at `path` passes, or the error says `"{x} must be …"`.
    pub(crate) fn check(&self, path: &FieldPath, x: impl Into<i64>) -> Result<()> {
        let x = x.into();
        if (self.min..=self.max).contains(&x) {
            Ok(())
        } else {
            Err(path.error(format!("{x} {}", self.what)))
        }
    }

    /// A config's signed value in the field's own type, under this rule; a
    /// value the type cannot hold gets the rule's message too.
    pub(crate) fn convert<T: TryFrom<i64>>(&self, path: &FieldPath, x: i64) -> Result<T> {
        self.check(path, x)?;
        T::try_from(x).map_err(|_| path.error(format!("{x} {}", self.what)))
    }

    /// `convert` over a list; `None` stays `None` (the section's default).
    pub(crate) fn convert_list<T: TryFrom<i64>>(
        &self,
        path: &FieldPath,
        raw: &Option<Vec<i64>>,
    ) -> Result<Option<Vec<T>>> {
        let Some(items) = raw else { return Ok(None) };
        let items = items.iter().enumerate();
        let list = items.map(|(i, &x)| self.convert(&path.index(i), x));
        list.collect::<Result<Vec<T>>>().map(Some)
    }
}

/// A list that must not be empty and whose every item passes `item`.
pub(crate) fn each<T>(
    path: &FieldPath,
    items: &[T],
    item: impl Fn(&FieldPath, &T) -> Result<()>,
) -> Result<()> {
    if items.is_empty() {
        return Err(path.error("must not be empty"));
    }
    let mut items = items.iter().enumerate();
    items.try_for_each(|(i, x)| item(&path.index(i), x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_as_users_write_them() {
        let p = FieldPath::root().field("worker_profiles").field("gpu");
        assert_eq!(
            p.field("memory_distribution").index(2).to_string(),
            "worker_profiles.gpu.memory_distribution[2]"
        );
        assert_eq!(FieldPath::root().field("workers").to_string(), "workers");
    }

    #[test]
    fn rules_name_the_value_and_what_it_must_be() {
        let p = FieldPath::root().field("x");
        assert!(PROBABILITY.check(&p, 0.0).is_ok() && PROBABILITY.check(&p, 1.0).is_ok());
        let e = PROBABILITY.check(&p, 1.5).unwrap_err().to_string();
        assert_eq!(e, "invalid x: 1.5 must be a probability in [0, 1]");
        assert!(SHARE.check(&p, 0.0).is_err() && SHARE.check(&p, f64::NAN).is_err());
        let e = PRIORITY.convert::<u8>(&p, 300).unwrap_err().to_string();
        assert_eq!(e, "invalid x: 300 must be a priority from 1 to 5");
        let e = AT_LEAST_ONE
            .convert::<u32>(&p, 5_000_000_000)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "invalid x: 5000000000 must be a whole number >= 1");
        let e = COUNT
            .convert_list::<u32>(&p, &Some(vec![0, -1]))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "invalid x[1]: -1 must be a whole number >= 0");
    }

    #[test]
    fn an_empty_list_is_refused_before_its_items_are_checked() {
        let p = FieldPath::root().field("l");
        let e = each(&p, &[] as &[f64], |p, &x| POSITIVE.check(p, x)).unwrap_err();
        assert_eq!(e.to_string(), "invalid l: must not be empty");
        let e = each(&p, &[1.0, -2.0], |p, &x| POSITIVE.check(p, x)).unwrap_err();
        assert_eq!(e.to_string(), "invalid l[1]: -2 must be a positive number");
    }
}
