//! Chooses the local API's stores from the settings: DynamoDB when `DYNAMODB_ENDPOINT` is set
//! (creating missing tables), else the embedded store in `TALLY_DATA_DIR` (`.tally/`); and the
//! cursor key kept in that directory.

use crate::schema::{ensure_tables, SchemaError};
use std::io::Write;
use std::path::Path;
use tally::config::Config;
use tally::http::cursor::random_key;
use tally::store::dynamodb::client;
use tally::AppState;

/// Builds the stores the settings ask for.
pub async fn from_config(config: &Config) -> Result<AppState, SchemaError> {
    if config.aws.dynamodb_endpoint.is_some() {
        let client = client(&config.aws);
        let tables = ensure_tables(&client, |spec| config.tables.of(spec).to_string()).await?;
        tracing::info!(?tables, "using DynamoDB");
        return Ok(AppState::dynamodb(client, config));
    }
    tracing::info!(dir = %config.local.data_dir.display(), "using the embedded store");
    Ok(AppState::sqlite(config)?)
}

/// The file in the data directory that keeps the local API's cursor key.
pub const CURSOR_KEY_FILE: &str = "cursor-key";

/// Gives `config` a cursor key when `TALLY_CURSOR_SECRET` is unset: the one kept in the data
/// directory, made (32 random bytes, hex, readable by the owner only) on the first start. So
/// cursors survive restarts, and no two installs share a key.
pub fn keep_cursor_key(config: &mut Config) -> std::io::Result<()> {
    if config.paging.cursor_secret.is_some() {
        return Ok(());
    }
    let path = config.local.data_dir.join(CURSOR_KEY_FILE);
    let key = match std::fs::read_to_string(&path) {
        Ok(key) if key.trim().len() >= 32 => key.trim().to_string(),
        Ok(_) => {
            return Err(std::io::Error::other(format!(
                "{} is too short",
                path.display()
            )))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => new_key_file(&path)?,
        Err(err) => return Err(err),
    };
    config.paging.cursor_secret = Some(key);
    Ok(())
}

fn new_key_file(path: &Path) -> std::io::Result<String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let key: String = random_key().iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(key.as_bytes())?;
    tracing::info!(path = %path.display(), "made a new cursor key");
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_kept_and_private() {
        let dir = tempfile::TempDir::new().expect("dir");
        let mut first = Config {
            local: tally::config::Local {
                data_dir: dir.path().join("data"),
                ..Default::default()
            },
            ..Config::default()
        };
        let mut second = first.clone();
        keep_cursor_key(&mut first).expect("made");
        keep_cursor_key(&mut second).expect("read");
        let key = first.paging.cursor_secret.expect("a key");
        assert_eq!(key.len(), 64);
        assert_eq!(second.paging.cursor_secret.as_deref(), Some(key.as_str()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(dir.path().join("data").join(CURSOR_KEY_FILE));
            assert_eq!(meta.expect("file").permissions().mode() & 0o777, 0o600);
        }
        let elsewhere = tempfile::TempDir::new().expect("dir");
        let mut other = Config {
            local: tally::config::Local {
                data_dir: elsewhere.path().to_path_buf(),
                ..Default::default()
            },
            ..Config::default()
        };
        keep_cursor_key(&mut other).expect("made");
        assert_ne!(other.paging.cursor_secret.as_deref(), Some(key.as_str()));
        let mut set = Config {
            paging: tally::config::Paging {
                cursor_secret: Some("from-the-environment".into()),
            },
            ..Config::default()
        };
        keep_cursor_key(&mut set).expect("kept");
        assert_eq!(
            set.paging.cursor_secret.as_deref(),
            Some("from-the-environment")
        );
    }
}
