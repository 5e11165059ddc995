//! The `lbsim` binary: parse, run, map errors to exit codes. All logic lives
//! in the library.

fn main() {
    std::process::exit(lbsim::cli::main());
}
