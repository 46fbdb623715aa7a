//! The one exit-code table (cli.md "Exit codes"), and how an error chain picks its code.

use std::process::ExitCode;

/// How a run ended, as scripts see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Every record mapped and (for send) accepted; skipped records allowed unless `--strict`.
    Success,
    /// Finished, but some records were invalid or rejected.
    Partial,
    /// Usage, configuration or unreadable input; nothing was sent.
    Usage,
    /// Customer.io refused the credentials (401/403); stopped at once, resumable.
    Auth,
    /// Interrupted by Ctrl-C or SIGTERM before every record read was settled; checkpoint
    /// written, resumable.
    Interrupted,
    /// Stopped by a local error after sending began: a dead-letter, receipt or checkpoint file
    /// could not be written. Requests in flight settled, the last valid checkpoint stays;
    /// resumable once the file can be written again.
    LocalError,
    /// Stopped because invalid plus rejected records went over `--max-invalid` during the send:
    /// requests in flight settled, the checkpoint stays; resumable once the input is fixed.
    OverBudget,
}

impl Exit {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Partial => 1,
            Exit::Usage => 2,
            Exit::Auth => 3,
            Exit::Interrupted => 130,
            Exit::LocalError => 4,
            Exit::OverBudget => 5,
        }
    }

    /// The more serious of two outcomes (for runs that combine several).
    pub fn worst(self, other: Exit) -> Exit {
        self.max(other)
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// An error that ends the run with a specific exit code (anything else is [`Exit::Usage`]).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct Fatal {
    pub exit: Exit,
    pub message: String,
}

/// A usage error (exit 2): a bad flag or input that nothing was sent for; the message says what.
pub(crate) fn usage(message: impl Into<String>) -> anyhow::Error {
    Fatal::new(Exit::Usage, message).into()
}

impl Fatal {
    pub(crate) fn new(exit: Exit, message: impl Into<String>) -> Fatal {
        Fatal {
            exit,
            message: message.into(),
        }
    }
}

/// The exit code for an error that ended the run: a [`Fatal`] anywhere in the chain decides,
/// otherwise it is a usage / configuration / input problem.
pub fn exit_for_error(err: &anyhow::Error) -> Exit {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<Fatal>().map(|f| f.exit))
        .unwrap_or(Exit::Usage)
}

/// Whether the error is a closed pipe on output (`cio-replay dry-run | head`), which is not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_contract() {
        assert_eq!(Exit::Success.code(), 0);
        assert_eq!(Exit::Partial.code(), 1);
        assert_eq!(Exit::Usage.code(), 2);
        assert_eq!(Exit::Auth.code(), 3);
        assert_eq!(Exit::Interrupted.code(), 130);
        assert_eq!(Exit::LocalError.code(), 4);
    }

    #[test]
    fn worst_prefers_the_more_serious() {
        assert_eq!(Exit::Success.worst(Exit::Partial), Exit::Partial);
        assert_eq!(Exit::Auth.worst(Exit::Partial), Exit::Auth);
        // A local error stops the run through the stop flag: it names the cause, not Ctrl-C.
        assert_eq!(Exit::Interrupted.worst(Exit::LocalError), Exit::LocalError);
    }

    #[test]
    fn fatal_in_chain_decides() {
        let err = anyhow::Error::new(Fatal::new(Exit::Auth, "401")).context("sending");
        assert_eq!(exit_for_error(&err), Exit::Auth);
        assert_eq!(exit_for_error(&anyhow::anyhow!("bad flag")), Exit::Usage);
    }
}
