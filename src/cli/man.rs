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
pub(crate) fn render(topic: Option<&str>) -> Result<Vec<u8>, Fatal> {
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
    let mut extra = exit_status_section();
    if topic.is_none() {
        extra.push_str(ENVIRONMENT_SECTION);
    }
    Ok(insert_before_version(page, &extra))
}

/// The exit-code table (cli.md "Exit codes"), with the codes taken from [`Exit`] itself.
fn exit_status_section() -> String {
    let rows = [
        (
            Exit::Success,
            "Every record mapped and (for send) accepted; skipped records are allowed unless \\-\\-strict.",
        ),
        (
            Exit::Partial,
            "Finished, but some records were invalid or rejected (see the dead\\-letter file or the listing); for verify, differences were found.",
        ),
        (
            Exit::Usage,
            "Usage, configuration or unreadable input; nothing was sent.",
        ),
        (
            Exit::Auth,
            "Customer.io refused the credentials (401/403); stopped at once, resumable.",
        ),
        (
            Exit::Interrupted,
            "Interrupted (Ctrl\\-C); checkpoint written, resumable.",
        ),
        (
            Exit::LocalError,
            "Stopped by a local error after sending began (a dead\\-letter, receipt or checkpoint file could not be written); the last checkpoint stays valid, resumable. For verify: the App API could not be read after the retries.",
        ),
    ];
    let mut section = String::from(".SH \"EXIT STATUS\"\n");
    for (exit, meaning) in rows {
        section.push_str(&format!(".TP\n\\fB{}\\fR\n{meaning}\n", exit.code()));
    }
    section
}

/// Environment variables the commands read (their flags say the same in OPTIONS).
const ENVIRONMENT_SECTION: &str = "\
.SH ENVIRONMENT
.TP
\\fBCIO_SITE_ID\\fR
Track API site id (as \\fB\\-\\-site\\-id\\fR).
.TP
\\fBCIO_API_KEY\\fR
Track API key (or \\fB\\-\\-api\\-key\\-file\\fR); never printed, logged or written anywhere.
.TP
\\fBCIO_APP_API_KEY\\fR
App API key verify reads with (or \\fB\\-\\-app\\-api\\-key\\-file\\fR), and the one the sandbox accepts (as \\fB\\-\\-app\\-api\\-key\\fR); never printed or logged.
.TP
\\fBCIO_REGION\\fR
Account region, \\fBus\\fR or \\fBeu\\fR (as \\fB\\-\\-region\\fR).
.TP
\\fBCIO_ENDPOINT\\fR
Track API base URL overriding the region's host (as \\fB\\-\\-endpoint\\fR).
";

/// Put hand-written sections before clap_mangen's trailing VERSION section (or at the end).
fn insert_before_version(page: Vec<u8>, extra: &str) -> Vec<u8> {
    let marker: &[u8] = b"\n.SH VERSION\n";
    match page.windows(marker.len()).position(|w| w == marker) {
        Some(at) => {
            let mut out = Vec::with_capacity(page.len() + extra.len());
            out.extend_from_slice(&page[..=at]);
            out.extend_from_slice(extra.as_bytes());
            out.extend_from_slice(&page[at + 1..]);
            out
        }
        None => {
            let mut out = page;
            out.extend_from_slice(extra.as_bytes());
            out
        }
    }
}

/// Print the chosen man page on standard output.
pub(crate) fn run(args: ManArgs) -> Result<Exit> {
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
    fn pages_carry_exit_status_before_version_and_top_level_the_environment() {
        let top = String::from_utf8(render(None).expect("page")).expect("utf-8");
        let exit = top.find(".SH \"EXIT STATUS\"").expect("exit status");
        let env = top.find(".SH ENVIRONMENT").expect("environment");
        let version = top.find(".SH VERSION").expect("version");
        assert!(exit < env && env < version, "{top}");
        assert!(top.contains("\\fB130\\fR"));
        let send = String::from_utf8(render(Some("send")).expect("page")).expect("utf-8");
        assert!(send.contains(".SH \"EXIT STATUS\""));
        assert!(!send.contains(".SH ENVIRONMENT"));
    }

    #[test]
    fn unknown_topic_is_a_usage_error_naming_the_choices() {
        let err = render(Some("nope")).expect_err("unknown topic");
        assert_eq!(err.exit, Exit::Usage);
        assert!(err.message.contains("dry-run"), "{}", err.message);
    }
}
