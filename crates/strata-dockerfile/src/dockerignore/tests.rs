//! Tests for `.dockerignore` matching.
//!
//! The `daemon_*` tables are ground truth from a real Docker daemon
//! (20.10.24, BuildKit built in): each context was built with `COPY . /`
//! exported through `-o type=local`, and the expected list is exactly what
//! arrived (directories end in `/`). `check` turns the same context into the
//! entries BuildKit would send, using only the public API.
//!
//! Docker 20.10 ships an older BuildKit context walker and pattern matcher
//! than current Docker; where they disagree (found by differential testing),
//! this module follows current BuildKit, and `divergences_from_docker_20_10`
//! records both answers: the expected one comes from running upstream
//! moby/patternmatcher with fsutil's walk logic, the other from the daemon.

use std::collections::{BTreeMap, BTreeSet};

use super::*;

/// The entries BuildKit sends for a context holding `files` (a trailing `/`
/// marks an empty directory; parent directories are implied), as fsutil
/// walks it: skippable directories are not entered, excluded entries are
/// not sent, and a sent entry brings its parent directories along.
fn transfer(ignore: &DockerIgnore, files: &[&str]) -> Vec<String> {
    let mut entries: BTreeMap<String, bool> = BTreeMap::new();
    for file in files {
        let path = file.trim_end_matches('/');
        for (i, _) in path.match_indices('/') {
            entries.insert(path[..i].to_owned(), true);
        }
        *entries.entry(path.to_owned()).or_default() |= file.ends_with('/');
    }
    let mut sent = BTreeSet::new();
    let mut skipped: Vec<&str> = Vec::new();
    for (path, &is_dir) in &entries {
        let below = |dir: &&str| path.strip_prefix(*dir).is_some_and(|r| r.starts_with('/'));
        if skipped.iter().any(below) {
            assert!(ignore.excludes(path), "{path} is below a skipped directory");
            continue;
        }
        if is_dir && ignore.can_skip_dir(path) {
            assert!(ignore.excludes(path), "skippable {path} is not excluded");
            skipped.push(path);
            continue;
        }
        if ignore.excludes(path) {
            continue;
        }
        for (i, _) in path.match_indices('/') {
            sent.insert(format!("{}/", &path[..i]));
        }
        sent.insert(if is_dir {
            format!("{path}/")
        } else {
            path.clone()
        });
    }
    sent.into_iter().collect()
}

/// A context of `Dockerfile`, `.dockerignore` (holding `dockerignore`) and
/// `files`; `survivors` is what the daemon received.
#[track_caller]
fn check(name: &str, dockerignore: &str, files: &[&str], survivors: &[&str]) {
    let mut context = vec!["Dockerfile"];
    context.extend(files);
    check_with(
        name,
        "Dockerfile",
        &[(".dockerignore", dockerignore)],
        &context,
        survivors,
    );
}

/// A context of `files` plus the ignore files `(path, text)`, built with
/// `-f dockerfile`.
#[track_caller]
fn check_with(
    name: &str,
    dockerfile: &str,
    ignore_files: &[(&str, &str)],
    files: &[&str],
    survivors: &[&str],
) {
    let got = sent(name, dockerfile, ignore_files, files);
    assert_eq!(got, survivors, "{name}");
}

#[track_caller]
fn sent(
    name: &str,
    dockerfile: &str,
    ignore_files: &[(&str, &str)],
    files: &[&str],
) -> Vec<String> {
    let mut context: Vec<&str> = files.to_vec();
    context.extend(ignore_files.iter().map(|(path, _)| *path));
    let chosen = ignore_file_for(dockerfile, &|p| context.contains(&p));
    let text = ignore_files
        .iter()
        .find(|(path, _)| *path == chosen)
        .map_or("", |(_, text)| text);
    let ignore = DockerIgnore::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    transfer(&ignore, &context)
}

/// An ignore file the daemon refused.
#[track_caller]
fn check_err(name: &str, dockerignore: &str, kind: PatternErrorKind) {
    match DockerIgnore::parse(dockerignore) {
        Ok(ignore) => panic!("{name}: accepted {:?}", ignore.patterns()),
        Err(e) => assert_eq!(e.kind(), kind, "{name}: {e}"),
    }
}

/// A case where current BuildKit (`expected`) and Docker 20.10
/// (`docker_20_10`, observed) disagree.
#[track_caller]
fn check_vs_docker_20_10(
    name: &str,
    dockerignore: &str,
    files: &[&str],
    expected: &[&str],
    docker_20_10: &[&str],
) {
    assert_ne!(expected, docker_20_10, "{name}: not a divergence");
    check(name, dockerignore, files, expected);
}

