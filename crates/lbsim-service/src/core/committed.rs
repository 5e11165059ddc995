//! How far the store got, as the writer reports it and the core reads it.
//! Defined with the core (the writer imports it) so the two do not import
//! each other.

/// How far the store got: batches up to `seq` of `generation` are saved;
/// `failed` while later ones are being refused (until a reset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Committed {
    pub(crate) generation: u64,
    pub(crate) seq: u64,
    pub(crate) failed: bool,
}
