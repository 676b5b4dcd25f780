//! The tenants file (`sync --config auth0-archive.toml`): several tenants
//! archived into one database, each under its own name in the `tenant`
//! column with its own checkpoint. Secrets stay in environment variables the
//! file names; a literal secret is accepted only when the file says so and
//! other users cannot read it. The file must belong to the user running the
//! tool (or root) and be writable by its owner only.

use std::fs::Metadata;
use std::io::Read;
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
    /// The checks and the read use one open file, so the file checked is the
    /// file read.
    pub fn load(path: &Path) -> Result<Self> {
        let cannot_read = |e: std::io::Error| {
            Error::usage(format!("cannot read tenants file {}: {e}", path.display()))
        };
        let mut handle = std::fs::File::open(path).map_err(cannot_read)?;
        let meta = handle.metadata().map_err(cannot_read)?;
        check_owner_and_mode(path, &meta, effective_uid())?;
        let mut text = String::new();
        handle.read_to_string(&mut text).map_err(cannot_read)?;
        let mut file: TenantsFile = toml::from_str(&text)
            .map_err(|e| Error::usage(format!("{}: {}", path.display(), e.message())))?;
        file.path = path.to_path_buf();
        check_literal_secrets(path, &file, &meta)?;
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
            let wanted = only.unwrap_or_default();
            let near = crate::text::closest(wanted, known.iter().copied());
            return Err(Error::usage(match crate::text::did_you_mean(&near) {
                Some(hint) => format!("no tenant {wanted:?} in {}: {hint}", self.path.display()),
                None => format!(
                    "no tenant {wanted:?} in {} (known: {})",
                    self.path.display(),
                    known.join(", ")
                ),
            }));
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

/// The effective user id of this process, whose files it trusts.
///
/// `geteuid` straight from the C library that std already links: no I/O and
/// no failure, on every Unix. The alternatives are worse: `libc` and `nix`
/// are not dependencies, `/proc/self/status` exists on Linux only (and not in
/// every container or chroot), and the owner of a scratch file needs a
/// writable directory and shows the file system's idea of the owner.
fn effective_uid() -> u32 {
    // SAFETY: POSIX declares `uid_t geteuid(void)`; it takes nothing, always
    // succeeds and touches no memory of ours, and `uid_t` is a 32-bit
    // unsigned integer on the Unix targets this builds for (std's
    // `MetadataExt::uid` is `u32` too).
    unsafe extern "C" {
        safe fn geteuid() -> u32;
    }
    geteuid()
}

/// Refuses a file that someone other than the user running the tool could
/// change: they could point a tenant at their own server and collect its
/// secrets. It must belong to that user (or to root, who could change
/// anything anyway, as OpenSSH accepts for its configuration) and must not
/// be writable by group or others.
fn check_owner_and_mode(path: &Path, meta: &Metadata, euid: u32) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let owner = meta.uid();
    if owner != euid && owner != 0 {
        return Err(Error::usage(format!(
            "{} belongs to uid {owner}, not to uid {euid} running auth0-archive, so its owner could \
             redirect your secrets; run `sudo chown {euid} {}` or use a copy you own",
            path.display(),
            path.display()
        )));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(Error::usage(format!(
            "{} is writable by other users; run `chmod go-w {}`",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

/// Refuses literal secrets unless the file allows them and only its owner
/// can read it.
fn check_literal_secrets(path: &Path, file: &TenantsFile, meta: &Metadata) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mode = meta.mode();
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    fn the_file_must_belong_to_the_user_running_the_tool_or_root() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tenants.toml");
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        // A new file belongs to whoever created it: this process.
        assert_eq!(meta.uid(), effective_uid());
        assert!(check_owner_and_mode(&path, &meta, meta.uid()).is_ok());
        let stranger = meta.uid().wrapping_add(1).max(1);
        let verdict = check_owner_and_mode(&path, &meta, stranger);
        if meta.uid() == 0 {
            assert!(verdict.is_ok(), "root's files are trusted");
        } else {
            let e = verdict.unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().contains("chown"), "{e}");
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o664)).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let e = check_owner_and_mode(&path, &meta, meta.uid()).unwrap_err();
        assert!(e.to_string().contains("chmod go-w"), "{e}");
    }
}
