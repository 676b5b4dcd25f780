//! Secrets kept off the command line: the warning for a secret given as a
//! flag, the secret files (and standard input), and the tenants file's owner
//! check, all through the real binary against the fake tenant.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::common::*;

const TOKEN: &str = "static-token-5c1e7b-keep-off-the-command-line";

/// Fails if a secret is in the archive or its WAL.
fn assert_secret_not_stored(db: &Path, secrets: &[&str]) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        if let Ok(bytes) = std::fs::read(&p) {
            for s in secrets {
                assert!(
                    !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                    "secret found in {}",
                    Path::new(&p).display()
                );
            }
        }
    }
}

/// The stderr lines warning about a secret on the command line.
fn command_line_warnings(o: &Output) -> Vec<String> {
    stderr(o)
        .lines()
        .filter(|l| l.contains("warning") && l.contains("command line"))
        .map(str::to_string)
        .collect()
}

/// `sync` with the client ID but no client secret: each test says how to give it.
fn sync_without_secret(tenant: &auth0_archive::simulator::FakeTenant, db: &Path) -> Command {
    let mut cmd = sync_cmd(tenant, db);
    cmd.env_remove("AUTH0_CLIENT_SECRET");
    cmd
}

/// `sync` with only the tenant URL: a ready token is all it needs.
fn sync_with_token(tenant: &auth0_archive::simulator::FakeTenant, db: &Path) -> Command {
    let mut cmd = bin();
    cmd.arg("--db")
        .arg(db)
        .args(["sync", "--json", "--quiet"])
        .env("AUTH0_BASE_URL", tenant.base_url());
    cmd
}

