//! One small module per command, each `run(settings) -> anyhow::Result<Exit>` on the checked,
//! neutral settings `cli` made of its flags: it only wires the parts together.

pub(crate) mod dry_run;
pub(crate) mod gdpr;
pub(crate) mod sandbox;
pub(crate) mod send;
pub(crate) mod validate;
pub(crate) mod verify;

use std::io::Write;

use anyhow::Result;

use crate::exit::Exit;

/// `--preset NAME --print-transform`: the preset's jq program on standard output.
pub(crate) fn print_transform(name: &str) -> Result<Exit> {
    let preset = crate::transform::preset::find(name)
        .ok_or_else(|| crate::exit::usage(format!("--preset {name}: no such preset")))?;
    let mut out = std::io::stdout().lock();
    out.write_all(preset.text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| anyhow::anyhow!("writing the transform: {e}"))?;
    Ok(Exit::Success)
}
