//! `--shard K/N`: a deterministic 1/N of a grid's cells, for job arrays;
//! `--shard auto`: K from the batch system's own array index.

use crate::error::{Error, Result};

/// Shard K of N (stored 0-based): the cells whose index % N == K − 1.
/// Striding rather than blocks spreads the slow and fast corners of a grid
/// evenly over the shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    index: usize,
    count: usize,
}

impl Shard {
    /// Every cell.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// The `--shard` flag: `K/N` if given, else every cell.
    pub fn from_flag(spec: Option<&str>) -> Result<Shard> {
        spec.map_or(Ok(Shard::WHOLE), Shard::parse)
    }

    /// Parses `K/N` with 1 ≤ K ≤ N.
    pub fn parse(spec: &str) -> Result<Shard> {
        let bad = |why: &str| Error::invalid("--shard", format!("'{spec}' {why}"));
        let (k, n) = spec
            .split_once('/')
            .ok_or_else(|| bad("is not K/N (e.g. 1/4)"))?;
        let k: usize = k.trim().parse().map_err(|_| bad("is not K/N (e.g. 1/4)"))?;
        let n: usize = n.trim().parse().map_err(|_| bad("is not K/N (e.g. 1/4)"))?;
        if n == 0 || k == 0 || k > n {
            return Err(bad("needs 1 <= K <= N"));
        }
        Ok(Shard {
            index: k - 1,
            count: n,
        })
    }

    /// `--shard auto`: the 0-based array index from `index` (`--shard-index`,
    /// for HTCondor's `$(Process)`) or the first scheduler variable of
    /// `INDEX_VARS` that is set (read through `var`), and the count from
    /// `count` (`--shards`) or `LBSIM_SHARDS`. The count is never guessed
    /// from the array's own size: a resubmitted single task (`sbatch
    /// --array=3`) sees an array of one and would run the wrong shard.
    pub(crate) fn auto(
        index: Option<u64>,
        count: Option<u64>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Shard> {
        let count = match count {
            Some(n) => n,
            None => match var(COUNT_VAR) {
                Some(text) => text.trim().parse().map_err(|_| {
                    Error::invalid(COUNT_VAR, format!("'{text}' is not a shard count"))
                })?,
                None => return Err(auto_error(
                    "needs the shard count (the whole array's size): give --shards N or set LBSIM_SHARDS=N",
                )),
            },
        };
        if count == 0 {
            return Err(auto_error("needs a shard count of at least 1"));
        }
        let (source, index) = match index {
            Some(i) => ("--shard-index".to_string(), i),
            None => array_index(&var)?,
        };
        if index >= count {
            return Err(auto_error(&format!(
                "{source} is {index}, but there are {count} shards, numbered 0-{}: number the array from 0",
                count - 1
            )));
        }
        if let Some(max) = var("SLURM_ARRAY_TASK_MAX").and_then(|m| m.trim().parse::<u64>().ok()) {
            if max >= count {
                return Err(auto_error(&format!(
                    "SLURM_ARRAY_TASK_MAX is {max}, but there are {count} shards: submit --array=0-{}",
                    count - 1
                )));
            }
        }
        Ok(Shard {
            index: index as usize,
            count: count as usize,
        })
    }

    /// This shard's number K (1-based), what `{shard}` in a file name
    /// becomes.
    pub(crate) fn number(&self) -> usize {
        self.index + 1
    }

    /// N, the number of shards.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    pub(crate) fn contains(&self, cell: usize) -> bool {
        cell % self.count == self.index
    }

    pub(crate) fn is_whole(&self) -> bool {
        self.count == 1
    }
}

/// The variables `--shard auto` reads the 0-based array index from, with
/// their batch systems, in the order they are tried.
pub(crate) const INDEX_VARS: &[(&str, &str)] = &[
    ("SLURM_ARRAY_TASK_ID", "Slurm"),
    ("PBS_ARRAY_INDEX", "PBS Pro"),
    ("PBS_ARRAYID", "Torque"),
    ("JOB_COMPLETION_INDEX", "Kubernetes"),
];

/// The shard count for `--shard auto` when `--shards` is not given.
pub(crate) const COUNT_VAR: &str = "LBSIM_SHARDS";

fn auto_error(why: &str) -> Error {
    Error::invalid("--shard", format!("'auto' {why}"))
}