fn write_secret(dir: &Path, name: &str, content: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

#[test]
fn a_secret_given_as_a_flag_is_warned_about_and_one_from_the_environment_is_not() {
    let env = Env::new();
    let tenant = tenant_with(events(250, 61));
    tenant.with(|st| {
        st.static_tokens.insert(TOKEN.to_string(), true);
    });

    // From the environment: no warning.
    let out = sync(&tenant, &env.db);
    assert_ok(&out);
    assert!(command_line_warnings(&out).is_empty(), "{}", stderr(&out));

    // As a flag: works, with one warning line naming the safer ways.
    tenant.with(|st| st.push_events(events_ending(30, 62, "2026-11-21T00:00:00Z")));
    let out = sync_without_secret(&tenant, &env.db)
        .args(["--client-secret", CLIENT_SECRET])
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(summary(&out)["inserted"], 30);
    let warnings = command_line_warnings(&out);
    assert_eq!(warnings.len(), 1, "{}", stderr(&out));
    for word in [
        "--client-secret",
        "AUTH0_CLIENT_SECRET",
        "--client-secret-file",
    ] {
        assert!(warnings[0].contains(word), "{}", warnings[0]);
    }
    assert_no_secret(&out, &[CLIENT_SECRET]);

    // The same for an access token, as a flag and then from the environment.
    let out = sync_with_token(&tenant, &env.db)
        .args(["--access-token", TOKEN])
        .output()
        .unwrap();
    assert_ok(&out);
    let warnings = command_line_warnings(&out);
    assert_eq!(warnings.len(), 1, "{}", stderr(&out));
    assert!(
        warnings[0].contains("--access-token") && warnings[0].contains("AUTH0_ACCESS_TOKEN"),
        "{}",
        warnings[0]
    );
    assert_no_secret(&out, &[TOKEN]);
    let out = sync_with_token(&tenant, &env.db)
        .env("AUTH0_ACCESS_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(command_line_warnings(&out).is_empty(), "{}", stderr(&out));

    // A usage error still warns: the secret was exposed all the same.
    let out = sync_without_secret(&tenant, &env.db)
        .args(["--client-secret", CLIENT_SECRET, "--max-events", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(command_line_warnings(&out).len(), 1, "{}", stderr(&out));
    assert_no_secret(&out, &[CLIENT_SECRET]);

    assert_exact(&env.db, &tenant);
    assert_secret_not_stored(&env.db, &[CLIENT_SECRET, TOKEN, "sim-token-"]);
}

#[test]
fn secret_files_and_standard_input_keep_secrets_off_the_command_line() {
    let env = Env::new();
    let tenant = tenant_with(events(240, 63));
    tenant.with(|st| {
        st.static_tokens.insert(TOKEN.to_string(), true);
    });
    let dir = env.dir.path();

    // --client-secret-file, with the newline an editor leaves.
    let secret_file = write_secret(dir, "client-secret", &format!("{CLIENT_SECRET}\n"));
    let out = sync_without_secret(&tenant, &env.db)
        .arg("--client-secret-file")
        .arg(&secret_file)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(summary(&out)["inserted"], 240);
    assert!(command_line_warnings(&out).is_empty(), "{}", stderr(&out));
    assert_no_secret(&out, &[CLIENT_SECRET]);

    // AUTH0_CLIENT_SECRET_FILE, trailing blanks and CRLF included.
    tenant.with(|st| st.push_events(events_ending(20, 64, "2026-11-21T00:00:00Z")));
    std::fs::write(&secret_file, format!("{CLIENT_SECRET} \t\r\n\n")).unwrap();
    let out = sync_without_secret(&tenant, &env.db)
        .env("AUTH0_CLIENT_SECRET_FILE", &secret_file)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(summary(&out)["inserted"], 20);

    // `-`: standard input.
    tenant.with(|st| st.push_events(events_ending(25, 65, "2026-11-22T00:00:00Z")));
    let mut child = sync_without_secret(&tenant, &env.db)
        .args(["--client-secret-file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{CLIENT_SECRET}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_ok(&out);
    assert_eq!(summary(&out)["inserted"], 25);
    assert!(command_line_warnings(&out).is_empty(), "{}", stderr(&out));
    assert_no_secret(&out, &[CLIENT_SECRET]);

    // --access-token-file.
    tenant.with(|st| st.push_events(events_ending(15, 66, "2026-11-23T00:00:00Z")));
    let token_file = write_secret(dir, "token", &format!("{TOKEN}\n"));
    let tokens_before = tenant.stats().token_requests;
    let out = sync_with_token(&tenant, &env.db)
        .arg("--access-token-file")
        .arg(&token_file)
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(summary(&out)["inserted"], 15);
    assert_eq!(tenant.stats().token_requests, tokens_before, "no grant");
    assert_no_secret(&out, &[TOKEN]);

    assert_exact(&env.db, &tenant);
    assert_secret_not_stored(&env.db, &[CLIENT_SECRET, TOKEN, "sim-token-"]);
}

#[test]
fn a_bad_secret_file_exits_with_one_line_that_never_shows_its_content() {
    let env = Env::new();
    let tenant = tenant_with(events(50, 67));
    let dir = env.dir.path();

    // Empty, blank, missing: usage errors (exit 2) before the archive exists.
    let empty = write_secret(dir, "empty", "");
    let blank = write_secret(dir, "blank", " \n\r\n");
    let missing = dir.join("missing");
    for (file, words) in [
        (&empty, &["empty", "--client-secret-file"][..]),
        (&blank, &["empty"][..]),
        (&missing, &["No such file"][..]),
    ] {
        let out = sync_without_secret(&tenant, &env.db)
            .arg("--client-secret-file")
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert_eq!(stderr(&out).trim().lines().count(), 1, "{}", stderr(&out));
        for w in words {
            assert!(stderr(&out).contains(w), "{}", stderr(&out));
        }
    }
    // Empty standard input too.
    let out = sync_without_secret(&tenant, &env.db)
        .args(["--client-secret-file", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("standard input"), "{}", stderr(&out));
    assert!(
        !env.db.exists(),
        "a usage error must not create the archive"
    );

    // A file that is not text: the error does not quote it.
    let binary = dir.join("binary");
    std::fs::write(&binary, b"leaky-bytes-9f2e\xff\xfe").unwrap();
    let out = sync_without_secret(&tenant, &env.db)
        .arg("--client-secret-file")
        .arg(&binary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_no_secret(&out, &["leaky-bytes-9f2e"]);

    // A wrong secret read from a file is refused by the tenant (exit 3), unprinted.
    let wrong = write_secret(dir, "wrong", "wrong-secret-from-file-41d7\n");
    let out = sync_without_secret(&tenant, &env.db)
        .arg("--client-secret-file")
        .arg(&wrong)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_no_secret(&out, &["wrong-secret-from-file-41d7"]);

    // The file and the secret itself are exclusive, from the environment too.
    for (flag, file_flag) in [
        ("--client-secret", "--client-secret-file"),
        ("--access-token", "--access-token-file"),
    ] {
        let out = sync_without_secret(&tenant, &env.db)
            .args([flag, "exclusive-s3cret-77"])
            .arg(file_flag)
            .arg(&wrong)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("cannot be used with"),
            "{}",
            stderr(&out)
        );
        assert_no_secret(&out, &["exclusive-s3cret-77", "wrong-secret-from-file"]);
    }
    let out = sync_cmd(&tenant, &env.db)
        .arg("--client-secret-file")
        .arg(&wrong)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_no_secret(&out, &[CLIENT_SECRET, "wrong-secret-from-file"]);

    // Both files cannot read standard input.
    let out = sync_without_secret(&tenant, &env.db)
        .args(["--client-secret-file", "-", "--access-token-file", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("standard input"), "{}", stderr(&out));

    assert_secret_not_stored(&env.db, &[CLIENT_SECRET, "wrong-secret-from-file"]);
}

#[test]
fn a_tenants_file_owned_by_another_user_is_refused() {
    let env = Env::new();
    let tenant = tenant_with(events(60, 68));
    let config = env.dir.path().join("tenants.toml");
    std::fs::write(
        &config,
        format!(
            "[[tenant]]\nname = \"prod\"\nbase_url = \"{}\"\nclient_id = \"test-client-id\"\nclient_secret_env = \"PROD_SECRET\"\n",
            tenant.base_url()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let sync_config = || {
        bin()
            .arg("--db")
            .arg(&env.db)
            .args(["sync", "--quiet", "--json", "--config"])
            .arg(&config)
            .env("PROD_SECRET", CLIENT_SECRET)
            .output()
            .unwrap()
    };
    let me = std::fs::metadata(env.dir.path()).unwrap();
    let my_uid = std::os::unix::fs::MetadataExt::uid(&me);

    // 65534 is `nobody`; handing a file to another user takes root.
    if let Err(e) = std::os::unix::fs::chown(&config, Some(65534), None) {
        assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied, "{e}");
        eprintln!("SKIPPED: giving the tenants file to another user needs root ({e})");
        return;
    }
    let out = sync_config();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("65534") && err.contains(&format!("chown {my_uid}")),
        "{err}"
    );
    assert!(!env.db.exists(), "nothing is synced from a refused file");
    assert_eq!(tenant.stats().requests, 0);

    // Given back, the same file is accepted.
    std::os::unix::fs::chown(&config, Some(my_uid), None).unwrap();
    let out = sync_config();
    assert_ok(&out);
    assert_eq!(summary(&out)["inserted"], 60);
    assert_no_secret(&out, &[CLIENT_SECRET]);
}
