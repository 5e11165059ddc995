//! The `lbsim` binary: parse, run, map errors to exit codes. All logic lives
//! in the library.

fn main() {
    std::process::exit(lbsim::cli::main());
}

/// Runs before `main` and before Rust's runtime, which puts `/dev/null` on
/// a closed stdout (`lbsim >&-`): only here can lbsim still tell that its
/// output has nowhere to go, so that writing it fails (exit 1) rather than
/// vanishing with exit 0.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static NOTE_CLOSED_STDOUT: extern "C" fn() = note_closed_stdout;

#[cfg(target_os = "linux")]
extern "C" fn note_closed_stdout() {
    // /proc/self/fd/1 names an open descriptor 1; a closed one is absent.
    let proc_mounted = std::path::Path::new("/proc/self/fd").is_dir();
    if proc_mounted && std::fs::symlink_metadata("/proc/self/fd/1").is_err() {
        lbsim::console::note_stdout_missing();
    }
}