/// `*`, `?` and `**` in every position.
#[test]
fn daemon_wildcards() {
    check(
        "star_md_root_only",
        "*.md\n",
        &[
            "README.md",
            "docs/api/ref.md",
            "docs/guide.md",
            "notes.txt",
            "src/main.rs",
        ],
        &[
            ".dockerignore",
            "Dockerfile",
            "docs/",
            "docs/api/",
            "docs/api/ref.md",
            "docs/guide.md",
            "notes.txt",
            "src/",
            "src/main.rs",
        ],
    );
    check(
        "doublestar_md_any_depth",
        "**/*.md\n",
        &[
            "README.md",
            "docs/api/ref.md",
            "docs/guide.md",
            "notes.txt",
            "src/main.rs",
        ],
        &[
            ".dockerignore",
            "Dockerfile",
            "docs/",
            "docs/api/",
            "notes.txt",
            "src/",
            "src/main.rs",
        ],
    );
    check(
        "star_excludes_everything",
        "*\n",
        &[".hidden", "a", "b/c"],
        &[],
    );
    check(
        "star_slash_star",
        "*/*\n",
        &["a", "b/c", "b/d/e", "f/g"],
        &[".dockerignore", "Dockerfile", "a", "b/", "f/"],
    );
    check(
        "question_one_char",
        "?.txt\n",
        &["a.txt", "ab.txt", "d/a.txt"],
        &[".dockerignore", "Dockerfile", "ab.txt", "d/", "d/a.txt"],
    );
    check(
        "question_not_slash",
        "a?b\n",
        &["a/b", "axb"],
        &[".dockerignore", "Dockerfile", "a/", "a/b"],
    );
    check(
        "star_not_slash",
        "a*b\n",
        &["a/b", "ab", "ax/yb", "axxb"],
        &[".dockerignore", "Dockerfile", "a/", "a/b", "ax/", "ax/yb"],
    );
    check(
        "doublestar_leading",
        "**/node_modules\n",
        &[
            "app/node_modules/y",
            "app/node_modules_old/w",
            "app/src/node_modules/z",
            "node_modules/x",
        ],
        &[
            ".dockerignore",
            "Dockerfile",
            "app/",
            "app/node_modules_old/",
            "app/node_modules_old/w",
            "app/src/",
        ],
    );
    check(
        "doublestar_middle",
        "a/**/z\n",
        &["a/b/c/z", "a/b/z", "a/z", "a/zz", "b/a/z"],
        &[
            ".dockerignore",
            "Dockerfile",
            "a/",
            "a/b/",
            "a/b/c/",
            "a/zz",
            "b/",
            "b/a/",
            "b/a/z",
        ],
    );
    check(
        "doublestar_trailing",
        "build/**\n",
        &["build/sub/y", "build/x", "buildx/z"],
        &[
            ".dockerignore",
            "Dockerfile",
            "build/",
            "buildx/",
            "buildx/z",
        ],
    );
    check("doublestar_alone", "**\n", &["a", "b/c"], &[]);
    check(
        "doublestar_inside_name",
        "a**b\n",
        &["a/b", "ab", "ax/yb", "axb"],
        &[".dockerignore", "Dockerfile", "a/", "ax/", "ax/yb", "axb"],
    );
    check(
        "star_in_dir",
        "docs/*.md\n",
        &["a.md", "docs/a.md", "docs/sub/b.md"],
        &[
            ".dockerignore",
            "Dockerfile",
            "a.md",
            "docs/",
            "docs/sub/",
            "docs/sub/b.md",
        ],
    );
    check(
        "dir_star_keeps_dir",
        "logs/*\n",
        &["logs/a", "logs/sub/b", "logsx"],
        &[".dockerignore", "Dockerfile", "logs/", "logsx"],
    );
}

