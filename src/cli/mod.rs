//! The command line: the clap derive types (this module), the one conversion from them to the
//! neutral settings every command takes ([`settings`]), and [`run`], which makes that conversion
//! and runs the command. Nothing outside `cli/` sees a clap type. The completions and man pages
//! are generated from these types ([`completions`], [`man`]).
//!
//! Conventions: every option that takes a value has an upper-case `value_name`; long names only,
//! except `-o` (output) and `-q` (quiet); doc comments are the help text.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};

pub(crate) mod completions;
pub mod man;
pub(crate) mod settings;

use crate::cmd;
use crate::exit::Exit;

/// Run the chosen command: its flags made checked settings (a usage error, exit 2, before
/// anything is read or sent), then the command.
pub fn run(command: Command) -> Result<Exit> {
    crate::report::messages::set_quiet(command.quiet());
    if let Some(preset) = command
        .input()
        .filter(|i| i.print_transform)
        .and_then(|i| i.preset.as_deref())
    {
        return cmd::print_transform(preset);
    }
    match command {
        Command::Validate(args) => cmd::validate::run(settings::validate(args)?),
        Command::DryRun(args) => cmd::dry_run::run(settings::dry_run(args)?),
        Command::Send(args) => {
            // A report left by an earlier run must not outlive this one's refusal of its flags
            // (only a file: `--report /dev/null` must not remove the device).
            if let Some(path) = &args.delivery.report
                && std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
            {
                let _ = std::fs::remove_file(path);
            }
            cmd::send::run(settings::send(args)?)
        }
        Command::Gdpr(args) => cmd::gdpr::run(settings::gdpr(args)?),
        Command::Verify(args) => cmd::verify::run(settings::verify(args)?),
        Command::Sandbox(args) => cmd::sandbox::run(settings::sandbox(args)),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
    }
}

use crate::deliver::{DEFAULT_CONCURRENCY, DEFAULT_LINGER_MS, DEFAULT_RATE, DEFAULT_RETRIES};
use crate::track::limits::{DEFAULT_BATCH_BYTES, DEFAULT_BATCH_SIZE};

/// Replay Segment-spec analytics events (NDJSON, JSON arrays or CSV; gzip, zstd) into Customer.io.
#[derive(Debug, Parser)]
#[command(name = "cio-replay", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read, parse and validate every record and route it; print one line per problem. Sends nothing.
    Validate(ValidateArgs),
    /// Map every record to the exact operation it would send, as NDJSON. Sends nothing.
    ///
    /// The summary counts the requests a `send` with the same --mode, --concurrency, --batch-size
    /// and --batch-bytes would make, packed by the sender's own rule on each lane. The count is
    /// exact with one lane, and with more when every record touches one person, object or
    /// delivery: a merge or a relationship change goes where one of its entities is busy at that
    /// moment, which only the send knows. Not counted: retries, batches split after a 400, and
    /// batches sent before they are full because a lane waited `send --linger` for more (a slow
    /// input).
    DryRun(DryRunArgs),
    /// Map and send to the Track API, sequentially or in rate-limited batches.
    Send(SendArgs),
    /// Delete, suppress or unsuppress a list of people (ids or emails), with a confirmation gate.
    Gdpr(GdprArgs),
    /// Read the people the input touches back through the App API and compare them with the
    /// state the input says they should be in; one NDJSON line per difference.
    ///
    /// One streaming pass computes each person's expected final state: the last value of every
    /// identify attribute (as sent, timestamps converted), merges, deletions and suppressions (the
    /// person must be absent), devices added and deleted. Values are compared as Customer.io stores
    /// them (strings: 5 matches "5"); attributes Customer.io sets itself are not compared, nor are
    /// events. Without --sample every person's expected state is held in memory (about 2 KB per
    /// person with four attributes: 1,000,000 people need about 2 GB); --sample N holds N.
    /// Exit 0 when everyone matches, 1 when there are differences, 2 for usage errors, 3 when
    /// the App API refuses the key, 4 when it cannot be read (after the retries).
    Verify(VerifyArgs),
    /// Serve a local stand-in for the Customer.io Track API (and the App API's people reads) on loopback.
    Sandbox(SandboxArgs),
    /// Print shell completions for SHELL.
    Completions(CompletionsArgs),
    /// Print the man page (roff) of the program, or of one COMMAND.
    Man(ManArgs),
}

