//! `--shard K/N`: a deterministic 1/N of a grid's cells, for job arrays.

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

    pub fn contains(&self, cell: usize) -> bool {
        cell % self.count == self.index
    }

    pub fn is_whole(&self) -> bool {
        self.count == 1
    }
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