/// Character classes, escapes, and regular-expression syntax that leaks through.
#[test]
fn daemon_classes_and_escapes() {
    check(
        "class_range",
        "file[0-9].txt\n",
        &["file1.txt", "file10.txt", "filea.txt"],
        &[".dockerignore", "Dockerfile", "file10.txt", "filea.txt"],
    );
    check(
        "class_caret_negates",
        "[^a]*\n",
        &["a1", "b1", "c/d"],
        &["a1"],
    );
    check(
        "class_bang_is_literal",
        "[!a]*\n",
        &["!x", "a1", "b1"],
        &[".dockerignore", "Dockerfile", "b1"],
    );
    check(
        "class_two",
        "[ab][cd]\n",
        &["ac", "ad", "bd", "ca"],
        &[".dockerignore", "Dockerfile", "ca"],
    );
    check(
        "class_posix_digit",
        "[[:digit:]]*\n",
        &["1a", "22", "a1"],
        &[".dockerignore", "Dockerfile", "a1"],
    );
    check(
        "class_escaped_bracket",
        "[\\]]x\n",
        &["\\x", "]x", "ax"],
        &[".dockerignore", "Dockerfile", "\\x", "ax"],
    );
    check(
        "class_star_inside",
        "[*]\n",
        &["*", "]", "a"],
        &["*", ".dockerignore", "Dockerfile", "a"],
    );
    check(
        "escape_star",
        "\\*.txt\n",
        &["*.txt", "a.txt"],
        &[".dockerignore", "Dockerfile", "a.txt"],
    );
    check(
        "escape_question",
        "file\\?\n",
        &["file?", "filea"],
        &[".dockerignore", "Dockerfile", "filea"],
    );
    check(
        "escape_brackets",
        "\\[abc\\]\n",
        &["[abc]", "a", "b"],
        &[".dockerignore", "Dockerfile", "a", "b"],
    );
    check(
        "escape_go_digit_class",
        "v\\d\n",
        &["v1", "va", "vd"],
        &[".dockerignore", "Dockerfile", "va", "vd"],
    );
    check(
        "dot_is_literal",
        "a.b*\n",
        &["a.b", "a.bc", "axb"],
        &[".dockerignore", "Dockerfile", "axb"],
    );
    check(
        "pipe_is_alternation",
        "a|b*\n",
        &["apple", "a|b", "c", "d/ab", "xbz"],
        &[".dockerignore", "Dockerfile", "c", "d/"],
    );
    check(
        "braces_repeat",
        "a{2}*\n",
        &["a", "aa", "aab", "a{2}"],
        &[".dockerignore", "Dockerfile", "a", "a{2}"],
    );
    check(
        "dollar_is_literal",
        "$x*\n",
        &["$x", "$xy", "x"],
        &[".dockerignore", "Dockerfile", "x"],
    );
    check(
        "class_after_star_unchecked",
        "a*[-_]\n",
        &["a-", "ab-", "ab_", "abc"],
        &[".dockerignore", "Dockerfile", "abc"],
    );
    check(
        "escape_dot_in_class",
        "a[.]b\n",
        &["a.b", "axb"],
        &[".dockerignore", "Dockerfile", "axb"],
    );
    check(
        "go_hex_escape",
        "\\x41*\n",
        &["Ab", "ab", "x41"],
        &[".dockerignore", "Dockerfile", "ab", "x41"],
    );
}

/// `!` exceptions: order, re-inclusion below excluded directories, directory skipping.
#[test]
fn daemon_exceptions() {
    check(
        "exception_basic",
        "*.md\n!README.md\n",
        &["CHANGES.md", "README.md", "docs/a.md"],
        &[
            ".dockerignore",
            "Dockerfile",
            "README.md",
            "docs/",
            "docs/a.md",
        ],
    );
    check(
        "exception_first_has_no_effect",
        "!README.md\n*.md\n",
        &["CHANGES.md", "README.md"],
        &[".dockerignore", "Dockerfile"],
    );
    check(
        "exception_then_reexclude",
        "*.md\n!*.md\nCHANGES.md\n",
        &["CHANGES.md", "README.md", "x.txt"],
        &[".dockerignore", "Dockerfile", "README.md", "x.txt"],
    );
    check(
        "exception_file_in_excluded_dir",
        "docs\n!docs/keep.md\n",
        &["docs/keep.md", "docs/other.md", "docs/sub/x"],
        &[".dockerignore", "Dockerfile", "docs/", "docs/keep.md"],
    );
    check(
        "exception_deep_in_excluded_dir",
        "vendor\n!vendor/a/b/keep\n",
        &["vendor/a/b/keep", "vendor/a/c", "vendor/x"],
        &[
            ".dockerignore",
            "Dockerfile",
            "vendor/",
            "vendor/a/",
            "vendor/a/b/",
            "vendor/a/b/keep",
        ],
    );
    check(
        "exception_reincludes_child_dir",
        "cache\n!cache/keep\n",
        &["cache/drop", "cache/keep/a", "cache/keep/b/c"],
        &[
            ".dockerignore",
            "Dockerfile",
            "cache/",
            "cache/keep/",
            "cache/keep/a",
            "cache/keep/b/",
            "cache/keep/b/c",
        ],
    );
    check(
        "exception_wildcard_in_excluded_dir",
        "node_modules\n!node_modules/*.json\n",
        &[
            "node_modules/a.json",
            "node_modules/b.js",
            "node_modules/sub/c.json",
        ],
        &[
            ".dockerignore",
            "Dockerfile",
            "node_modules/",
            "node_modules/a.json",
        ],
    );
    check(
        "star_except_dir_and_file",
        "*\n!src\n!package.json\n",
        &["lib/x", "other", "package.json", "src/a", "src/b/c"],
        &["package.json", "src/", "src/a", "src/b/", "src/b/c"],
    );
    check(
        "exception_dir_then_exclude_inside",
        "*\n!src\nsrc/*.tmp\n",
        &["src/a.tmp", "src/b", "x"],
        &["src/", "src/b"],
    );
    check(
        "exception_doublestar_prefix",
        "**/test\n!pkg/test/data\n",
        &["pkg/test/data", "pkg/test/x", "test/y"],
        &[
            ".dockerignore",
            "Dockerfile",
            "pkg/",
            "pkg/test/",
            "pkg/test/data",
        ],
    );
    check(
        "exception_with_space",
        "*.txt\n!  keep.txt\n",
        &["keep.txt", "x.txt"],
        &[".dockerignore", "Dockerfile", "keep.txt"],
    );
    check(
        "exception_trailing_doublestar",
        "vendor\n!vendor/keep/**\n",
        &["vendor/drop", "vendor/keep/a", "vendor/keep/b/c"],
        &[
            ".dockerignore",
            "Dockerfile",
            "vendor/",
            "vendor/keep/",
            "vendor/keep/a",
            "vendor/keep/b/",
            "vendor/keep/b/c",
        ],
    );
}

