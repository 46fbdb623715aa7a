//! The `cio-replay` binary: parse the command line, run, turn the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;

use cio_replay::cli::Cli;
use cio_replay::exit::{Exit, exit_for_error, is_broken_pipe};

/// mimalloc: allocation and freeing are a fifth of dry-run's instructions with the system
/// allocator (docs/performance.md); mimalloc cuts dry-run's CPU time by 15-18 %.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // --help and --version print and succeed; real usage errors exit 2 (clap's own code).
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                Exit::Usage.code()
            } else {
                0
            });
        }
    };
    match cio_replay::cmd::run(cli.command) {
        Ok(exit) => exit.into(),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("cio-replay: error: {err:#}");
            exit_for_error(&err).into()
        }
    }
}
