//! One module per subcommand, each `run(args) -> anyhow::Result<Exit>`.

pub mod completions;
pub mod gdpr;
pub mod man;
pub mod sandbox;
pub mod send;

use anyhow::Result;

use crate::cli::Command;
use crate::exit::Exit;

/// Run the chosen command.
pub fn run(command: Command) -> Result<Exit> {
    match command {
        Command::Validate(_) => anyhow::bail!("validate: not built yet"),
        Command::DryRun(_) => anyhow::bail!("dry-run: not built yet"),
        Command::Send(args) => send::run(args),
        Command::Gdpr(args) => gdpr::run(args),
        Command::Sandbox(args) => sandbox::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
    }
}
