//! The `cio-replay` binary: parse the command line, run, turn the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;

use cio_replay::cli::Cli;
use cio_replay::exit::{Exit, exit_for_error, is_broken_pipe};

/// mimalloc: allocation and freeing are a fifth of dry-run's instructions with the system
/// allocator (docs/performance.md); mimalloc cuts dry-run's CPU time by 15-18 %.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// No transparent huge pages for this process. mimalloc asks the kernel for them, and each thread's
/// memory then grows in 2 MiB steps: a sender with 4 lanes peaked at 50 MiB instead of 21 MiB, with
/// no gain in speed (docs/performance.md).
#[cfg(target_os = "linux")]
fn no_huge_pages() {
    // SAFETY: prctl(PR_SET_THP_DISABLE) takes plain integers and changes only this process's
    // memory policy; its result is ignored (an old kernel without it keeps the default).
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(not(target_os = "linux"))]
fn no_huge_pages() {}

fn main() -> ExitCode {
    no_huge_pages();
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
    match cio_replay::cli::run(cli.command) {
        Ok(exit) => exit.into(),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            cio_replay::report::messages::error(&err);
            exit_for_error(&err).into()
        }
    }
}
