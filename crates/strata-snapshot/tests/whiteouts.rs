//! OCI whiteouts to overlay form on unpack, and back on diff.

mod common;

use common::{Fixture, chain, is_whiteout, kinds, xattr};
use strata_snapshot::{LayerWriter, TarOptions, diff_upper};
use strata_test_support::TarBuilder;

fn diff(dir: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    diff_upper(dir, &mut out, &TarOptions::default()).unwrap();
    out
}

#[test]
fn root_whiteouts_round_trip_through_overlay_form() {
    let f = Fixture::new();
    // OCI form, in an order a careless writer might use (marker last).
    let oci = TarBuilder::new()
        .dir("etc/")
        .file("etc/.wh.passwd", b"")
        .dir("opt/")
        .file("opt/new", b"n")
        .file("opt/.wh..wh..opq", b"")
        .file(".wh.tmp", b"")
        .dir("var/")
        .dir("var/lib/")
        .file("var/lib/.wh..wh..opq", b"")
        .finish();
    let dir = f.snaps.unpack(&chain("oci"), &oci[..]).unwrap();

    // Overlay form on disk.
    assert!(is_whiteout(&dir.join("etc/passwd")));
    assert!(is_whiteout(&dir.join("tmp")));
    assert!(!dir.join("etc/.wh.passwd").exists());
    assert_eq!(
        xattr(&dir.join("opt"), "trusted.overlay.opaque").as_deref(),
        Some(&b"y"[..])
    );
    assert_eq!(
        xattr(&dir.join("var/lib"), "trusted.overlay.opaque").as_deref(),
        Some(&b"y"[..])
    );
    assert_eq!(xattr(&dir.join("var"), "trusted.overlay.opaque"), None);
    assert!(!dir.join("opt/.wh..wh..opq").exists());

    // Back to OCI form: same entries, sorted, markers right after their dir.
    let back = diff(&dir);
    assert_eq!(
        kinds(&back),
        [
            "d etc/",
            "f etc/.wh.passwd",
            "d opt/",
            "f opt/.wh..wh..opq",
            "f opt/new",
            "f .wh.tmp",
            "d var/",
            "d var/lib/",
            "f var/lib/.wh..wh..opq",
        ]
    );

    // A fixpoint: unpacking our own diff and diffing again gives the same bytes.
    let again = f.snaps.unpack(&chain("again"), &back[..]).unwrap();
    assert_eq!(diff(&again), back);
}

#[test]
fn root_whiteout_replaces_an_entry_of_the_same_layer() {
    let f = Fixture::new();
    let tar = TarBuilder::new()
        .dir("d/")
        .file("d/x", b"short-lived")
        .file("d/.wh.x", b"")
        .dir("gone/")
        .file("gone/inner", b"")
        .file(".wh.gone", b"")
        .finish();
    let dir = f.snaps.unpack(&chain("same-layer"), &tar[..]).unwrap();
    assert!(is_whiteout(&dir.join("d/x")));
    assert!(is_whiteout(&dir.join("gone")));
}

#[test]
fn writer_names_whiteouts_and_opaque_markers() {
    let mut w = LayerWriter::new(Vec::new(), TarOptions::default());
    w.whiteout("top").unwrap();
    w.whiteout("a/b/c").unwrap();
    w.opaque("a/b/").unwrap();
    w.opaque("a").unwrap();
    let tar = w.finish().unwrap();
    assert_eq!(
        kinds(&tar),
        [
            "f .wh.top",
            "f a/b/.wh.c",
            "f a/b/.wh..wh..opq",
            "f a/.wh..wh..opq"
        ]
    );
    for (_, e) in common::list_tar(&tar) {
        assert_eq!(
            (e.mode, e.uid, e.gid, e.mtime, e.data.len()),
            (0, 0, 0, 0, 0)
        );
    }
}
