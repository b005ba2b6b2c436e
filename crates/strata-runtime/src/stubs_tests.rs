//! Tests of mount stubs on plain directories (no root, no overlay).

use std::os::unix::fs::symlink;
use std::time::{Duration, SystemTime};

use super::*;

fn tree() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let r = tmp.path();
    std::fs::create_dir_all(r.join("etc")).unwrap();
    std::fs::create_dir_all(r.join("usr/lib")).unwrap();
    std::fs::write(r.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    symlink("usr/lib", r.join("lib")).unwrap();
    symlink(
        "/run/systemd/resolve/stub-resolv.conf",
        r.join("etc/resolv.conf"),
    )
    .unwrap();
    symlink("../../../../..", r.join("usr/lib/up")).unwrap();
    symlink("loop2", r.join("loop1")).unwrap();
    symlink("loop1", r.join("loop2")).unwrap();
    tmp
}

fn strs(v: &[OsString]) -> Vec<&str> {
    v.iter().map(|s| s.to_str().unwrap()).collect()
}

#[test]
fn resolve_follows_links_inside_the_root() {
    let tmp = tree();
    let r = tmp.path();
    // (destination, deepest existing dir relative to the root, missing names)
    let table: [(&str, &str, &[&str]); 9] = [
        ("/etc/passwd", "etc/passwd", &[]),
        ("/etc/hosts", "etc", &["hosts"]),
        ("/proc", "", &["proc"]),
        ("/run/secrets/id", "", &["run", "secrets", "id"]),
        ("/lib/x/y", "usr/lib", &["x", "y"]),
        (
            "/etc/resolv.conf",
            "",
            &["run", "systemd", "resolve", "stub-resolv.conf"],
        ),
        ("/usr/lib/up/etc/hosts", "etc", &["hosts"]),
        ("/../../etc/./hosts", "etc", &["hosts"]),
        ("/new/../etc/hosts", "etc", &["hosts"]),
    ];
    for (dest, existing, missing) in table {
        let (got_existing, got_missing) = resolve(r, Path::new(dest)).unwrap();
        assert_eq!(got_existing, r.join(existing), "{dest}");
        assert_eq!(strs(&got_missing), missing, "{dest}");
    }
    let err = resolve(r, Path::new("/loop1/x")).unwrap_err();
    assert!(err.to_string().contains("too many symbolic links"), "{err}");
    let err = resolve(r, Path::new("/etc/passwd/x")).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotADirectory, "{err}");
}

fn mtime(p: &Path) -> SystemTime {
    p.symlink_metadata().unwrap().modified().unwrap()
}

fn age(p: &Path) {
    let old = SystemTime::now() - Duration::from_secs(86_400);
    let f = std::fs::File::open(p).unwrap();
    f.set_times(
        std::fs::FileTimes::new()
            .set_modified(old)
            .set_accessed(old),
    )
    .unwrap();
}

#[test]
fn stubs_are_removed_and_parent_times_restored() {
    let tmp = tree();
    let r = tmp.path();
    age(&r.join("etc"));
    age(r);
    let etc_before = mtime(&r.join("etc"));
    let root_before = mtime(r);

    let mut stubs = Stubs::default();
    stubs.ensure(r, "/etc/hosts", StubKind::File).unwrap();
    stubs.ensure(r, "/etc/hostname", StubKind::File).unwrap();
    stubs.ensure(r, "/proc", StubKind::DIR).unwrap();
    stubs
        .ensure(r, "/run/secrets/token", StubKind::File)
        .unwrap();
    stubs
        .ensure(r, "/run/secrets/other", StubKind::File)
        .unwrap();
    stubs.ensure(r, "/etc/passwd", StubKind::File).unwrap();
    assert_eq!(stubs.len(), 7);
    assert!(r.join("etc/hosts").is_file());
    assert!(r.join("proc").is_dir());
    assert!(r.join("run/secrets/token").is_file());
    assert_eq!(
        mtime(&r.join("etc")),
        etc_before,
        "times restored right away"
    );
    assert_eq!(mtime(r), root_before);

    // The process writes next to a stub in a directory we created, and
    // nowhere else.
    std::fs::write(r.join("run/pid"), "1").unwrap();
    stubs.remove().unwrap();

    assert!(!r.join("etc/hosts").exists());
    assert!(!r.join("etc/hostname").exists());
    assert!(!r.join("proc").exists());
    assert!(!r.join("run/secrets").exists());
    assert!(r.join("run/pid").exists(), "what the process wrote stays");
    assert!(r.join("etc/passwd").exists(), "what existed stays");
    assert_eq!(mtime(&r.join("etc")), etc_before, "untouched: restored");
    assert_ne!(mtime(r), root_before, "/run is new, so / changed");
    assert_eq!(stubs.len(), 0);
}

#[test]
fn stubs_the_process_filled_stay_and_touched_parents_keep_their_time() {
    let tmp = tree();
    let r = tmp.path();
    age(&r.join("etc"));
    let etc_before = mtime(&r.join("etc"));
    let mut stubs = Stubs::default();
    stubs.ensure(r, "/etc/hosts", StubKind::File).unwrap();
    stubs.ensure(r, "/cache", StubKind::DIR).unwrap();
    // Writes below a mount point are hidden by the mount in real runs;
    // here they stand for content that must never be deleted.
    std::fs::write(r.join("etc/hosts"), "10.0.0.1 db\n").unwrap();
    std::fs::write(r.join("cache/kept"), "x").unwrap();
    std::fs::write(r.join("etc/new.conf"), "x").unwrap();
    stubs.remove().unwrap();
    assert!(r.join("etc/hosts").exists());
    assert!(r.join("cache/kept").exists());
    assert_ne!(
        mtime(&r.join("etc")),
        etc_before,
        "the process changed /etc"
    );
}

#[test]
fn stubs_follow_symlinked_destinations() {
    let tmp = tree();
    let r = tmp.path();
    let mut stubs = Stubs::default();
    stubs.ensure(r, "/etc/resolv.conf", StubKind::File).unwrap();
    assert!(r.join("run/systemd/resolve/stub-resolv.conf").is_file());
    assert!(
        r.join("etc/resolv.conf")
            .symlink_metadata()
            .unwrap()
            .is_symlink()
    );
    stubs.remove().unwrap();
    assert!(!r.join("run").exists());
    assert!(
        r.join("etc/resolv.conf").symlink_metadata().is_ok(),
        "the link stays"
    );
}

#[test]
fn a_tmpfs_stub_has_the_mode_the_tmpfs_would_have() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tree();
    let r = tmp.path();
    let mut stubs = Stubs::default();
    stubs
        .ensure(r, "/scratch/tmp", StubKind::Dir(0o1777))
        .unwrap();
    let mode = |p: &str| r.join(p).metadata().unwrap().permissions().mode() & 0o7777;
    assert_eq!((mode("scratch"), mode("scratch/tmp")), (0o755, 0o1777));
}
