//! `MergedView` semantics over hand-made layers (root: whiteouts are
//! device nodes and opaque dirs carry a trusted xattr).

mod common;

use std::io::Read;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use common::{Fixture, kernel_tree, mount, view_tree};
use strata_core::{Categorized, ErrorCategory};
use strata_snapshot::{MergedView, Mount, SnapshotError};

fn file(root: &Path, p: &str, data: &str) {
    let p = root.join(p);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

fn whiteout(root: &Path, p: &str) {
    let p = root.join(p);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &p,
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::Mode::empty(),
        rustix::fs::makedev(0, 0),
    )
    .unwrap();
}

fn opaque(root: &Path, p: &str) {
    let p = root.join(p);
    std::fs::create_dir_all(&p).unwrap();
    rustix::fs::setxattr(
        &p,
        "trusted.overlay.opaque",
        b"y",
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
}

/// Three layers exercising every merge rule, base first.
fn layers(f: &Fixture) -> MergedView {
    let (l0, l1, l2) = (f.scratch("l0"), f.scratch("l1"), f.scratch("l2"));
    file(&l0, "a/x", "x0");
    file(&l0, "a/y", "y0");
    file(&l0, "c/old", "old");
    file(&l0, "d", "a file below");
    file(&l0, "e/f", "under e");
    symlink("a", l0.join("b")).unwrap();
    symlink("/a", l0.join("abs")).unwrap();
    symlink("../../../a", l0.join("esc")).unwrap();
    symlink("loop2", l0.join("loop1")).unwrap();
    symlink("loop1", l0.join("loop2")).unwrap();
    symlink("b/x", l0.join("chain")).unwrap();
    symlink("/a/../c/../a/./x", l0.join("messy")).unwrap();

    whiteout(&l1, "a/y");
    opaque(&l1, "c");
    file(&l1, "c/new", "new");
    file(&l1, "d/inner", "a dir over a file");
    file(&l1, "e", "a file over a dir");
    file(&l1, "gone", "soon deleted");

    file(&l2, "a/z", "z2");
    file(&l2, "a/x", "x2");
    whiteout(&l2, "gone");
    MergedView::new(vec![l0, l1, l2])
}

fn names(view: &MergedView, dir: &str) -> Vec<String> {
    view.read_dir(dir)
        .unwrap()
        .into_iter()
        .map(|(n, _)| n.into_string().unwrap())
        .collect()
}

fn read(view: &MergedView, p: &str) -> String {
    let mut s = String::new();
    view.open(p).unwrap().read_to_string(&mut s).unwrap();
    s
}

#[test]
fn root_lookups_follow_overlay_rules() {
    let f = Fixture::new();
    let v = layers(&f);
    assert_eq!(
        names(&v, "/"),
        [
            "a", "abs", "b", "c", "chain", "d", "e", "esc", "loop1", "loop2", "messy"
        ]
    );
    assert_eq!(names(&v, "/a"), ["x", "z"], "whiteout hides a/y");
    assert_eq!(
        v.stat("a/x").unwrap().unwrap().layer,
        2,
        "topmost copy wins"
    );
    assert_eq!(read(&v, "/a/x"), "x2");
    assert!(v.stat("a/y").unwrap().is_none());
    assert_eq!(names(&v, "c"), ["new"], "opaque dir hides c/old");
    assert!(v.stat("/c/old").unwrap().is_none());
    assert!(v.stat("d").unwrap().unwrap().is_dir(), "dir over a file");
    assert_eq!(names(&v, "d"), ["inner"]);
    assert!(!v.stat("e").unwrap().unwrap().is_dir(), "file over a dir");
    assert!(v.stat("e/f").unwrap().is_none());
    assert!(v.stat("gone").unwrap().is_none());
    // Paths are cleaned as inside a chroot.
    assert_eq!(read(&v, "/../../a/./z"), "z2");
    assert!(v.stat("missing/deeper").unwrap().is_none());
}

#[test]
fn root_stat_does_not_follow_and_resolve_stays_inside() {
    let f = Fixture::new();
    let v = layers(&f);
    assert!(
        v.stat("b").unwrap().unwrap().is_symlink(),
        "lstat semantics"
    );
    assert!(
        v.stat("b/x").unwrap().is_none(),
        "stat does not go through symlinks"
    );
    let table = [
        ("b/x", "/a/x"),
        ("/b/z", "/a/z"),
        ("abs/z", "/a/z"),
        ("esc/x", "/a/x"),
        ("chain", "/a/x"),
        ("messy", "/a/x"),
        ("b/../c", "/c"),
        ("missing/b", "/missing/b"),
        ("/", "/"),
    ];
    for (input, want) in table {
        assert_eq!(v.resolve(input).unwrap(), PathBuf::from(want), "{input}");
    }
    let err = v.resolve("loop1/x").unwrap_err();
    assert!(matches!(err, SnapshotError::SymlinkLoop(_)), "{err}");
    assert_eq!(read(&v, "chain"), "x2", "open follows symlinks in scope");
    assert_eq!(read(&v, "esc/z"), "z2");
}

#[test]
fn root_errors_name_the_path() {
    let f = Fixture::new();
    let v = layers(&f);
    let err = v.open("a/y").unwrap_err();
    assert_eq!(err.category(), ErrorCategory::NotFound);
    assert!(err.to_string().contains("/a/y"), "{err}");
    let err = v.open("/a").unwrap_err();
    assert!(err.to_string().contains("/a"), "{err}");
    let err = v.read_dir("/a/x").unwrap_err();
    assert!(err.to_string().contains("Not a directory"), "{err}");
    assert!(matches!(
        v.read_dir("/nope"),
        Err(SnapshotError::NotFound { .. })
    ));
    let empty = MergedView::new(Vec::new());
    assert!(empty.stat("/").unwrap().is_none());
}

#[test]
fn root_view_matches_the_kernel() {
    let f = Fixture::new();
    let v = layers(&f);
    // A read-only overlay of the same layers (no upper dir).
    let top_first: Vec<String> = v
        .layers()
        .iter()
        .rev()
        .map(|p| p.display().to_string())
        .collect();
    let m = Mount {
        kind: "overlay".into(),
        source: "overlay".into(),
        options: vec![format!("lowerdir={}", top_first.join(":"))],
        cwd: None,
    };
    let merged = f.scratch("merged");
    let _guard = mount(&m, &merged);
    assert_eq!(view_tree(&v), kernel_tree(&merged));
}
