//! Track API credentials from the command line and the environment: the site id, and the key from
//! `CIO_API_KEY`, `--api-key-file` or (with a warning) `--api-key`.

use std::path::Path;

use super::Secret;

/// Site id and key, checked.
#[derive(Debug, Clone)]
pub(crate) struct Credentials {
    pub site_id: String,
    pub key: Secret,
}

/// Why credentials are missing or unreadable (all usage errors, exit 2).
#[derive(Debug, thiserror::Error)]
pub(crate) enum CredentialError {
    #[error(
        "no site id: set CIO_SITE_ID or pass --site-id (Customer.io → Settings → API Credentials → \
         Track API Keys), or try --sandbox"
    )]
    NoSiteId,
    #[error(
        "no API key: set CIO_API_KEY or pass --api-key-file FILE (Customer.io → Settings → API \
         Credentials → Track API Keys), or try --sandbox"
    )]
    NoKey,
    #[error("--api-key-file {path}: cannot read it: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}: the API key is empty")]
    EmptyKey(&'static str),
}

/// Where the key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeySource {
    File,
    Flag,
    Env,
}

/// The key in a key file: its first line, trimmed; `None` when that is empty. The one reader of
/// key files (the Track key's `--api-key-file`, the App key's `--app-api-key-file`).
pub(crate) fn key_from_file(path: &Path) -> std::io::Result<Option<String>> {
    let text = std::fs::read_to_string(path)?;
    let first = text.lines().next().unwrap_or("").trim();
    Ok((!first.is_empty()).then(|| first.to_string()))
}

/// Resolve credentials. `env_key` is the value of `CIO_API_KEY`. Precedence: `--api-key-file`,
/// then `--api-key`, then the environment. Returns the source so the caller can warn about the
/// flag.
pub(crate) fn resolve(
    site_id: Option<&str>,
    key_file: Option<&Path>,
    key_flag: Option<&str>,
    env_key: Option<String>,
) -> Result<(Credentials, KeySource), CredentialError> {
    let site_id = site_id
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(CredentialError::NoSiteId)?
        .to_string();
    let (key, source) = if let Some(path) = key_file {
        let key = key_from_file(path)
            .map_err(|source| CredentialError::KeyFile {
                path: path.display().to_string(),
                source,
            })?
            .ok_or(CredentialError::EmptyKey("--api-key-file"))?;
        (key, KeySource::File)
    } else if let Some(flag) = key_flag {
        let key = flag.trim().to_string();
        if key.is_empty() {
            return Err(CredentialError::EmptyKey("--api-key"));
        }
        (key, KeySource::Flag)
    } else {
        let key = env_key.map(|k| k.trim().to_string()).unwrap_or_default();
        if key.is_empty() {
            return Err(CredentialError::NoKey);
        }
        (key, KeySource::Env)
    };
    Ok((
        Credentials {
            site_id,
            key: Secret::new(key),
        },
        source,
    ))
}

/// The warning printed when the key came from `--api-key`.
pub(crate) const FLAG_WARNING: &str = "warning: --api-key puts the key on the command line, where other \
     users of this machine can see it (ps, shell history); prefer CIO_API_KEY or --api-key-file";

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn precedence_and_trimming() {
        let dir = std::env::temp_dir().join(format!("cio-cred-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join("key");
        if let Ok(mut f) = std::fs::File::create(&file) {
            let _ = f.write_all(b"  filekey  \nsecond line\n");
        }
        let (c, s) = resolve(Some("site"), Some(&file), Some("flag"), Some("env".into()))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((c.key.expose(), s), ("filekey", KeySource::File));
        let (c, s) = resolve(Some("site"), None, Some("flag"), Some("env".into()))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((c.key.expose(), s), ("flag", KeySource::Flag));
        let (c, s) = resolve(Some("site"), None, None, Some(" env ".into()))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((c.key.expose(), s), ("env", KeySource::Env));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_pieces_are_clear_errors() {
        assert!(matches!(
            resolve(None, None, None, Some("k".into())),
            Err(CredentialError::NoSiteId)
        ));
        assert!(matches!(
            resolve(Some("s"), None, None, None),
            Err(CredentialError::NoKey)
        ));
        assert!(matches!(
            resolve(Some("s"), Some(Path::new("/nonexistent/key")), None, None),
            Err(CredentialError::KeyFile { .. })
        ));
        let err = resolve(Some("s"), None, Some("topsecret"), None).map(|_| ());
        assert!(err.is_ok());
    }
}
