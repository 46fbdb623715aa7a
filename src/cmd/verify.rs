//! `cio-replay verify`: check the settings and the App API key, read the inputs as `send` does,
//! look the people up and print the differences, the summary and the `--report`.

use anyhow::Result;

use crate::cli::VerifyArgs;
use crate::cli::settings::{self, MappingSettings};
use crate::exit::{Exit, usage};
use crate::report::messages::say;
use crate::stream::Pipeline;
use crate::verify as check;
use crate::verify::client::{self, AppClient};

pub(crate) fn run(args: VerifyArgs) -> Result<Exit> {
    let mapping = MappingSettings::from_args(&args.mapping)?;
    let window = settings::window(&args.mapping)?;
    let verify = settings::verify(&args)?;
    let base_url = match &args.app_endpoint {
        Some(url) => {
            crate::track::url::check(url).map_err(|e| usage(format!("--app-endpoint: {e}")))?
        }
        None => client::base_url(mapping.region).to_string(),
    };
    let key = client::app_key(
        args.app_api_key_file.as_deref(),
        std::env::var("CIO_APP_API_KEY").ok(),
    )
    .map_err(|e| usage(e.to_string()))?;
    let mut app = AppClient::new(
        &base_url,
        &key,
        verify.timeout,
        args.retries,
        args.ca_bundle.as_deref(),
    )
    .map_err(|e| usage(e.to_string()))?;
    let pipeline = Pipeline::open(mapping.pipeline(&args.input)?)?.with_window(window);
    say!("cio-replay verify: reading people back from the App API at {base_url}");
    check::probe(&mut app)?;

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let tally = check::run(pipeline, &mut app, verify.settings, &mut out)?;
    say!("{}", tally.text(&base_url));
    if let Some(path) = &args.report {
        tally.write(path, &base_url)?;
    }
    Ok(tally.exit())
}
