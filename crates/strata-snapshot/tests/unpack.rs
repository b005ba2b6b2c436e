//! Unpacking layer tars into committed snapshots (needs root: chown, mknod,
//! trusted and security xattrs).

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use common::{Fixture, chain, mtime, xattr};
use strata_snapshot::{DeviceKind, LayerWriter, Meta, TarOptions};
use strata_test_support::{TarBuilder, busybox_rootfs};

fn meta(mode: u32, uid: u32, gid: u32, mtime: i64) -> Meta {
    Meta {
        mode,
        uid,
        gid,
        mtime,
        xattrs: BTreeMap::new(),
    }
}

/// A reader that fails the test if anything reads it.
struct MustNotRead;

impl Read for MustNotRead {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        panic!("an existing snapshot must not read its layer again");
    }
}

#[test]
fn root_unpack_busybox_rootfs_is_idempotent() {
    let f = Fixture::new();
    let c = chain("busybox");
    assert_eq!(f.snaps.committed(&c), None);
    let tar = busybox_rootfs(&[("etc/hello", b"hi\n")]);
    let dir = f.snaps.unpack(&c, &tar[..]).unwrap();
    assert_eq!(f.snaps.committed(&c), Some(dir.clone()));
    let bb = std::fs::symlink_metadata(dir.join("bin/busybox")).unwrap();
    assert_eq!(bb.mode() & 0o7777, 0o755);
    assert_eq!(
        bb.len(),
        std::fs::metadata("/usr/bin/busybox").unwrap().len()
    );
    assert_eq!(
        std::fs::read_link(dir.join("bin/sh")).unwrap(),
        Path::new("busybox")
    );
    assert_eq!(std::fs::read(dir.join("etc/hello")).unwrap(), b"hi\n");
    // Implicit parent `etc/` is 0755, and so is the snapshot root.
    assert_eq!(
        std::fs::metadata(dir.join("etc")).unwrap().mode() & 0o7777,
        0o755
    );
    assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o7777, 0o755);
    assert_eq!(f.snaps.unpack(&c, MustNotRead).unwrap(), dir);
    // Nothing is left behind in tmp/.
    assert_eq!(
        std::fs::read_dir(f.snaps.dir().join("tmp"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn root_unpack_keeps_owner_mode_times_xattrs_and_devices() {
    // security.capability v2: DAC_OVERRIDE, FOWNER and NET_BIND_SERVICE
    // permitted and effective. Its second word starts with byte 0x0a, a
    // newline, which a PAX reader must not split on.
    let mut cap = Vec::new();
    for word in [0x0200_0001u32, (1 << 1) | (1 << 3) | (1 << 10), 0, 0, 0] {
        cap.extend_from_slice(&word.to_le_bytes());
    }
    let mut suid = meta(0o4755, 1000, 2000, 2000);
    // A value that would smuggle a `path` record into a newline-splitting
    // reader; walked by length it is just bytes.
    suid.xattrs.insert(
        "user.note".into(),
        b"x\n29 path=../../../../etc/evil\n".to_vec(),
    );
    suid.xattrs
        .insert("security.capability".into(), cap.clone());
    let mut w = LayerWriter::new(Vec::new(), TarOptions::default());
    w.dir("d", &meta(0o1777, 0, 0, 1000)).unwrap();
    w.dir("d/sub", &meta(0o2750, 7, 8, 1100)).unwrap();
    w.device("d/blk", DeviceKind::Block, 7, 0, &meta(0o660, 0, 6, 1200))
        .unwrap();
    w.fifo("d/fifo", &meta(0o640, 3, 4, 1300)).unwrap();
    w.symlink("d/link", "suid", &meta(0o777, 5, 6, 1400))
        .unwrap();
    w.device("d/null", DeviceKind::Char, 1, 3, &meta(0o666, 0, 0, 1500))
        .unwrap();
    w.file("d/suid", &suid, 5, &mut &b"hello"[..]).unwrap();
    w.file(
        "d/sub/f",
        &meta(0o600, 7, 8, 1600),
        0,
        &mut std::io::empty(),
    )
    .unwrap();
    let tar = w.finish().unwrap();

    let f = Fixture::new();
    let dir = f.snaps.unpack(&chain("meta"), &tar[..]).unwrap();
    let st = |p: &str| std::fs::symlink_metadata(dir.join(p)).unwrap();
    assert_eq!(
        (st("d").mode() & 0o7777, mtime(&dir.join("d"))),
        (0o1777, 1000)
    );
    assert_eq!(
        (
            st("d/sub").mode() & 0o7777,
            st("d/sub").uid(),
            st("d/sub").gid()
        ),
        (0o2750, 7, 8)
    );
    assert_eq!(
        mtime(&dir.join("d/sub")),
        1100,
        "dir mtime is set after its children"
    );
    let s = st("d/suid");
    assert_eq!(
        (s.mode() & 0o7777, s.uid(), s.gid(), s.mtime()),
        (0o4755, 1000, 2000, 2000)
    );
    let note = xattr(&dir.join("d/suid"), "user.note").unwrap();
    assert_eq!(note, b"x\n29 path=../../../../etc/evil\n");
    assert_eq!(xattr(&dir.join("d/suid"), "security.capability"), Some(cap));
    let l = st("d/link");
    assert!(l.file_type().is_symlink());
    assert_eq!((l.uid(), l.gid(), l.mtime()), (5, 6, 1400));
    let n = st("d/null");
    assert!(n.file_type().is_char_device());
    assert_eq!(
        (n.rdev(), n.mode() & 0o7777),
        (rustix::fs::makedev(1, 3), 0o666)
    );
    assert!(st("d/blk").file_type().is_block_device());
    assert_eq!(st("d/blk").rdev(), rustix::fs::makedev(7, 0));
    let p = st("d/fifo");
    assert!(p.file_type().is_fifo());
    assert_eq!(
        (p.mode() & 0o7777, p.uid(), p.gid(), p.mtime()),
        (0o640, 3, 4, 1300)
    );
}

#[test]
fn root_unpack_long_names_from_gnu_tar() {
    let f = Fixture::new();
    let src = f.scratch("src");
    let long_dir = format!("{}/{}", "a".repeat(80), "b".repeat(80));
    std::fs::create_dir_all(src.join(&long_dir)).unwrap();
    std::fs::write(src.join(&long_dir).join("file.txt"), b"deep").unwrap();
    let long_target = format!("{long_dir}/file.txt");
    std::os::unix::fs::symlink(&long_target, src.join("link")).unwrap();
    // An independent writer: GNU tar in POSIX (PAX) format.
    let out = std::process::Command::new("tar")
        .args(["--format=posix", "-cf", "-", "-C"])
        .arg(&src)
        .arg(".")
        .output()
        .unwrap();
    assert!(out.status.success());
    let dir = f.snaps.unpack(&chain("long"), &out.stdout[..]).unwrap();
    assert_eq!(std::fs::read(dir.join(&long_target)).unwrap(), b"deep");
    assert_eq!(
        std::fs::read_link(dir.join("link")).unwrap(),
        Path::new(&long_target)
    );
}

#[test]
fn root_unpack_hard_links_in_the_layer_and_below() {
    let f = Fixture::new();
    let mut t = TarBuilder::new();
    t.dir("usr/")
        .dir("usr/lib/")
        .file("usr/lib/x", b"shared")
        .hardlink("usr/lib/y", "usr/lib/x");
    let base = f.snaps.unpack(&chain("base"), &t.finish()[..]).unwrap();
    let ino = |p: &Path| std::fs::symlink_metadata(p).unwrap().ino();
    assert_eq!(ino(&base.join("usr/lib/x")), ino(&base.join("usr/lib/y")));
    std::fs::set_permissions(
        base.join("usr/lib"),
        std::os::unix::fs::PermissionsExt::from_mode(0o750),
    )
    .unwrap();

    // The next layer links to a file it does not contain.
    let top_tar = TarBuilder::new()
        .hardlink("usr/lib/z", "usr/lib/x")
        .finish();
    let err = f.snaps.unpack(&chain("alone"), &top_tar[..]).unwrap_err();
    assert!(
        err.to_string()
            .contains("/usr/lib/x is not in this layer or below"),
        "{err}"
    );
    let top = f
        .snaps
        .unpack_over(&chain("top"), std::slice::from_ref(&base), &top_tar[..])
        .unwrap();
    assert_eq!(std::fs::read(top.join("usr/lib/z")).unwrap(), b"shared");
    assert_eq!(ino(&top.join("usr/lib/x")), ino(&top.join("usr/lib/z")));
    assert_ne!(ino(&top.join("usr/lib/x")), ino(&base.join("usr/lib/x")));
    // The copied-up parent keeps the lower directory's mode.
    assert_eq!(
        std::fs::metadata(top.join("usr/lib")).unwrap().mode() & 0o7777,
        0o750
    );
}

#[test]
fn root_unpack_later_entries_replace_earlier_ones() {
    let f = Fixture::new();
    let victim = f.scratch("outside").join("victim");
    std::fs::write(&victim, b"untouched").unwrap();
    let tar = TarBuilder::new()
        .symlink("x", victim.to_str().unwrap())
        .file("x", b"replaced the link")
        .dir("d/")
        .file("d/inner", b"gone")
        .file("d", b"a file now")
        .file("e", b"a file first")
        .dir("e/")
        .file("e/inner", b"in a dir")
        .finish();
    let dir = f.snaps.unpack(&chain("replace"), &tar[..]).unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"untouched");
    assert_eq!(std::fs::read(dir.join("x")).unwrap(), b"replaced the link");
    assert_eq!(std::fs::read(dir.join("d")).unwrap(), b"a file now");
    assert_eq!(std::fs::read(dir.join("e/inner")).unwrap(), b"in a dir");
}