/// Leading and trailing `/`, `./`, `..`, `.`.
#[test]
fn daemon_paths() {
    check(
        "leading_slash_root_only",
        "/a\n",
        &["a", "b/a"],
        &[".dockerignore", "Dockerfile", "b/", "b/a"],
    );
    check(
        "trailing_slash_matches_files_too",
        "logs/\n",
        &["logs", "sub/logs/x"],
        &[
            ".dockerignore",
            "Dockerfile",
            "sub/",
            "sub/logs/",
            "sub/logs/x",
        ],
    );
    check(
        "dot_slash_prefix",
        "./a/b\n",
        &["a/b", "a/c"],
        &[".dockerignore", "Dockerfile", "a/", "a/c"],
    );
    check(
        "dotdot_inside",
        "a/../b\n",
        &["a/x", "b"],
        &[".dockerignore", "Dockerfile", "a/", "a/x"],
    );
    check(
        "dotdot_leading_matches_nothing",
        "../a\n",
        &["a"],
        &[".dockerignore", "Dockerfile", "a"],
    );
    check(
        "rooted_dotdot",
        "/../a\n",
        &["a", "b"],
        &[".dockerignore", "Dockerfile", "b"],
    );
    check(
        "dot_matches_nothing",
        ".\n",
        &["a", "b/c"],
        &[".dockerignore", "Dockerfile", "a", "b/", "b/c"],
    );
    check(
        "nested_path_exact",
        "a/b/c\n",
        &["a/b/c", "a/b/d", "x/a/b/c"],
        &[
            ".dockerignore",
            "Dockerfile",
            "a/",
            "a/b/",
            "a/b/d",
            "x/",
            "x/a/",
            "x/a/b/",
            "x/a/b/c",
        ],
    );
}

/// Comments, blank lines, trimming, line endings, BOM; ignoring the Dockerfile and the ignore file.
#[test]
fn daemon_file_syntax() {
    check(
        "comments",
        "# comment\n#*.md\na.md\n",
        &["#*.md", "a.md", "b.md"],
        &["#*.md", ".dockerignore", "Dockerfile", "b.md"],
    );
    check(
        "comment_needs_first_column",
        " #x\n",
        &["#x", "y"],
        &[".dockerignore", "Dockerfile", "y"],
    );
    check(
        "blank_lines_and_trimming",
        "\n\n  a.txt  \n\t\n",
        &["a.txt", "b.txt"],
        &[".dockerignore", "Dockerfile", "b.txt"],
    );
    check(
        "crlf_lines",
        "a.txt\r\nb.txt\r\n",
        &["a.txt", "b.txt", "c.txt"],
        &[".dockerignore", "Dockerfile", "c.txt"],
    );
    check(
        "bom_first_line",
        "\u{feff}a.txt\n",
        &["a.txt", "b.txt"],
        &[".dockerignore", "Dockerfile", "b.txt"],
    );
    check(
        "no_trailing_newline",
        "a.txt",
        &["a.txt", "b.txt"],
        &[".dockerignore", "Dockerfile", "b.txt"],
    );
    check(
        "ignores_dockerfile_and_itself",
        "Dockerfile\n.dockerignore\n",
        &["a"],
        &["a"],
    );
}

