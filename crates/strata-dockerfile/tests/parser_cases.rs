//! Data-driven tests for the parser and instruction layers.
//!
//! `testdata/parser/<case>/Dockerfile` must parse without errors into the
//! typed Dockerfile in `expected.json` (warnings, if any, rendered in
//! `expected-warnings.txt`). `testdata/parser-negative/<case>/Dockerfile`
//! must produce errors, rendered as in `expected-error.txt`.
//!
//! `UPDATE_EXPECT=1 cargo test` rewrites the expected files; review every
//! change by hand against BuildKit's behaviour before keeping it.

use std::fs;
use std::path::{Path, PathBuf};

use strata_dockerfile::{Diagnostic, instructions, parse, render_all};

fn testdata(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(sub)
}

fn case_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(root)
        .unwrap_or_else(|e| panic!("reading {}: {e}", root.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn updating() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1")
}

/// Compares `actual` with the file at `path` (absent counts as empty), or
/// rewrites the file when updating. Returns a failure description.
fn compare(path: &Path, actual: &str) -> Option<String> {
    let expected = fs::read_to_string(path).unwrap_or_default();
    if expected == actual {
        return None;
    }
    if updating() {
        if actual.is_empty() {
            fs::remove_file(path).expect("removing stale expectation");
        } else {
            fs::write(path, actual).expect("writing expectation");
        }
        return None;
    }
    Some(format!(
        "{}\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    ))
}

fn rendered(diags: &[&Diagnostic], src: &str) -> String {
    if diags.is_empty() {
        return String::new();
    }
    let owned: Vec<Diagnostic> = diags.iter().map(|d| (*d).clone()).collect();
    render_all(&owned, "Dockerfile", src) + "\n"
}

fn finish(kind: &str, count: usize, minimum: usize, failures: Vec<String>) {
    assert!(
        count >= minimum,
        "expected at least {minimum} {kind} cases, found {count}"
    );
    assert!(
        failures.is_empty(),
        "{} of {count} {kind} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn parser_cases() {
    let dirs = case_dirs(&testdata("parser"));
    let mut failures = Vec::new();
    for dir in &dirs {
        let src = fs::read_to_string(dir.join("Dockerfile")).expect("reading Dockerfile");
        let (df, diags) = instructions(&parse(&src));
        let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
        if !errors.is_empty() {
            failures.push(format!(
                "{}: unexpected errors\n{}",
                dir.display(),
                rendered(&errors, &src)
            ));
            continue;
        }
        let json = serde_json::to_string_pretty(&df).expect("serializing") + "\n";
        failures.extend(compare(&dir.join("expected.json"), &json));
        let warnings: Vec<&Diagnostic> = diags.iter().filter(|d| !d.is_error()).collect();
        failures.extend(compare(
            &dir.join("expected-warnings.txt"),
            &rendered(&warnings, &src),
        ));
    }
    finish("parser", dirs.len(), 80, failures);
}

#[test]
fn parser_negative_cases() {
    let dirs = case_dirs(&testdata("parser-negative"));
    let mut failures = Vec::new();
    for dir in &dirs {
        let src = fs::read_to_string(dir.join("Dockerfile")).expect("reading Dockerfile");
        let (_, diags) = instructions(&parse(&src));
        if !diags.iter().any(Diagnostic::is_error) {
            failures.push(format!("{}: no error reported", dir.display()));
            continue;
        }
        let all: Vec<&Diagnostic> = diags.iter().collect();
        failures.extend(compare(
            &dir.join("expected-error.txt"),
            &rendered(&all, &src),
        ));
    }
    finish("negative", dirs.len(), 20, failures);
}
