//! The documentation stays true: the reports reference is generated from
//! the saved reports' headers, and every local link resolves.

use std::path::{Path, PathBuf};

use auth0_archive::query::{catalog, reference};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_reports_reference_is_generated_from_the_query_headers() {
    let want = reference::reports_markdown(&catalog::reports().unwrap());
    let path = repo().join("docs/REPORTS.md");
    if std::env::var_os("AUTH0_ARCHIVE_WRITE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/REPORTS.md is stale: run AUTH0_ARCHIVE_WRITE_DOCS=1 cargo test --release --test it docs::"
    );
    for r in catalog::reports().unwrap() {
        assert!(have.contains(&format!("\n### {}\n", r.name)), "{}", r.name);
    }
}

/// `](target)` links in a Markdown text that point into the repository.
fn local_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = &rest[..end];
        if !target.contains("://") && !target.starts_with('#') && !target.starts_with("mailto:") {
            links.push(target.split('#').next().unwrap_or_default().to_string());
        }
    }
    links
}

fn check_links(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let dir = file.parent().unwrap();
    local_links(&text)
        .into_iter()
        .filter(|l| !l.is_empty() && !dir.join(l).exists())
        .map(|l| format!("{}: {l}", file.display()))
        .collect()
}

#[test]
fn every_local_link_in_the_readme_and_docs_resolves() {
    let mut files = vec![repo().join("README.md")];
    for entry in std::fs::read_dir(repo().join("docs")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "md") {
            files.push(p);
        }
    }
    let broken: Vec<String> = files.iter().flat_map(|f| check_links(f)).collect();
    assert!(broken.is_empty(), "broken links: {broken:?}");
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        readme.lines().count() <= 300,
        "the README is a front page: at most 300 lines, not {}",
        readme.lines().count()
    );
}