/// `<Dockerfile>.dockerignore` beside the Dockerfile takes precedence over `.dockerignore`.
#[test]
fn daemon_dockerfile_specific() {
    check_with(
        "dockerfile_specific_wins",
        "sub/Dockerfile",
        &[
            (".dockerignore", "a\n"),
            ("sub/Dockerfile.dockerignore", "b\n"),
        ],
        &["a", "b", "sub/Dockerfile", "sub/c"],
        &[
            ".dockerignore",
            "a",
            "sub/",
            "sub/Dockerfile",
            "sub/Dockerfile.dockerignore",
            "sub/c",
        ],
    );
    check_with(
        "dockerfile_specific_absent_uses_root",
        "sub/Dockerfile",
        &[(".dockerignore", "a\n"), ("sub/.dockerignore", "b\n")],
        &["a", "b", "sub/Dockerfile"],
        &[
            ".dockerignore",
            "b",
            "sub/",
            "sub/.dockerignore",
            "sub/Dockerfile",
        ],
    );
    check_with(
        "dockerfile_specific_at_root",
        "Dockerfile",
        &[(".dockerignore", "a\n"), ("Dockerfile.dockerignore", "b\n")],
        &["Dockerfile", "a", "b"],
        &[
            ".dockerignore",
            "Dockerfile",
            "Dockerfile.dockerignore",
            "a",
        ],
    );
    check_with(
        "dockerfile_specific_custom_name",
        "build.Dockerfile",
        &[
            (".dockerignore", "a\n"),
            ("build.Dockerfile.dockerignore", "c\n"),
        ],
        &["a", "b", "build.Dockerfile", "c"],
        &[
            ".dockerignore",
            "a",
            "b",
            "build.Dockerfile",
            "build.Dockerfile.dockerignore",
        ],
    );
    check_with(
        "dockerfile_specific_empty",
        "sub/Dockerfile",
        &[
            (".dockerignore", "a\n"),
            ("sub/Dockerfile.dockerignore", ""),
        ],
        &["a", "b", "sub/Dockerfile"],
        &[
            ".dockerignore",
            "a",
            "b",
            "sub/",
            "sub/Dockerfile",
            "sub/Dockerfile.dockerignore",
        ],
    );
}

/// Patterns the daemon refused (every one failed the build).
#[test]
fn daemon_errors() {
    check_err("error_unclosed_class", "a[\n", PatternErrorKind::Syntax);
    check_err("error_bad_range", "[z-a]\n", PatternErrorKind::Syntax);
    check_err("error_bad_escape", "\\q\n", PatternErrorKind::Syntax);
    check_err(
        "error_bang_alone",
        "a\n!\n",
        PatternErrorKind::IllegalExclusion,
    );
    check_err(
        "error_trailing_backslash",
        "a\\\n",
        PatternErrorKind::Syntax,
    );
    check_err(
        "error_long_line",
        &format!("{}\n", "a".repeat(70000)),
        PatternErrorKind::LineTooLong,
    );
}

/// Current BuildKit against Docker 20.10 (see the module documentation): the
/// expected lists come from upstream moby/patternmatcher driven like fsutil's
/// current walk; the 20.10 lists were observed on the daemon.
#[test]
fn divergences_from_docker_20_10() {
    // `**.md` takes the suffix fast path (ends with `.md`); 20.10's regex wants a name `.md`.
    check_vs_docker_20_10(
        "div_doublestar_suffix_noslash",
        "**.md\n",
        &[".md", "a.md", "d/b.md"],
        &[".dockerignore", "Dockerfile", "d/"],
        &[".dockerignore", "Dockerfile", "a.md", "d/", "d/b.md"],
    );
    // A literal pattern is compared as a string; 20.10 ran `^a+$`.
    check_vs_docker_20_10(
        "div_plus_literal",
        "a+\n",
        &["a", "a+", "aa"],
        &[".dockerignore", "Dockerfile", "a", "aa"],
        &[".dockerignore", "Dockerfile", "a+"],
    );
    // `(`, `)` are escaped now; in 20.10 this was the group `(a|b)`.
    check_vs_docker_20_10(
        "div_parens_literal",
        "(a|b)*\n",
        &["(a|b)x", "a", "b"],
        &[".dockerignore", "Dockerfile", "a", "b"],
        &["(a|b)x", ".dockerignore", "Dockerfile"],
    );
    // A literal pattern is compared as a string; 20.10's `^a^b$` matched nothing.
    check_vs_docker_20_10(
        "div_caret_literal_exact",
        "a^b\n",
        &["a^b", "b"],
        &[".dockerignore", "Dockerfile", "b"],
        &[".dockerignore", "Dockerfile", "a^b", "b"],
    );
    // 20.10 checked `**/b` against one ancestor (`x/a`) and missed `x/a/b`.
    check_vs_docker_20_10(
        "div_deep_parent",
        "**/b\n!x/a/b/keep\n",
        &["b", "x/a/b/c", "x/a/b/keep"],
        &[
            ".dockerignore",
            "Dockerfile",
            "x/",
            "x/a/",
            "x/a/b/",
            "x/a/b/keep",
        ],
        &[
            ".dockerignore",
            "Dockerfile",
            "x/",
            "x/a/",
            "x/a/b/",
            "x/a/b/c",
            "x/a/b/keep",
        ],
    );
    // A wildcard exception keeps excluded directories open; 20.10 skipped `a`.
    check_vs_docker_20_10(
        "div_wildcard_exception_under_skip",
        "a\n!*/keep\n",
        &["a/c", "a/keep"],
        &[".dockerignore", "Dockerfile", "a/", "a/keep"],
        &[".dockerignore", "Dockerfile"],
    );
    // Likewise: 20.10 skipped `a` and lost `a/b.md`.
    check_vs_docker_20_10(
        "div_keep_md_everywhere",
        "*\n!**/*.md\n",
        &["a/b.md", "a/c", "d.md"],
        &["a/", "a/b.md", "d.md"],
        &["d.md"],
    );
    // An excluded directory is sent only as a parent; 20.10 sent `a/` empty.
    check_vs_docker_20_10(
        "div_empty_excluded_dir",
        "a\n!a/keep\n",
        &["a/other", "b"],
        &[".dockerignore", "Dockerfile", "b"],
        &[".dockerignore", "Dockerfile", "a/", "b"],
    );
    // `!x` was not evaluated for `x` (nothing excluded it), so it does not cover `x/y`.
    check_vs_docker_20_10(
        "div_exception_on_parent",
        "x/y\n!x\n",
        &["x/y", "x/z"],
        &[".dockerignore", "Dockerfile", "x/", "x/z"],
        &[".dockerignore", "Dockerfile", "x/", "x/y", "x/z"],
    );
    // Same rule: `**/*.log` never excluded `important`, so `!important` does not reach its children.
    check_vs_docker_20_10(
        "exception_reincludes_whole_dir",
        "**/*.log\n!important/\n",
        &["important/a.log", "sub/y.log", "sub/z.txt", "x.log"],
        &[
            ".dockerignore",
            "Dockerfile",
            "important/",
            "sub/",
            "sub/z.txt",
        ],
        &[
            ".dockerignore",
            "Dockerfile",
            "important/",
            "important/a.log",
            "sub/",
            "sub/z.txt",
        ],
    );
}

