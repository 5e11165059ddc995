//! The config file's named sections, looked up in the file and then the
//! built-in config. Apart from `build` so that `origin` (which blames a size
//! on its section) and `build` both read them without importing each other.

use super::raw::*;
use super::Config;
use crate::error::Result;
use crate::scenario::check::FieldPath;
use indexmap::IndexMap;

/// A named section of the config file: its key, what one entry is called
/// in messages, and where the raw entries are.
pub(super) struct Section<R: 'static> {
    pub(super) key: &'static str,
    what: &'static str,
    pub(super) entries: fn(&RawConfig) -> &IndexMap<String, R>,
}

pub(super) const TEST_CONFIGS: Section<RawTestConfig> = Section {
    key: "test_configurations",
    what: "test configuration",
    entries: |r| &r.test_configurations,
};
pub(super) const WORKER_PROFILES: Section<RawWorkerProfile> = Section {
    key: "worker_profiles",
    what: "worker profile",
    entries: |r| &r.worker_profiles,
};
pub(super) const TEST_PROFILES: Section<RawTestProfile> = Section {
    key: "test_profiles",
    what: "test profile",
    entries: |r| &r.test_profiles,
};

impl<R> Section<R> {
    /// The entry `name` built by `build` under its own path, from the file
    /// or else the built-in config (its errors then name the built-in file);
    /// a missing one is an error at `at` listing the known names.
    pub(super) fn resolve<T>(
        &self,
        cfg: &Config,
        at: &FieldPath,
        name: &str,
        build: fn(&FieldPath, &R) -> Result<T>,
    ) -> Result<T> {
        if let Some((owner, raw)) = self.owner(cfg, name) {
            let path = FieldPath::root().field(self.key).field(name);
            return build(&path, raw).map_err(|e| e.in_file(&owner.file));
        }
        let known = self.known(cfg).join(", ");
        Err(at.error(format!("no {} '{name}' (known: {known})", self.what)))
    }

    /// The entry `name` and the config that defines it: the file, else the
    /// built-in config.
    pub(super) fn owner<'c>(&self, cfg: &'c Config, name: &str) -> Option<(&'c Config, &'c R)> {
        let owners = std::iter::once(cfg).chain(cfg.builtin.as_deref());
        owners
            .into_iter()
            .find_map(|owner| Some((owner, (self.entries)(&owner.raw).get(name)?)))
    }

    /// The names the file defines, then the built-in ones it does not.
    pub(super) fn known<'c>(&self, cfg: &'c Config) -> Vec<&'c str> {
        let own = (self.entries)(&cfg.raw);
        let mut names: Vec<&str> = own.keys().map(String::as_str).collect();
        if let Some(b) = cfg.builtin.as_deref() {
            let builtin = (self.entries)(&b.raw).keys().map(String::as_str);
            names.extend(builtin.filter(|n| !own.contains_key(*n)));
        }
        names
    }
}
