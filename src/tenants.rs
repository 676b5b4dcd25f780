//! The tenants file (`sync --config auth0-archive.toml`): several tenants
//! archived into one database, each under its own name in the `tenant`
//! column with its own checkpoint. Secrets stay in environment variables the
//! file names; a literal secret is accepted only when the file says so and
//! only other users cannot read it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cli::{AuthType, SyncArgs};
use crate::config::SyncConfig;
use crate::error::{Error, Result};
use crate::secret::Secret;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// Allows `client_secret` / `access_token` literals in this file.
    #[serde(default)]
    allow_secrets_in_file: bool,
    #[serde(default, rename = "tenant")]
    tenants: Vec<Tenant>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Tenant {
    name: String,
    base_url: String,
    auth_type: Option<AuthType>,
    client_id: Option<String>,
    client_id_env: Option<String>,
    client_secret: Option<String>,
    client_secret_env: Option<String>,
    access_token: Option<String>,
    access_token_env: Option<String>,
    audience: Option<String>,
}

/// Reads the file and returns one config per tenant (or the one `--tenant`
/// names), each inheriting the command line's other flags.
pub fn load(path: &Path, db: &Path, args: &SyncArgs) -> Result<Vec<SyncConfig>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::usage(format!("cannot read tenants file {}: {e}", path.display())))?;
    let file: File = toml::from_str(&text)
        .map_err(|e| Error::usage(format!("{}: {}", path.display(), e.message())))?;
    check_permissions(path, &file)?;
    if file.tenants.is_empty() {
        return Err(Error::usage(format!(
            "{} lists no [[tenant]]",
            path.display()
        )));
    }
    let mut names = std::collections::HashSet::new();
    let mut configs = Vec::new();
    for t in &file.tenants {
        if !names.insert(t.name.as_str()) {
            return Err(Error::usage(format!(
                "{}: tenant {:?} is listed twice",
                path.display(),
                t.name
            )));
        }
        if args.tenant.as_deref().is_some_and(|only| only != t.name) {
            continue;
        }
        configs.push(tenant_config(t, db.to_path_buf(), args, path)?);
    }
    if configs.is_empty() {
        let known: Vec<&str> = file.tenants.iter().map(|t| t.name.as_str()).collect();
        return Err(Error::usage(format!(
            "no tenant {:?} in {} (known: {})",
            args.tenant.as_deref().unwrap_or_default(),
            path.display(),
            known.join(", ")
        )));
    }
    Ok(configs)
}

fn tenant_config(t: &Tenant, db: PathBuf, args: &SyncArgs, path: &Path) -> Result<SyncConfig> {
    let env = |var: &Option<String>, what: &str| -> Result<Option<String>> {
        match var {
            None => Ok(None),
            Some(name) => std::env::var(name).map(Some).map_err(|_| {
                Error::usage(format!(
                    "tenant {:?}: {what} variable {name} is not set",
                    t.name
                ))
            }),
        }
    };
    let mut a: SyncArgs = args.clone();
    a.config = None;
    a.tenant = Some(t.name.clone());
    a.base_url = Some(t.base_url.clone());
    a.auth_type = t.auth_type;
    a.client_id = t
        .client_id
        .clone()
        .or(env(&t.client_id_env, "client_id_env")?);
    a.client_secret = t
        .client_secret
        .clone()
        .or(env(&t.client_secret_env, "client_secret_env")?)
        .map(Secret::new);
    a.access_token = t
        .access_token
        .clone()
        .or(env(&t.access_token_env, "access_token_env")?)
        .map(Secret::new);
    a.audience = t.audience.clone();
    SyncConfig::from_args(db, &a)
        .map_err(|e| Error::usage(format!("{} tenant {:?}: {e}", path.display(), t.name)))
}

/// Refuses a file others could write (they could point a tenant at their own
/// server and collect its secrets), and literal secrets unless the file
/// allows them and only its owner can read it.
fn check_permissions(path: &Path, file: &File) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| Error::usage(format!("cannot read {}: {e}", path.display())))?
        .permissions()
        .mode();
    if mode & 0o022 != 0 {
        return Err(Error::usage(format!(
            "{} is writable by other users; run `chmod go-w {}`",
            path.display(),
            path.display()
        )));
    }
    let literal = file
        .tenants
        .iter()
        .find(|t| t.client_secret.is_some() || t.access_token.is_some());
    if let Some(t) = literal {
        if !file.allow_secrets_in_file {
            return Err(Error::usage(format!(
                "{}: tenant {:?} has a secret written in the file; use client_secret_env / access_token_env, \
                 or set allow_secrets_in_file = true",
                path.display(),
                t.name
            )));
        }
        if mode & 0o077 != 0 {
            return Err(Error::usage(format!(
                "{} holds secrets but other users can read it; run `chmod 600 {}`",
                path.display(),
                path.display()
            )));
        }
    }
    Ok(())
}