/// Single patterns, expected results from upstream moby/patternmatcher
/// (each path matched on its own, no parent directories).
#[test]
fn pattern_semantics() {
    check_match(
        "[*]",
        &[
            ("*", false),
            ("]", true),
            ("[]", true),
            ("[/]", true),
            ("a", false),
        ],
    );
    check_match(
        "\\Qa*\\E",
        &[("a[^/]*", true), ("ab", false), ("a*", false)],
    );
    check_match("\\Qab", &[("ab$", true), ("ab$x", true), ("ab", false)]);
    check_match(
        "[[:alpha:]][[:^alpha:]]",
        &[("a1", true), ("ab", false), ("1a", false)],
    );
    check_match(
        "\\pL*",
        &[("\u{e9}1", true), ("1\u{e9}", false), ("\u{3a9}x", true)],
    );
    check_match(
        "\\w\\s\\d",
        &[("a 1", true), ("a\t1", true), ("\u{e9} 1", false)],
    );
    check_match("\\101", &[("A", true), ("101", false)]);
    check_match("a\\b*", &[("a", true), ("a-b", true), ("ab", false)]);
    check_match(
        "**foo",
        &[
            ("barfoo", true),
            ("x/foo", true),
            ("foo", true),
            ("fo", false),
        ],
    );
    check_match("foo**", &[("foobar", true), ("foo/x", true), ("fo", false)]);
    check_match("a/**/", &[("a/b", true), ("a", false), ("ab", false)]);
    check_match("\u{feff}*", &[("x", true), ("\u{feff}x", true)]);
    check_match("\u{feff}a", &[("a", false), ("\u{feff}a", true)]);
    check_match("a|b", &[("a|b", true), ("a", false), ("b", false)]);
    check_match(
        "a|b?",
        &[
            ("a|b", true),
            ("ax", true),
            ("xbc", true),
            ("xb", false),
            ("c", false),
        ],
    );
    check_match("^*", &[("x", true), ("^x", true)]);
    check_match("x^*", &[("x", false), ("xy", false), ("x^", false)]);
    check_match(
        "a{1,2}b*",
        &[
            ("ab", true),
            ("aab", true),
            ("aaab", false),
            ("a{1,2}b", false),
        ],
    );
    check_match("[\\d]", &[("1", true), ("d", false)]);
    check_match("[^/]", &[("a", true), ("/", false)]);
    check_match("*/", &[("a", true), ("a/b", false)]);
    check_pattern_err("[a-c-e]");
    check_pattern_err("a[^]b]");
    check_pattern_err("a/b\\");
    check_pattern_err("\\x4");
    check_pattern_err("\\8*");
    check_pattern_err("[[:foo:]]");
    check_pattern_err("a*\\pX");
    check_match(
        "\\p{Greek}*",
        &[("\u{3b1}\u{3b2}", true), ("a", false), ("\u{3a9}", true)],
    );
    check_match("\\p{^Greek}?", &[("\u{3b1}", false), ("ab", true)]);
    check_match("\\x{41}*", &[("A", true), ("Ab", true), ("x41", false)]);
    check_match("\\x{D800}*", &[("a", false), ("\u{d7ff}", false)]);
    check_match(
        "\\pC*",
        &[("\u{ad}", true), ("a", false), ("\u{e000}", true)],
    );
    check_pattern_err("\\p{greek}*");
    check_match("?{3}", &[("abc", true), ("ab", false), ("a/c", false)]);
}

