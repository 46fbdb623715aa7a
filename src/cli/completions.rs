//! `cio-replay completions SHELL`: print the shell completion script clap_complete generates.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit::Exit;

/// The program name completions are registered for.
const BIN_NAME: &str = "cio-replay";

/// Render the completion script for `shell` (exactly what the command prints).
pub(crate) fn render(shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    // clap_complete panics when its writer fails, so render into memory and write out ourselves.
    clap_complete::generate(shell, &mut cmd, BIN_NAME, &mut script);
    if shell == clap_complete::Shell::Bash {
        fix_bash_state_labels(script)
    } else {
        script
    }
}

/// clap_complete (4.6.11 and earlier) spells the bash `case` labels of subcommands of a hyphenated
/// binary differently from the state its dispatch loop computes (`cio__subcmd__replay__subcmd__send`
/// against `cio__replay__subcmd__send`), so `cio-replay send --<TAB>` completes nothing
/// (clap-rs/clap#6421). Spell the labels the way the loop does; a no-op once clap_complete is fixed.
fn fix_bash_state_labels(script: Vec<u8>) -> Vec<u8> {
    match String::from_utf8(script) {
        Ok(text) => text
            .replace("cio__subcmd__replay__subcmd__", "cio__replay__subcmd__")
            .into_bytes(),
        Err(err) => err.into_bytes(),
    }
}

/// Print the completion script for the chosen shell on standard output.
pub(crate) fn run(args: CompletionsArgs) -> Result<Exit> {
    let script = render(args.shell);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .context("writing the completion script to standard output")?;
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn every_shell_gets_a_script_naming_every_command() {
        for shell in clap_complete::Shell::value_variants() {
            let script = String::from_utf8(render(*shell)).expect("utf-8 script");
            for command in [
                "validate",
                "dry-run",
                "send",
                "gdpr",
                "sandbox",
                "completions",
            ] {
                assert!(script.contains(command), "{shell}: {command} missing");
            }
        }
    }

    #[test]
    fn bash_case_labels_match_the_dispatch_state() {
        let script = String::from_utf8(render(clap_complete::Shell::Bash)).expect("utf-8");
        assert!(script.contains("cmd=\"cio__replay__subcmd__send\""));
        assert!(script.contains("        cio__replay__subcmd__send)"));
        assert!(!script.contains("cio__subcmd__replay"));
    }
}
