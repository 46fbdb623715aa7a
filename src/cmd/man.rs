//! `cio-replay man [COMMAND]`: print the roff man page of the program or of one subcommand.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::exit::{Exit, Fatal};

/// The names of the subcommands that have a page of their own (`cio-replay-<name>(1)`).
pub fn topics() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .map(|sub| sub.get_name().to_owned())
        .collect()
}

/// Render the top-level page (`None`) or the page of one subcommand.
pub fn render(topic: Option<&str>) -> Result<Vec<u8>, Fatal> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    // Building the parent names each subcommand `cio-replay-<name>` and its usage `cio-replay <name>`.
    cmd.build();
    let page_of = match topic {
        None => cmd,
        Some(name) => cmd
            .find_subcommand(name)
            .filter(|sub| !sub.is_hide_set())
            .cloned()
            .ok_or_else(|| {
                Fatal::new(
                    Exit::Usage,
                    format!(
                        "man: no page for `{name}`; choose one of: {}",
                        topics().join(", ")
                    ),
                )
            })?,
    };
    let mut page = Vec::new();
    clap_mangen::Man::new(page_of)
        .render(&mut page)
        .map_err(|err| Fatal::new(Exit::Usage, format!("man: rendering the page: {err}")))?;
    Ok(page)
}

/// Print the chosen man page on standard output.
pub fn run(args: ManArgs) -> Result<Exit> {
    let page = render(args.command.as_deref())?;
    let mut out = std::io::stdout().lock();
    out.write_all(&page)
        .and_then(|()| out.flush())
        .context("writing the man page to standard output")?;
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_page_lists_the_subcommands() {
        let page = String::from_utf8(render(None).expect("page")).expect("utf-8");
        assert!(page.starts_with(".ie \\n(.g .ds Aq"), "roff preamble");
        assert!(page.contains(".TH cio-replay 1"));
        for topic in topics() {
            assert!(page.contains(&format!("cio\\-replay\\-{}", topic.replace('-', "\\-"))));
        }
    }

    #[test]
    fn subcommand_page_has_its_own_title_and_flags() {
        let page = String::from_utf8(render(Some("send")).expect("page")).expect("utf-8");
        assert!(page.contains(".TH cio-replay-send 1"), "{page}");
        assert!(page.contains("\\-\\-concurrency"));
    }

    #[test]
    fn unknown_topic_is_a_usage_error_naming_the_choices() {
        let err = render(Some("nope")).expect_err("unknown topic");
        assert_eq!(err.exit, Exit::Usage);
        assert!(err.message.contains("dry-run"), "{}", err.message);
    }
}