#[track_caller]
fn check_match(pattern: &str, cases: &[(&str, bool)]) {
    let ignore = DockerIgnore::from_patterns(&[pattern.to_owned()])
        .unwrap_or_else(|e| panic!("{pattern:?}: {e}"));
    for &(path, expected) in cases {
        assert_eq!(
            ignore.compiled[0].matches(path),
            expected,
            "{pattern:?} on {path:?}"
        );
    }
}

#[track_caller]
fn check_pattern_err(pattern: &str) {
    let err = DockerIgnore::from_patterns(&[pattern.to_owned()]).unwrap_err();
    assert_eq!(err.kind(), PatternErrorKind::Syntax, "{pattern:?}");
    assert_eq!(err.to_string(), "syntax error in pattern");
    assert_eq!(err.pattern(), pattern);
}

fn ignore(text: &str) -> DockerIgnore {
    DockerIgnore::parse(text).unwrap()
}

#[test]
fn can_skip_dir_without_exceptions() {
    let di = ignore("node_modules\n*.log\n");
    assert!(di.can_skip_dir("node_modules"));
    assert!(di.can_skip_dir("node_modules/pkg")); // below a skipped directory
    assert!(di.can_skip_dir("old.log"));
    assert!(!di.can_skip_dir("src"));
    assert!(!di.can_skip_dir("src/node_modules")); // `node_modules` is anchored
    assert!(!di.can_skip_dir(""));
    assert!(!di.can_skip_dir("."));
}

#[test]
fn can_skip_dir_with_path_exceptions() {
    let di = ignore("vendor\n!vendor/keep\ncache\n!cache/data/**\n");
    // An exception names something below: the walk must enter.
    assert!(!di.can_skip_dir("vendor"));
    assert!(di.can_skip_dir("vendor/other"));
    assert!(!di.can_skip_dir("vendor/keep"));
    assert!(!di.excludes("vendor/keep/file"));
    // A trailing `/**` or `/*` does not make an exception a wildcard one.
    assert!(!di.can_skip_dir("cache"));
    assert!(!di.can_skip_dir("cache/data"));
    assert!(di.can_skip_dir("cache/tmp"));
    assert!(di.excludes("cache/data"));
    assert!(!di.excludes("cache/data/x"));
}

#[test]
fn can_skip_dir_with_wildcard_exceptions() {
    // Any exception with `*?[]^\` (beyond a trailing glob) disables skipping.
    for text in ["*\n!**/*.md\n", "build\n!*/keep\n", "a\n!b\n!x?\n"] {
        let di = ignore(text);
        for dir in ["a", "build", "a/b", "node_modules"] {
            assert!(!di.can_skip_dir(dir), "{text:?} {dir}");
        }
    }
    let di = ignore("*\n!**/*.md\n");
    assert!(di.excludes("a"));
    assert!(!di.excludes("a/b.md"));
}

#[test]
fn can_skip_dir_exception_outside() {
    // Exceptions elsewhere do not keep an unrelated directory open.
    let di = ignore("*\n!src\n");
    assert!(di.can_skip_dir("target"));
    assert!(!di.can_skip_dir("src"));
    assert!(!di.excludes("src/main.rs"));
    // A prefix that is not a path prefix does not count.
    let di = ignore("src\n!srcs/x\n");
    assert!(di.can_skip_dir("src"));
}

#[test]
fn excludes_paths() {
    let di = ignore("a/b\n");
    assert!(!di.excludes(""));
    assert!(!di.excludes("."));
    assert!(!di.excludes("a"));
    assert!(di.excludes("a/b"));
    assert!(di.excludes("a/b/")); // trailing slash ignored
    assert!(di.excludes("a/b/c/d"));
    assert!(!DockerIgnore::default().excludes("a"));
    assert!(!ignore("").excludes("a"));
}

#[test]
fn later_patterns_win() {
    let di = ignore("*.txt\n!keep*.txt\nkeep-not.txt\n");
    assert!(di.excludes("a.txt"));
    assert!(!di.excludes("keep.txt"));
    assert!(di.excludes("keep-not.txt"));
}

