//! One module per subcommand, each `run(args) -> anyhow::Result<Exit>`.

pub(crate) mod completions;
pub(crate) mod dry_run;
pub(crate) mod gdpr;
mod job;
pub mod man;
pub(crate) mod sandbox;
pub(crate) mod send;
pub(crate) mod validate;
pub(crate) mod verify;

use anyhow::Result;

use crate::cli::Command;
use crate::exit::Exit;

/// Run the chosen command.
pub fn run(command: Command) -> Result<Exit> {
    crate::report::messages::set_quiet(command.quiet());
    if let Some(preset) = command
        .input()
        .filter(|i| i.print_transform)
        .and_then(|i| i.preset.as_deref())
    {
        return print_transform(preset);
    }
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

/// `--preset NAME --print-transform`: the preset's jq program on standard output.
fn print_transform(name: &str) -> Result<Exit> {
    use std::io::Write;
    let preset = crate::transform::preset::find(name)
        .ok_or_else(|| crate::exit::usage(format!("--preset {name}: no such preset")))?;
    let mut out = std::io::stdout().lock();
    out.write_all(preset.text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| anyhow::anyhow!("writing the transform: {e}"))?;
    Ok(Exit::Success)
}
