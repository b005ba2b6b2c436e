//! Hostile layer tars: every escape is refused, nothing outside the
//! snapshot is touched, and no partial snapshot is left behind.

mod common;

use common::{Fixture, chain};
use strata_test_support::TarBuilder;

/// Unpacks `tar`; expects an error containing `want` (or success for
/// `None`), and checks the outside sentinel and `tmp/` afterwards.
#[track_caller]
fn check(name: &str, build: impl FnOnce(&mut TarBuilder, &str), want: Option<&str>) {
    let f = Fixture::new();
    let outside = f.scratch("outside");
    std::fs::write(outside.join("sentinel"), b"safe").unwrap();
    let mut t = TarBuilder::new();
    build(&mut t, outside.to_str().unwrap());
    let tar = t.finish();
    let c = chain(name);
    let got = f.snaps.unpack(&c, &tar[..]);
    match (want, got) {
        (None, Ok(_)) => {}
        (None, Err(e)) => panic!("{name}: unexpected error {e}"),
        (Some(w), Ok(_)) => panic!("{name}: expected an error containing {w:?}"),
        (Some(w), Err(e)) => {
            assert!(e.to_string().contains(w), "{name}: {e}");
            assert_eq!(f.snaps.committed(&c), None, "{name}");
        }
    }
    let names: Vec<_> = std::fs::read_dir(&outside)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["sentinel"], "{name}: something was written outside");
    assert_eq!(
        std::fs::read(outside.join("sentinel")).unwrap(),
        b"safe",
        "{name}"
    );
    let left = std::fs::read_dir(f.snaps.dir().join("tmp"))
        .unwrap()
        .count();
    assert_eq!(left, 0, "{name}: partial unpack left in tmp/");
}

#[test]
fn root_dotdot_names_are_refused() {
    check(
        "dotdot",
        |t, _| {
            t.file("../evil", b"x");
        },
        Some("path leaves the root"),
    );
    check(
        "deep dotdot",
        |t, _| {
            t.dir("a/").file("a/../../evil", b"x");
        },
        Some("path leaves the root"),
    );
    check(
        "inner dotdot",
        |t, _| {
            t.dir("a/").file("a/../b", b"fine");
        },
        None,
    );
}

#[test]
fn root_absolute_names_land_inside() {
    let f = Fixture::new();
    let tar = TarBuilder::new().file("/etc/motd", b"inside").finish();
    let dir = f.snaps.unpack(&chain("abs"), &tar[..]).unwrap();
    assert_eq!(std::fs::read(dir.join("etc/motd")).unwrap(), b"inside");
}

#[test]
fn root_escaping_links_are_refused() {
    check(
        "symlink up",
        |t, _| {
            t.dir("a/").symlink("a/b", "../../etc");
        },
        Some("symlink target leaves the root"),
    );
    check(
        "symlink at top",
        |t, _| {
            t.symlink("b", "../x");
        },
        Some("symlink target leaves the root"),
    );
    check(
        "hardlink up",
        |t, _| {
            t.hardlink("h", "../x");
        },
        Some("hard link target leaves the root"),
    );
    check(
        "absolute symlink",
        |t, o| {
            t.symlink("ok", o);
        },
        None,
    );
    check(
        "relative symlink",
        |t, _| {
            t.dir("a/").symlink("a/b", "../c");
        },
        None,
    );
}

#[test]
fn root_entries_are_never_written_through_symlinks() {
    // An absolute symlink is legal, but creating entries through it would
    // write outside the root on a naive unpacker.
    check(
        "through absolute link",
        |t, o| {
            t.symlink("lnk", o).file("lnk/pwned", b"x");
        },
        Some("is a symlink; later entries are never created through one"),
    );
    check(
        "through relative link",
        |t, _| {
            t.dir("real/").symlink("lnk", "real").file("lnk/x", b"x");
        },
        Some("is a symlink"),
    );
    check(
        "hard link through link",
        |t, o| {
            t.symlink("lnk", o).hardlink("h", "lnk/sentinel");
        },
        Some("is a symlink"),
    );
    check(
        "whiteout through link",
        |t, o| {
            t.symlink("lnk", o).file("lnk/.wh.sentinel", b"");
        },
        Some("is a symlink"),
    );
    check(
        "opaque through link",
        |t, o| {
            t.symlink("lnk", o).file("lnk/.wh..wh..opq", b"");
        },
        Some("is a symlink"),
    );
}

#[test]
fn root_bad_whiteouts_and_parents_are_refused() {
    check(
        "whiteout dotdot",
        |t, _| {
            t.file(".wh...", b"");
        },
        Some("whiteout of an invalid name"),
    );
    check(
        "whiteout empty",
        |t, _| {
            t.dir("a/").file("a/.wh.", b"");
        },
        Some("whiteout of an invalid name"),
    );
    check(
        "file as parent",
        |t, _| {
            t.file("f", b"x").file("f/g", b"y");
        },
        Some("is not a directory"),
    );
    check(
        "hard link to dir",
        |t, _| {
            t.dir("d/").hardlink("h", "d");
        },
        Some("hard link to a directory"),
    );
    check(
        "aufs metadata skipped",
        |t, _| {
            t.dir(".wh..wh.plnk/").file(".wh..wh.aufs", b"");
        },
        None,
    );
}

#[test]
fn root_truncated_tar_is_an_error() {
    let f = Fixture::new();
    let tar = TarBuilder::new().file("big", &[7u8; 4096]).finish();
    let err = f.snaps.unpack(&chain("cut"), &tar[..1024]).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("big") || msg.contains("invalid layer tar"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read_dir(f.snaps.dir().join("tmp"))
            .unwrap()
            .count(),
        0
    );
}