#[test]
fn parse_normalizes_patterns() {
    let text = "\u{feff}# comment\n  /a/  \n\n!  ./b/../c\n \t#x\n//d//e\n/\n!/e\r\n**/\nf/**/\n";
    let di = ignore(text);
    assert_eq!(
        di.patterns(),
        ["a", "!c", "#x", "d/e", "/", "!e", "**", "f/**"]
    );
}

#[test]
fn from_patterns_keeps_patterns_as_given() {
    let patterns: Vec<String> = ["/a", " b ", "! c", "", "!./d"].map(String::from).to_vec();
    let di = DockerIgnore::from_patterns(&patterns).unwrap();
    assert_eq!(di.patterns(), patterns.as_slice());
    // No leading-slash stripping here (only ReadAll does that).
    assert!(!di.excludes("a"));
    assert!(di.excludes("b"));
    // `! c` is cleaned as a whole: the exception is " c", with the space.
    let di = DockerIgnore::from_patterns(&["*".into(), "! c".into()]).unwrap();
    assert!(!di.excludes(" c"));
    assert!(di.excludes("c"));
    let di = DockerIgnore::from_patterns(&["*".into(), "!./d".into()]).unwrap();
    assert!(di.excludes("d")); // the exception is "./d", which matches nothing
}

#[test]
fn pattern_errors() {
    let cases: &[(&str, PatternErrorKind, &str)] = &[
        ("a\n!\n", PatternErrorKind::IllegalExclusion, "!"),
        ("!/\n", PatternErrorKind::IllegalExclusion, "!/"),
        ("[]\n", PatternErrorKind::Syntax, "[]"),
        ("[a\n", PatternErrorKind::Syntax, "[a"),
        ("[^]\n", PatternErrorKind::Syntax, "[^]"),
        ("[a-]\n", PatternErrorKind::Syntax, "[a-]"),
        ("[-a]\n", PatternErrorKind::Syntax, "[-a]"),
        ("x\\\n", PatternErrorKind::Syntax, "x\\"),
        ("[z-a]\n", PatternErrorKind::Syntax, "[z-a]"),
        ("\\q\n", PatternErrorKind::Syntax, "\\q"),
        ("\\1*\n", PatternErrorKind::Syntax, "\\1*"),
        ("a|{2}*\n", PatternErrorKind::Syntax, "a|{2}*"),
        ("\\C*\n", PatternErrorKind::Syntax, "\\C*"),
        ("a*{2}{3}\n", PatternErrorKind::Syntax, "a*{2}{3}"),
        ("a{1001}*\n", PatternErrorKind::Syntax, "a{1001}*"),
        // patternmatcher.New checks every pattern before any regexp exists.
        ("\\q\n!\n", PatternErrorKind::IllegalExclusion, "!"),
    ];
    for &(text, kind, pattern) in cases {
        let err = DockerIgnore::parse(text).unwrap_err();
        assert_eq!((err.kind(), err.pattern()), (kind, pattern), "{text:?}");
    }
    let long = format!("ok\n{}\n", "a".repeat(64 * 1024));
    assert_eq!(
        DockerIgnore::parse(&long).unwrap_err().kind(),
        PatternErrorKind::LineTooLong
    );
    let fits = format!("{}\r\n", "a".repeat(64 * 1024 - 2));
    assert!(DockerIgnore::parse(&fits).is_ok());
    assert_eq!(
        PatternErrorKind::Syntax.to_string(),
        "syntax error in pattern"
    );
    assert_eq!(
        PatternErrorKind::IllegalExclusion.to_string(),
        "illegal exclusion pattern: \"!\""
    );
    assert_eq!(
        PatternErrorKind::LineTooLong.to_string(),
        "bufio.Scanner: token too long"
    );
}

#[test]
fn ignore_file_choice() {
    let exists = |p: &str| p == "sub/Dockerfile.dockerignore" || p == "Dockerfile.dev.dockerignore";
    assert_eq!(
        ignore_file_for("sub/Dockerfile", &exists),
        "sub/Dockerfile.dockerignore"
    );
    assert_eq!(
        ignore_file_for("Dockerfile.dev", &exists),
        "Dockerfile.dev.dockerignore"
    );
    assert_eq!(ignore_file_for("Dockerfile", &exists), ".dockerignore");
    assert_eq!(
        ignore_file_for("other/Dockerfile", &exists),
        ".dockerignore"
    );
}

#[test]
fn go_clean() {
    for (input, want) in [
        ("", "."),
        ("a/./b/", "a/b"),
        ("a//b", "a/b"),
        ("a/../..", ".."),
        ("../../a", "../../a"),
        ("/../a", "/a"),
        ("/", "/"),
        ("!./a", "!./a"),
        ("a/b/../../c", "c"),
    ] {
        assert_eq!(super::go_clean(input), want, "{input:?}");
    }
}
