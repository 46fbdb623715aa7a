//! One module per subcommand, each `run(args) -> anyhow::Result<Exit>`.

pub mod completions;
pub mod dry_run;
pub mod gdpr;
mod job;
pub mod man;
pub mod sandbox;
pub mod send;
pub mod validate;
pub mod verify;

use anyhow::Result;

use crate::cli::Command;
use crate::exit::Exit;

/// Run the chosen command.
pub fn run(command: Command) -> Result<Exit> {
    crate::messages::set_quiet(command.quiet());
    match command {
        Command::Validate(args) => validate::run(args),
        Command::DryRun(args) => dry_run::run(args),
        Command::Send(args) => send::run(args),
        Command::Gdpr(args) => gdpr::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Sandbox(args) => sandbox::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
    }
}