impl Command {
    /// Whether `--quiet` was given (commands without it are never quiet).
    pub(crate) fn quiet(&self) -> bool {
        match self {
            Command::Validate(a) => a.display.quiet,
            Command::DryRun(a) => a.display.quiet,
            Command::Send(a) => a.display.quiet,
            Command::Gdpr(a) => a.display.quiet,
            Command::Verify(a) => a.display.quiet,
            Command::Sandbox(_) | Command::Completions(_) | Command::Man(_) => false,
        }
    }

    /// The input flags of the commands that read records.
    pub(crate) fn input(&self) -> Option<&InputArgs> {
        match self {
            Command::Validate(a) => Some(&a.input),
            Command::DryRun(a) => Some(&a.input),
            Command::Send(a) => Some(&a.input),
            Command::Verify(a) => Some(&a.input),
            _ => None,
        }
    }
}

/// Where records come from and how to read them.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Input files or folders (`.ndjson`, `.jsonl`, `.json`, `.csv`, each optionally `.gz` or `.zst`
    /// (gzip and zstd are also found by content), and `.parquet`); a folder is read recursively in
    /// path order; `-` or none for stdin.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Also read the files (or folders) listed in FILE, one path a line (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    pub files_from: Option<PathBuf>,

    /// Input format, overriding the file extension (needed for stdin, which defaults to ndjson).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormatArg>,

    /// Reshape every record with this jq program before it is mapped: a record may become no
    /// record, one or several (a CSV row is the object of its cells). See README, Inputs.
    #[arg(long, value_name = "JQ", conflicts_with_all = ["transform_file", "preset"])]
    pub transform: Option<String>,

    /// Read the --transform program from FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "preset")]
    pub transform_file: Option<PathBuf>,

    /// A transform shipped in the binary for an export: mixpanel (raw event and profile
    /// export), amplitude (Export API).
    #[arg(long, value_name = "NAME",
          value_parser = clap::builder::PossibleValuesParser::new(crate::transform::preset::names()))]
    pub preset: Option<String>,

    /// Print the --preset's jq program and exit, to copy and adapt for --transform-file.
    #[arg(long, requires = "preset")]
    pub print_transform: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormatArg {
    /// One JSON object per line.
    Ndjson,
    /// One JSON array of objects, or NDJSON (told by the first byte that is not whitespace).
    Json,
    /// A header of dotted paths, one event per row.
    Csv,
    /// Parquet (a file, not stdin): each row an object of its columns.
    Parquet,
}

/// How records become operations.
#[derive(Debug, Clone, Args)]
pub struct MappingArgs {
    /// Customer.io account region (decides the Track API host).
    #[arg(
        long,
        value_enum,
        env = "CIO_REGION",
        default_value = "us",
        value_name = "REGION"
    )]
    pub region: RegionArg,

    /// Track API base URL, overriding the region's host (for example a sandbox).
    #[arg(long, env = "CIO_ENDPOINT", value_name = "URL")]
    pub endpoint: Option<String>,

    /// TOML file renaming or adding trigger event names per action, or switching actions off.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,

    /// Do not convert ISO-8601 strings in attributes to Unix seconds.
    #[arg(long)]
    pub no_convert_timestamps: bool,

    /// How event ids (de-duplication) are made for track, page and screen operations.
    #[arg(long, value_enum, default_value = "ulid", value_name = "MODE")]
    pub event_id: EventIdArg,

    /// Treat skipped records as invalid.
    #[arg(long)]
    pub strict: bool,

    /// `batch` packs operations into /api/v2/batch; `sequential` sends one per /api/v2/entity request.
    #[arg(long, value_enum, default_value = "batch", value_name = "MODE")]
    pub mode: ModeArg,

    /// Only replay events at or after this time (RFC 3339 or a date); earlier ones are skipped.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only replay events before this time (RFC 3339 or a date); later ones are skipped.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RegionArg {
    Us,
    Eu,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventIdArg {
    /// A ULID: the messageId when it is one, else derived deterministically from the record.
    Ulid,
    /// The messageId as it is (what Segment's destination sends).
    MessageId,
    /// No event id.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Batch,
    Sequential,
}

/// What the terminal shows.
#[derive(Debug, Clone, Args)]
pub struct DisplayArgs {
    /// Show progress bars on standard error: `auto` only when it is a terminal.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    pub progress: ProgressArg,

