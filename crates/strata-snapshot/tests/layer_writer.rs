//! The deterministic layer tar writer and `diff_upper` over plain trees
//! (no overlay involved).

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Fixture, kinds, list_tar};
use strata_snapshot::{LayerWriter, Meta, TarOptions, diff_upper};

fn set_mtime(p: &Path, secs: i64) {
    let t = rustix::fs::Timespec {
        tv_sec: secs,
        tv_nsec: 0,
    };
    let ts = rustix::fs::Timestamps {
        last_access: t,
        last_modification: t,
    };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        p,
        &ts,
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .unwrap();
}

/// The same tree, made in the order `names` gives, with mtimes `base + i`.
fn make_tree(root: &Path, names: &[&str], base: i64) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(root.join("dir/sub")).unwrap();
    for (i, n) in names.iter().enumerate() {
        let p = root.join(n);
        std::fs::write(&p, n.as_bytes()).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        set_mtime(&p, base + i as i64);
    }
    std::os::unix::fs::symlink("dir/a", root.join("link")).unwrap();
    std::fs::hard_link(root.join("dir/a"), root.join("hard")).unwrap();
    // One mtime older than the epoch is kept as is.
    set_mtime(&root.join("dir/b"), 500);
    for d in ["dir/sub", "dir", ""] {
        std::fs::set_permissions(root.join(d), std::fs::Permissions::from_mode(0o755)).unwrap();
        set_mtime(&root.join(d), base);
    }
    set_mtime(&root.join("link"), base);
}

#[test]
fn same_tree_gives_same_bytes() {
    let f = Fixture::new();
    let names = ["dir/a", "dir/b", "dir/sub/c", "z", "Z", "dir/sub/-"];
    let mut reversed = names;
    reversed.reverse();
    make_tree(&f.scratch("one"), &names, 1_600_000_000);
    make_tree(&f.scratch("two"), &reversed, 1_700_000_000);
    let opts = TarOptions { epoch: 1_000_000 };
    let mut one = Vec::new();
    let stats = diff_upper(&f.tmp.path().join("one"), &mut one, &opts).unwrap();
    let mut two = Vec::new();
    diff_upper(&f.tmp.path().join("two"), &mut two, &opts).unwrap();
    assert!(one == two, "same tree, different bytes");
    assert_eq!(stats.tar_size, one.len() as u64);
    assert_eq!((stats.files, stats.dirs, stats.hardlinks), (6, 2, 1));
    assert_eq!(
        kinds(&one),
        [
            "f Z",
            "d dir/",
            "f dir/a",
            "f dir/b",
            "d dir/sub/",
            "f dir/sub/-",
            "f dir/sub/c",
            "h hard",
            "l link",
            "f z"
        ]
    );
    let entries = list_tar(&one);
    for (path, e) in &entries {
        let want = if path == "dir/b" { 500 } else { 1_000_000 };
        assert_eq!(e.mtime, want, "{path}");
    }
    let hard = &entries.iter().find(|(p, _)| p == "hard").unwrap().1;
    assert_eq!((hard.link.as_deref(), hard.mode), (Some("dir/a"), 0o640));
    // ustar with empty user and group names and no device numbers.
    assert_eq!(&one[257..265], b"ustar\x0000");
    assert!(
        one[265..345].iter().all(|&b| b == 0),
        "uname, gname, devmajor, devminor"
    );
}

#[test]
fn pax_holds_long_names_big_ids_old_times_and_xattrs() {
    let long = format!("{}/{}/file", "a".repeat(90), "é".repeat(10));
    let target = "t".repeat(150);
    let mut xattrs = BTreeMap::new();
    // No newline in the value: the `tar` crate used to list entries here
    // splits PAX headers on newlines (our own reader does not; see unpack.rs).
    xattrs.insert("user.comment".to_owned(), b"hello\0bin".to_vec());
    let m = Meta {
        mode: 0o4711,
        uid: 3_000_000,
        gid: 7,
        mtime: -5,
        xattrs,
    };
    let mut w = LayerWriter::new(Vec::new(), TarOptions::default());
    w.file(&long, &m, 3, &mut &b"abc"[..]).unwrap();
    w.symlink("l", &target, &Meta::default()).unwrap();
    let tar = w.finish().unwrap();
    let entries = list_tar(&tar);
    let (path, e) = &entries[0];
    assert_eq!(path, &long);
    assert_eq!(
        (e.mode, e.uid, e.gid, &e.data[..]),
        (0o4711, 3_000_000, 7, &b"abc"[..])
    );
    assert_eq!(e.xattrs["user.comment"], b"hello\0bin");
    assert_eq!(entries[1].1.link.as_deref(), Some(target.as_str()));
    // GNU tar reads it too, with the negative mtime from PAX.
    let mut child = std::process::Command::new("tar")
        .args(["--numeric-owner", "--full-time", "-tvf", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&tar).unwrap();
    let out = child.wait_with_output().unwrap();
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{listing}");
    assert!(listing.contains(&long), "{listing}");
    assert!(listing.contains("3000000/7"), "{listing}");
    assert!(listing.contains("1969-12-31 23:59:55"), "{listing}");
}

#[test]
fn a_file_that_shrinks_is_an_error() {
    let mut w = LayerWriter::new(Vec::new(), TarOptions::default());
    let err = w
        .file("x", &Meta::default(), 10, &mut &b"abc"[..])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "write layer entry x: expected 10 bytes, read 3"
    );
}

#[test]
fn sockets_are_skipped_and_names_sorted_by_bytes() {
    let f = Fixture::new();
    let root = f.scratch("tree");
    for n in ["b", "B", "a.b", "a-b", "a", "_"] {
        std::fs::write(root.join(n), b"").unwrap();
    }
    let _sock = std::os::unix::net::UnixListener::bind(root.join("sock")).unwrap();
    let mut out = Vec::new();
    diff_upper(&root, &mut out, &TarOptions::default()).unwrap();
    assert_eq!(kinds(&out), ["f B", "f _", "f a", "f a-b", "f a.b", "f b"]);
}

#[test]
fn hard_links_repeat_their_target_and_must_follow_it() {
    let mut w = LayerWriter::new(Vec::new(), TarOptions { epoch: 100 });
    let err = w.hardlink("b", "a").unwrap_err();
    assert!(
        err.to_string()
            .contains("is not an earlier file of this layer"),
        "{err}"
    );
    let m = Meta {
        mode: 0o4750,
        uid: 5,
        gid: 6,
        mtime: 500,
        ..Meta::default()
    };
    w.file("a", &m, 0, &mut std::io::empty()).unwrap();
    w.hardlink("b", "a").unwrap();
    w.hardlink("c", "b").unwrap();
    let tar = w.finish().unwrap();
    let entries = list_tar(&tar);
    for (path, target) in [("b", "a"), ("c", "b")] {
        let e = &entries.iter().find(|(p, _)| p == path).unwrap().1;
        assert_eq!(
            (e.kind, e.mode, e.uid, e.gid, e.mtime),
            ('h', 0o4750, 5, 6, 100),
            "{path}"
        );
        assert_eq!(e.link.as_deref(), Some(target));
    }
}
