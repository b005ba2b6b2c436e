//! Several users of one snapshot dir: racing unpacks and commits, and
//! prune telling live work from what dead processes left.

mod common;

use std::sync::{Arc, Barrier};

use common::{Fixture, chain};
use strata_snapshot::{SnapshotError, Snapshots};
use strata_test_support::{TarBuilder, busybox_full_rootfs};

#[test]
fn root_concurrent_unpacks_of_one_chain_agree() {
    let f = Fixture::new();
    let tar = Arc::new(busybox_full_rootfs());
    let c = chain("race");
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            // Separate handles, as separate processes would have.
            let snaps = Snapshots::open(f.snaps.dir()).unwrap();
            let (tar, c, barrier) = (tar.clone(), c.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                snaps.unpack(&c, &tar[..]).unwrap()
            })
        })
        .collect();
    let dirs: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(dirs.iter().all(|d| d == &dirs[0]));
    assert!(dirs[0].join("bin/busybox").is_file());
    assert!(dirs[0].join("usr/bin/env").symlink_metadata().is_ok());
    assert_eq!(
        std::fs::read_dir(f.snaps.dir().join("tmp"))
            .unwrap()
            .count(),
        0,
        "losers cleaned up"
    );
    assert_eq!(
        std::fs::read_dir(f.snaps.dir().join("committed"))
            .unwrap()
            .count(),
        1
    );
}

#[test]
fn root_second_commit_of_a_chain_is_discarded() {
    let f = Fixture::new();
    let a = f.snaps.prepare("a", &[]).unwrap();
    let b = f.snaps.prepare("b", &[]).unwrap();
    std::fs::write(a.upper.join("who"), b"a").unwrap();
    std::fs::write(b.upper.join("who"), b"b").unwrap();
    let c = chain("same");
    let first = f.snaps.commit(a, &c).unwrap();
    let second = f.snaps.commit(b, &c).unwrap();
    assert_eq!(first, second);
    assert_eq!(std::fs::read(first.join("who")).unwrap(), b"a");
    assert_eq!(
        std::fs::read_dir(f.snaps.dir().join("active"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn root_keys_are_checked_and_unique() {
    let f = Fixture::new();
    let a = f.snaps.prepare("k", &[]).unwrap();
    let err = f.snaps.prepare("k", &[]).unwrap_err();
    assert!(matches!(err, SnapshotError::ActiveExists { .. }), "{err}");
    assert!(matches!(
        f.snaps.prepare("../x", &[]),
        Err(SnapshotError::InvalidKey(_))
    ));
    let missing = f.tmp.path().join("no-such-layer");
    let err = f.snaps.prepare("m", &[missing]).unwrap_err();
    assert!(err.to_string().contains("no-such-layer"), "{err}");
    f.snaps.remove(a.clone()).unwrap();
    f.snaps.remove(a).unwrap();
}

#[test]
fn root_prune_keeps_what_is_wanted_and_live() {
    let f = Fixture::new();
    let dir = f.snaps.dir().to_path_buf();
    let tar = TarBuilder::new().file("f", &[1u8; 100_000]).finish();
    let (keep, drop) = (chain("keep"), chain("drop"));
    f.snaps.unpack(&keep, &tar[..]).unwrap();
    f.snaps.unpack(&drop, &tar[..]).unwrap();
    let live = f.snaps.prepare("live", &[]).unwrap();
    // What a process killed mid-unpack and mid-build leaves behind: pid 1
    // never started at that time, and a pid this large never exists.
    std::fs::create_dir_all(dir.join("tmp/1.999999999999.dead/usr")).unwrap();
    std::fs::create_dir_all(dir.join("tmp/4294967294.5.dead")).unwrap();
    std::fs::create_dir_all(dir.join("tmp/garbage")).unwrap();
    std::fs::create_dir_all(dir.join("active/stale/upper")).unwrap();
    std::fs::write(dir.join("active/stale/owner"), "4294967294 5\n").unwrap();
    std::os::unix::fs::symlink("../committed/nothing", dir.join("l/dangling")).unwrap();
    // A live partial unpack of this process.
    let mine = tempfile::Builder::new()
        .prefix(&format!("{}.", live_token()))
        .tempdir_in(dir.join("tmp"))
        .unwrap();

    let freed = f.snaps.prune(&|c| c == &keep).unwrap();
    assert!(freed >= 100_000, "{freed}");
    assert!(f.snaps.committed(&keep).is_some());
    assert!(f.snaps.committed(&drop).is_none());
    assert!(live.upper.is_dir(), "a live active snapshot stays");
    assert!(!dir.join("active/stale").exists());
    assert!(dir.join("l/dangling").symlink_metadata().is_err());
    let mut left: Vec<_> = std::fs::read_dir(dir.join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    left.sort();
    assert_eq!(left, [mine.path().to_path_buf()]);
}

/// This process's `<pid>.<start time>` prefix, read the way the crate does.
fn live_token() -> String {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 1..];
    let start = after.split_whitespace().nth(19).unwrap();
    format!("{}.{start}", std::process::id())
}