    /// Print nothing but errors (no progress, no summary on standard error).
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub mapping: MappingArgs,
    #[command(flatten)]
    pub display: DisplayArgs,
    /// Write the summary as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DryRunArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub mapping: MappingArgs,
    #[command(flatten)]
    pub display: DisplayArgs,
    /// Write the NDJSON listing to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write the summary as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
    /// Requests per second assumed when estimating how long the send would take.
    #[arg(long, default_value_t = DEFAULT_RATE, value_name = "N")]
    pub rate: f64,
    /// Operations per batch request assumed for the estimate (as `send --batch-size`).
    #[arg(long, default_value_t = DEFAULT_BATCH_SIZE, value_name = "N")]
    pub batch_size: usize,
    /// Bytes per batch request assumed for the estimate (as `send --batch-bytes`).
    #[arg(long, default_value_t = DEFAULT_BATCH_BYTES, value_name = "BYTES")]
    pub batch_bytes: usize,
    /// Lanes assumed for the estimate (as `send --concurrency`): each packs its own batches.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_name = "N")]
    pub concurrency: usize,
}

/// Credentials and delivery settings shared by `send` and `gdpr`.
#[derive(Debug, Clone, Args)]
pub struct DeliveryArgs {
    /// Track API site id (Basic-auth user name).
    #[arg(long, env = "CIO_SITE_ID", value_name = "ID")]
    pub site_id: Option<String>,

    /// Read the Track API key from FILE (first line). Otherwise env CIO_API_KEY is used.
    #[arg(long, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,

    /// The Track API key on the command line (visible to other users of this machine; prefer
    /// CIO_API_KEY or --api-key-file).
    #[arg(long, value_name = "KEY", hide_env_values = true)]
    pub api_key: Option<String>,

    /// Requests per second, at most (a token bucket); --rate 0 = unlimited.
    #[arg(long, default_value_t = DEFAULT_RATE, value_name = "N")]
    pub rate: f64,

    /// Requests in flight at once (batch mode); one person's records keep their order.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_name = "N")]
    pub concurrency: usize,

    /// Largest batch request body in bytes (never above 500000).
    #[arg(long, default_value_t = DEFAULT_BATCH_BYTES, value_name = "BYTES")]
    pub batch_bytes: usize,

    /// Most operations in one batch request.
    #[arg(long, default_value_t = DEFAULT_BATCH_SIZE, value_name = "N")]
    pub batch_size: usize,

    /// Milliseconds a lane waits for more operations before it sends a batch that is not full.
    #[arg(long, default_value_t = DEFAULT_LINGER_MS, value_name = "MS")]
    pub linger: u64,

    /// Retries of a request after a 408, 429, 5xx or network error (0 means none).
    #[arg(long, default_value_t = DEFAULT_RETRIES, value_name = "N")]
    pub retries: u32,

    /// Seconds before one request attempt times out.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub timeout: f64,

    /// Keep a checkpoint in FILE so that an interrupted run can be resumed.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,

    /// Continue an interrupted run from its checkpoint.
    #[arg(long)]
    pub resume: bool,

    /// Write the final summary as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Trust only the certificate authorities in FILE (PEM) instead of the operating system's
    /// store, e.g. the CA of a network that inspects TLS.
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,

    /// Start the local sandbox in-process on a free loopback port and send to it (no account needed).
    #[arg(long, conflicts_with = "endpoint")]
    pub sandbox: bool,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub mapping: MappingArgs,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    #[command(flatten)]
    pub display: DisplayArgs,
    /// Send even when events fall within the last 72 hours (they can trigger campaigns) or have no
    /// timestamp at all.
    #[arg(long)]
    pub allow_recent: bool,

    /// Where invalid and rejected records go (default `<first input>.rejected.ndjson`).
    #[arg(long, value_name = "FILE")]
    pub dead_letter: Option<PathBuf>,

    /// Without --checkpoint, add to a dead-letter file that already holds records (refused
    /// otherwise, so that one file holds one run's rejects).
    #[arg(long)]
    pub dead_letter_append: bool,

    /// A canary: send only the first N records (of those not settled yet), then stop with the
    /// summary; with --checkpoint, a later --resume without --limit sends the rest.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,

    /// An error budget, a count or a percentage of the records (`10`, `0.5%`): the pre-scan
    /// refuses to send (exit 2) when more records than that are invalid, and during the send,
    /// invalid plus rejected records over it stop the run as Ctrl-C does (exit 5, resumable).
    #[arg(long, value_name = "N|P%")]
    pub max_invalid: Option<String>,
}

