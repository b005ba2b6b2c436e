//! Real overlayfs mounts of snapshots (needs root and overlayfs): what a
//! container sees, what a RUN step's upper dir diffs to, and the merged
//! view compared with the kernel's.

mod common;

use std::path::{Path, PathBuf};

use common::{Fixture, chain, kernel_tree, kinds, list_tar, mount, view_tree};
use strata_snapshot::{MergedView, TarOptions, diff_upper};
use strata_test_support::{TarBuilder, busybox_full_rootfs, busybox_rootfs};

/// Runs a shell command chrooted into `root`, as a RUN step would.
fn run(root: &Path, script: &str) {
    let out = std::process::Command::new("chroot")
        .arg(root)
        .args(["/bin/sh", "-c", script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn root_container_sees_layers_merged() {
    let f = Fixture::new();
    let base = f
        .snaps
        .unpack(
            &chain("base"),
            &busybox_rootfs(&[("etc/hello", b"hi\n"), ("etc/motd", b"m")])[..],
        )
        .unwrap();
    let top_tar = TarBuilder::new()
        .dir("bin/")
        .file("bin/.wh.false", b"")
        .dir("etc/")
        .file("etc/.wh..wh..opq", b"")
        .file("etc/only", b"new etc\n")
        .file("app", b"app\n")
        .finish();
    let top = f
        .snaps
        .unpack_over(&chain("top"), std::slice::from_ref(&base), &top_tar[..])
        .unwrap();
    let active = f.snaps.prepare("c1", &[base.clone(), top.clone()]).unwrap();
    assert_eq!(active.mount.kind, "overlay");
    assert_eq!(active.mount.cwd, None);
    assert!(active.mount.options[0].starts_with(&format!(
        "lowerdir={}:{}",
        top.display(),
        base.display()
    )));
    let merged = f.scratch("merged");
    {
        let _guard = mount(&active.mount, &merged);
        assert_eq!(std::fs::read(merged.join("app")).unwrap(), b"app\n");
        assert_eq!(
            std::fs::read(merged.join("etc/only")).unwrap(),
            b"new etc\n"
        );
        assert!(
            !merged.join("etc/hello").exists(),
            "opaque etc/ hides the base's files"
        );
        assert!(!merged.join("bin/false").exists(), "whited out");
        assert!(merged.join("bin/true").symlink_metadata().is_ok());
        // The kernel and MergedView agree on the whole tree.
        let view = MergedView::new(vec![base.clone(), top.clone()]);
        assert_eq!(view_tree(&view), kernel_tree(&merged));
        run(&merged, "echo ran > /ran.txt");
    }
    assert_eq!(
        std::fs::read(active.upper.join("ran.txt")).unwrap(),
        b"ran\n"
    );
    f.snaps.remove(active).unwrap();
    assert_eq!(
        std::fs::read_dir(f.snaps.dir().join("active"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn root_run_step_diff_commit_and_reuse() {
    let f = Fixture::new();
    let base = f
        .snaps
        .unpack(&chain("full"), &busybox_full_rootfs()[..])
        .unwrap();
    let active = f
        .snaps
        .prepare("run-1", std::slice::from_ref(&base))
        .unwrap();
    let merged = f.scratch("merged");
    {
        let _guard = mount(&active.mount, &merged);
        run(
            &merged,
            "echo new > /new.txt && ln /new.txt /new-link && echo more >> /etc/passwd && rm /etc/group \
             && rm -rf /usr/sbin && mkdir /usr/sbin && echo c > /usr/sbin/c",
        );
    }
    let mut tar = Vec::new();
    let stats = diff_upper(&active.upper, &mut tar, &TarOptions { epoch: 0 }).unwrap();
    assert_eq!(
        kinds(&tar),
        [
            "d etc/",
            "f etc/.wh.group",
            "f etc/passwd",
            "f new-link",
            "h new.txt",
            "d usr/",
            "d usr/sbin/",
            "f usr/sbin/.wh..wh..opq",
            "f usr/sbin/c",
        ]
    );
    assert_eq!(
        (stats.whiteouts, stats.opaque_dirs, stats.hardlinks),
        (1, 1, 1)
    );
    for (path, e) in list_tar(&tar) {
        assert!(
            e.xattrs.keys().all(|k| !k.starts_with("trusted.overlay.")),
            "{path}: {:?}",
            e.xattrs
        );
        assert_eq!(e.mtime, 0, "{path}: clamped to the epoch");
    }
    let passwd = &list_tar(&tar)
        .into_iter()
        .find(|(p, _)| p == "etc/passwd")
        .unwrap()
        .1;
    assert!(passwd.data.ends_with(b"more\n") && passwd.data.starts_with(b"root:"));

    // Commit the upper dir, and independently unpack the diff: a container
    // over either sees the same tree.
    let l2 = f.snaps.commit(active, &chain("l2")).unwrap();
    assert_eq!(
        std::fs::read_dir(f.snaps.dir().join("active"))
            .unwrap()
            .count(),
        0
    );
    let l2b = f
        .snaps
        .unpack_over(&chain("l2b"), std::slice::from_ref(&base), &tar[..])
        .unwrap();
    let committed = view_tree(&MergedView::new(vec![base.clone(), l2.clone()]));
    assert_eq!(
        committed,
        view_tree(&MergedView::new(vec![base.clone(), l2b]))
    );
    assert!(!committed.contains_key("etc/group") && !committed.contains_key("usr/sbin/adduser"));
    assert_eq!(committed["usr/sbin/c"].5.as_deref(), Some(&b"c\n"[..]));

    let next = f.snaps.prepare("run-2", &[base, l2]).unwrap();
    let merged2 = f.scratch("merged2");
    let _guard = mount(&next.mount, &merged2);
    assert_eq!(kernel_tree(&merged2), committed);
    run(
        &merged2,
        "test ! -e /etc/group && test -f /usr/sbin/c && grep -q more /etc/passwd",
    );
}

#[test]
fn root_deep_stacks_use_short_relative_paths() {
    let f = Fixture::new();
    let lowers: Vec<PathBuf> = (0..128)
        .map(|i| {
            let tar = TarBuilder::new()
                .file(&format!("layer-{i:03}"), format!("{i}").as_bytes())
                .finish();
            f.snaps
                .unpack(&chain(&format!("deep-{i}")), &tar[..])
                .unwrap()
        })
        .collect();
    let active = f.snaps.prepare("deep", &lowers).unwrap();
    assert_eq!(active.mount.cwd.as_deref(), Some(f.snaps.dir()));
    assert!(
        active.mount.data().len() <= 4095,
        "{}",
        active.mount.data().len()
    );
    assert!(active.mount.options[0].starts_with("lowerdir=l/"));
    let merged = f.scratch("merged");
    {
        let _guard = mount(&active.mount, &merged);
        for i in [0, 64, 127] {
            assert_eq!(
                std::fs::read_to_string(merged.join(format!("layer-{i:03}"))).unwrap(),
                i.to_string()
            );
        }
        assert_eq!(std::fs::read_dir(&merged).unwrap().count(), 128);
    }
    f.snaps.remove(active).unwrap();
    assert_eq!(
        std::fs::read_dir(f.snaps.dir().join("l")).unwrap().count(),
        128
    );
    // Pruning the layers leaves no dangling short link behind.
    assert!(f.snaps.prune(&|_| false).unwrap() > 0);
    assert_eq!(
        std::fs::read_dir(f.snaps.dir().join("l")).unwrap().count(),
        0
    );
    assert_eq!(
        std::fs::read_dir(f.snaps.dir().join("committed"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn root_scratch_snapshot_is_a_bind_mount() {
    let f = Fixture::new();
    let active = f.snaps.prepare("scratch", &[]).unwrap();
    assert_eq!(active.mount.kind, "bind");
    let target = f.scratch("rootfs");
    {
        let _guard = mount(&active.mount, &target);
        std::fs::write(target.join("hello"), b"from scratch").unwrap();
    }
    let mut tar = Vec::new();
    diff_upper(&active.upper, &mut tar, &TarOptions::default()).unwrap();
    assert_eq!(kinds(&tar), ["f hello"]);
    let c = f.snaps.commit(active, &chain("scratch")).unwrap();
    assert_eq!(std::fs::read(c.join("hello")).unwrap(), b"from scratch");
}

/// A container's writable layer outlives the process that made it: prune
/// keeps it, and reopen gives back its mount.
#[test]
fn persistent_active_snapshots_survive_prune_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let snaps = strata_snapshot::Snapshots::open(dir.path()).unwrap();
    let active = snaps.prepare_persistent("ctr-1", &[]).unwrap();
    std::fs::write(active.upper.join("kept"), b"x").unwrap();
    snaps.prune(&|_| false).unwrap();
    let again = snaps.reopen("ctr-1", &[]).unwrap();
    assert_eq!(std::fs::read(again.upper.join("kept")).unwrap(), b"x");
    assert_eq!(again.mount, active.mount);
    snaps.remove(again).unwrap();
    assert!(snaps.reopen("ctr-1", &[]).is_err());
}