/// The first scheduler index variable that is set, and its value.
fn array_index(var: &impl Fn(&str) -> Option<String>) -> Result<(String, u64)> {
    let Some((name, text)) = INDEX_VARS
        .iter()
        .find_map(|(name, _)| var(name).map(|v| (*name, v)))
    else {
        let names: Vec<&str> = INDEX_VARS.iter().map(|(n, _)| *n).collect();
        return Err(auto_error(&format!(
            "found no array index: none of {} is set (HTCondor: pass --shard-index $(Process))",
            names.join(", ")
        )));
    };
    let index = text
        .trim()
        .parse()
        .map_err(|_| Error::invalid(name, format!("'{text}' is not an array index")))?;
    Ok((name.to_string(), index))
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_cells() {
        let shards: Vec<Shard> = (1..=3)
            .map(|k| Shard::parse(&format!("{k}/3")).unwrap())
            .collect();
        for cell in 0..20 {
            assert_eq!(shards.iter().filter(|s| s.contains(cell)).count(), 1);
        }
        assert!(shards[1].contains(4) && !shards[1].contains(5));
        assert_eq!(shards[2].to_string(), "3/3");
    }

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn auto_reads_the_schedulers_index_and_an_explicit_count() {
        // A 0-3 array, and task 3 resubmitted alone: the same shard.
        let full = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("LBSIM_SHARDS", "4"),
        ];
        let alone = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "3"),
            ("SLURM_ARRAY_TASK_MAX", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
            ("LBSIM_SHARDS", "4"),
        ];
        for env in [&full[..], &alone[..]] {
            let s = Shard::auto(None, None, vars(env)).unwrap();
            assert_eq!((s.to_string(), s.number()), ("4/4".to_string(), 4));
        }
        let k8s = [("JOB_COMPLETION_INDEX", "0")];
        assert_eq!(
            Shard::auto(None, Some(2), vars(&k8s)).unwrap().to_string(),
            "1/2"
        );
        let pbs = [("PBS_ARRAY_INDEX", "1"), ("LBSIM_SHARDS", "3")];
        assert_eq!(
            Shard::auto(None, None, vars(&pbs)).unwrap().to_string(),
            "2/3"
        );
        // HTCondor: $(Process) as a flag; the flag wins over the count variable.
        let s = Shard::auto(Some(2), Some(5), vars(&pbs)).unwrap();
        assert_eq!(s.to_string(), "3/5");
    }

    #[test]
    fn auto_refuses_naming_what_is_missing() {
        let refused = |index, count, env: &[(&str, &str)]| {
            let e = Shard::auto(index, count, vars(env)).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            e.to_string()
        };
        let e = refused(None, None, &[("SLURM_ARRAY_TASK_ID", "1")]);
        assert!(
            e.contains("--shards N") && e.contains("LBSIM_SHARDS"),
            "{e}"
        );
        let e = refused(None, Some(4), &[]);
        assert!(
            e.contains("SLURM_ARRAY_TASK_ID") && e.contains("$(Process)"),
            "{e}"
        );
        let e = refused(None, Some(4), &[("SLURM_ARRAY_TASK_ID", "4")]);
        assert!(
            e.contains("SLURM_ARRAY_TASK_ID is 4") && e.contains("0-3"),
            "{e}"
        );
        // A 1-4 array: every task refuses, not only the last.
        let one_based = [("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_MAX", "4")];
        let e = refused(None, Some(4), &one_based);
        assert!(e.contains("--array=0-3"), "{e}");
        let e = refused(None, None, &[("PBS_ARRAYID", "x"), ("LBSIM_SHARDS", "2")]);
        assert_eq!(e, "invalid PBS_ARRAYID: 'x' is not an array index");
        let e = refused(
            None,
            None,
            &[("JOB_COMPLETION_INDEX", "0"), ("LBSIM_SHARDS", "four")],
        );
        assert_eq!(e, "invalid LBSIM_SHARDS: 'four' is not a shard count");
        let e = refused(Some(0), Some(0), &[]);
        assert!(e.contains("at least 1"), "{e}");
    }

    #[test]
    fn bad_specs_name_the_flag_and_the_spec() {
        for spec in ["3/2", "0/2", "1/0", "2", "a/b", ""] {
            let e = Shard::parse(spec).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(
                e.to_string()
                    .starts_with(&format!("invalid --shard: '{spec}'")),
                "{e}"
            );
        }
    }
}