#[derive(Debug, Args)]
pub struct GdprArgs {
    /// What to do to every person on the list.
    #[arg(value_enum, value_name = "ACTION")]
    pub action: GdprActionArg,

    /// Lists of people: plain text (one id or email per line), CSV or NDJSON; `-` or none for stdin.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Format of the list, overriding the extension (`.txt`, `.csv`, `.ndjson`).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub list_format: Option<ListFormatArg>,

    /// CSV column holding the person (default: the first of userId, id, email, cio_id).
    #[arg(long, value_name = "NAME")]
    pub column: Option<String>,

    /// List every person and the operation that would be sent, then stop.
    #[arg(long)]
    pub dry_run: bool,

    /// Go on without the interactive confirmation (needed when not on a terminal).
    #[arg(long)]
    pub yes: bool,

    /// Where the receipt goes (default `gdpr-<action>-<UTC timestamp>.csv`).
    #[arg(long, value_name = "FILE")]
    pub receipt: Option<PathBuf>,

    /// Customer.io account region.
    #[arg(
        long,
        value_enum,
        env = "CIO_REGION",
        default_value = "us",
        value_name = "REGION"
    )]
    pub region: RegionArg,

    /// Track API base URL, overriding the region's host.
    #[arg(long, env = "CIO_ENDPOINT", value_name = "URL")]
    pub endpoint: Option<String>,

    /// `batch` packs operations into /api/v2/batch; `sequential` sends one per request.
    #[arg(long, value_enum, default_value = "batch", value_name = "MODE")]
    pub mode: ModeArg,

    #[command(flatten)]
    pub delivery: DeliveryArgs,
    #[command(flatten)]
    pub display: DisplayArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub mapping: MappingArgs,
    #[command(flatten)]
    pub display: DisplayArgs,

    /// App API base URL, overriding the region's host (https://api.customer.io or
    /// https://api-eu.customer.io); plain http only to a loopback host, such as a sandbox.
    #[arg(long, value_name = "URL")]
    pub app_endpoint: Option<String>,

    /// Read the App API key from FILE (first line). Otherwise env CIO_APP_API_KEY is used. Not
    /// the Track API key.
    #[arg(long, value_name = "FILE")]
    pub app_api_key_file: Option<PathBuf>,

    /// Check a deterministic sample of N people (chosen by --seed) instead of everyone, holding
    /// only their expected state in memory.
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,

    /// Seed of the --sample choice: the same seed and input give the same people.
    #[arg(long, default_value_t = crate::verify::sample::DEFAULT_SEED, value_name = "N")]
    pub seed: u64,

    /// Write the counts and the first differences as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Retries of an App API request after a 429, 5xx or network error (0 means none).
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub retries: u32,

    /// Seconds before one App API request attempt times out.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    pub timeout: f64,

    /// Trust only the certificate authorities in FILE (PEM) instead of the operating system's store.
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GdprActionArg {
    Delete,
    Suppress,
    Unsuppress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormatArg {
    Text,
    Csv,
    Ndjson,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Port on 127.0.0.1 (0 chooses a free one).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub port: u16,

    /// Site id the sandbox accepts (Basic-auth user name); default env CIO_SITE_ID or `sandbox`.
    #[arg(long, env = "CIO_SITE_ID", value_name = "ID")]
    pub site_id: Option<String>,

    /// API key the sandbox accepts; default env CIO_API_KEY or `sandbox-key`.
    #[arg(long, value_name = "KEY", hide_env_values = true)]
    pub api_key: Option<String>,

    /// App API key the sandbox accepts as `Authorization: Bearer`; default env CIO_APP_API_KEY or
    /// `sandbox-app-key`. It must differ from the Track API key.
    #[arg(long, value_name = "KEY", hide_env_values = true)]
    pub app_api_key: Option<String>,

    /// Region `GET /api/v1/accounts/region` reports (its `url` is always the sandbox's own).
    #[arg(long, value_enum, default_value = "us", value_name = "REGION")]
    pub workspace_region: RegionArg,

    /// Delay every reply by N milliseconds.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub latency_ms: u64,

    /// Fraction (0 to 1) of requests answered with an injected 500, 502 or 503.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub fail_rate: f64,

    /// Answer 429 with Retry-After above RPS requests per second.
    #[arg(long, value_name = "RPS")]
    pub throttle: Option<f64>,

    /// Seed for the fault injection, for repeatable runs.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print completions for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Print the page of this subcommand (`cio-replay-COMMAND(1)`) instead of the top-level one.
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
