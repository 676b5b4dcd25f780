//! The tenants file (`sync --config auth0-archive.toml`): several tenants
//! archived into one database, each under its own name in the `tenant`
//! column with its own checkpoint. Secrets stay in environment variables the
//! file names; a literal secret is accepted only when the file says so and
//! only other users cannot read it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::TenantSettings;
use crate::cli::AuthType;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// A tenants file as written, checked for permissions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantsFile {
    /// Allows `client_secret` / `access_token` literals in this file.
    #[serde(default)]
    allow_secrets_in_file: bool,
    #[serde(default, rename = "tenant")]
    tenants: Vec<Tenant>,
    #[serde(skip)]
    path: PathBuf,
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

impl TenantsFile {
    /// Reads and parses the file; refuses it when others could change it or
    /// read the secrets it holds, or when it lists no tenant or one twice.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::usage(format!("cannot read tenants file {}: {e}", path.display()))
        })?;
        let mut file: TenantsFile = toml::from_str(&text)
            .map_err(|e| Error::usage(format!("{}: {}", path.display(), e.message())))?;
        file.path = path.to_path_buf();
        check_permissions(path, &file)?;
        if file.tenants.is_empty() {
            return Err(Error::usage(format!(
                "{} lists no [[tenant]]",
                path.display()
            )));
        }
        let mut names = std::collections::HashSet::new();
        for t in &file.tenants {
            if !names.insert(t.name.as_str()) {
                return Err(Error::usage(format!(
                    "{}: tenant {:?} is listed twice",
                    path.display(),
                    t.name
                )));
            }
        }
        Ok(file)
    }

    /// The settings of every tenant, or of the one `only` names, with the
    /// secrets their `*_env` variables hold. Pairs of (name, settings).
    pub fn select(&self, only: Option<&str>) -> Result<Vec<(String, TenantSettings)>> {
        let chosen: Vec<&Tenant> = self
            .tenants
            .iter()
            .filter(|t| only.is_none_or(|name| name == t.name))
            .collect();
        if chosen.is_empty() {
            let known: Vec<&str> = self.tenants.iter().map(|t| t.name.as_str()).collect();
            return Err(Error::usage(format!(
                "no tenant {:?} in {} (known: {})",
                only.unwrap_or_default(),
                self.path.display(),
                known.join(", ")
            )));
        }
        chosen
            .into_iter()
            .map(|t| Ok((t.name.clone(), t.settings()?)))
            .collect()
    }
}

impl Tenant {
    fn settings(&self) -> Result<TenantSettings> {
        let env = |var: &Option<String>, what: &str| -> Result<Option<String>> {
            match var {
                None => Ok(None),
                Some(name) => std::env::var(name).map(Some).map_err(|_| {
                    Error::usage(format!(
                        "tenant {:?}: {what} variable {name} is not set",
                        self.name
                    ))
                }),
            }
        };
        Ok(TenantSettings {
            name: Some(self.name.clone()),
            base_url: Some(self.base_url.clone()),
            auth_type: self.auth_type,
            client_id: self
                .client_id
                .clone()
                .or(env(&self.client_id_env, "client_id_env")?),
            client_secret: self
                .client_secret
                .clone()
                .or(env(&self.client_secret_env, "client_secret_env")?)
                .map(Secret::new),
            access_token: self
                .access_token
                .clone()
                .or(env(&self.access_token_env, "access_token_env")?)
                .map(Secret::new),
            audience: self.audience.clone(),
        })
    }
}

/// Refuses a file others could write (they could point a tenant at their own
/// server and collect its secrets), and literal secrets unless the file
/// allows them and only its owner can read it.
fn check_permissions(path: &Path, file: &TenantsFile) -> Result<()> {
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
