//! The confirmation gate: before anything is sent, a person at a terminal types the number of
//! people to go on; without a terminal only `--yes` goes on.

use std::io::{self, BufRead, IsTerminal, Write};

use crate::map::gdpr::{GdprAction, action_explained, action_name};
use crate::report::gdpr::Workspace;
use crate::report::messages::say;

/// What the gate decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Gate {
    Proceed,
    /// Nothing may be sent; the message says why.
    Refused(String),
}

/// Whether a person can answer: standard input and standard error are both terminals.
pub(crate) fn interactive() -> bool {
    io::stdin().is_terminal() && io::stderr().is_terminal()
}

/// What the gate shows before it asks.
pub(crate) fn banner(
    action: GdprAction,
    people: u64,
    problems: u64,
    workspace: &Workspace,
) -> String {
    let mut text = format!(
        "About to {} {} {} in the Customer.io workspace with site id {:?} at {} ({}).\n",
        action_name(action).to_uppercase(),
        people,
        if people == 1 { "person" } else { "people" },
        workspace.site_id,
        workspace.host,
        workspace.region,
    );
    text.push_str(&format!("Note: {}.\n", action_explained(action)));
    if problems > 0 {
        text.push_str(&format!(
            "{problems} list {} could not be used and will not be sent (listed above).\n",
            if problems == 1 { "entry" } else { "entries" }
        ));
    }
    text
}

/// The gate of a job with `to_send` people and `problems` malformed entries left: proceed when
/// nothing is left (the receipt is completed), ask on a terminal unless `--yes`, else `--yes`
/// decides.
pub(crate) fn decide(
    action: GdprAction,
    to_send: u64,
    problems: u64,
    workspace: &Workspace,
    yes: bool,
) -> io::Result<Gate> {
    if to_send == 0 && problems == 0 {
        // A resumed job whose people are all settled (the run that settled them stopped before
        // its trailer): nothing is sent, the receipt is completed.
        say!("nothing left to send: completing the receipt");
        return Ok(Gate::Proceed);
    }
    if interactive() && !yes {
        let banner = banner(action, to_send, problems, workspace);
        let stdin = io::stdin();
        return ask(&banner, to_send, &mut stdin.lock(), &mut io::stderr());
    }
    if yes {
        say!("{}", banner(action, to_send, problems, workspace));
        say!("--yes given: going on without asking");
    }
    Ok(without_terminal(yes, action, to_send))
}

/// Decide without asking when no one can answer.
pub(crate) fn without_terminal(yes: bool, action: GdprAction, people: u64) -> Gate {
    if yes {
        Gate::Proceed
    } else {
        Gate::Refused(format!(
            "refusing to {} {people} {} without confirmation: not on a terminal; nothing was sent \
             (check the list with --dry-run, then pass --yes)",
            action_name(action),
            if people == 1 { "person" } else { "people" }
        ))
    }
}

/// Show the banner on `out` and ask for the number of people on `input`; only that exact number
/// goes on.
pub(crate) fn ask(
    banner: &str,
    people: u64,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> io::Result<Gate> {
    write!(
        out,
        "{banner}Type the number of people ({people}) to go on, anything else stops: "
    )?;
    out.flush()?;
    let mut answer = String::new();
    let read = input.read_line(&mut answer)?;
    if read == 0 {
        writeln!(out)?;
    }
    let answer = answer.trim();
    if answer.parse::<u64>().ok() == Some(people) {
        Ok(Gate::Proceed)
    } else {
        Ok(Gate::Refused(format!(
            "not confirmed (the answer was {answer:?}, not {people}): nothing was sent"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> Workspace {
        Workspace {
            site_id: "site-1".into(),
            host: "track-eu.customer.io".to_string(),
            region: "eu".into(),
        }
    }

    #[test]
    fn only_the_exact_count_goes_on() {
        let banner = banner(GdprAction::Suppress, 3, 1, &workspace());
        assert!(banner.contains("SUPPRESS 3 people"));
        assert!(banner.contains("\"site-1\" at track-eu.customer.io (eu)"));
        assert!(banner.contains("blocks the identifier"));
        let mut out = Vec::new();
        assert_eq!(
            ask(&banner, 3, &mut &b" 3\n"[..], &mut out).unwrap(),
            Gate::Proceed
        );
        for wrong in [&b"4\n"[..], b"yes\n", b"", b"03x\n"] {
            let gate = ask(&banner, 3, &mut &wrong[..], &mut Vec::new()).unwrap();
            assert!(matches!(gate, Gate::Refused(m) if m.contains("nothing was sent")));
        }
    }

    #[test]
    fn no_terminal_needs_yes() {
        assert_eq!(without_terminal(true, GdprAction::Delete, 2), Gate::Proceed);
        assert!(
            matches!(without_terminal(false, GdprAction::Delete, 2), Gate::Refused(m) if m.contains("--yes"))
        );
    }
}
