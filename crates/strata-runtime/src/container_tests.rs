//! Tests of preparing and cleaning up a container without root: a fake
//! [`Mounter`] records calls and mounts nothing, so the rootfs mount
//! points are plain directories where stubs can be watched.

use std::cell::RefCell;
use std::io;

use super::*;
use crate::request::{Mount, Network, Process};

/// Records `mount TARGET` / `umount TARGET` lines; fails on request.
#[derive(Default)]
struct FakeMounter {
    calls: RefCell<Vec<String>>,
    fail_mount: Option<&'static str>,
    busy: bool,
}

impl Mounter for FakeMounter {
    fn mount(&self, mount: &Mount, target: &Path) -> io::Result<()> {
        self.calls
            .borrow_mut()
            .push(format!("mount {} {}", mount.kind, target.display()));
        if self.fail_mount == Some(mount.destination.as_str()) {
            return Err(io::Error::from_raw_os_error(19)); // ENODEV
        }
        Ok(())
    }

    fn unmount(&self, target: &Path, detach: bool) -> io::Result<()> {
        let verb = if detach { "detach" } else { "umount" };
        self.calls
            .borrow_mut()
            .push(format!("{verb} {}", target.display()));
        if self.busy && !detach {
            return Err(io::Error::from_raw_os_error(16)); // EBUSY
        }
        Ok(())
    }
}

struct Fixture {
    tmp: tempfile::TempDir,
    state: PathBuf,
    resolv: PathBuf,
    secret: PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("runtime-v1");
    let resolv = tmp.path().join("resolv.conf");
    std::fs::write(&resolv, "nameserver 192.0.2.1\n").unwrap();
    let secret = tmp.path().join("secret");
    std::fs::write(&secret, "s3cret").unwrap();
    Fixture {
        tmp,
        state,
        resolv,
        secret,
    }
}

fn request<'a>(f: &'a Fixture, rootfs: &'a [Mount], mounts: &'a [Mount]) -> RunRequest<'a> {
    RunRequest {
        id: "c1",
        state_dir: &f.state,
        rootfs,
        mounts,
        process: Process {
            args: vec!["true".into()],
            env: vec![],
            cwd: "/".into(),
            uid: 0,
            gid: 0,
            additional_gids: vec![],
        },
        network: Network::Host,
        hostname: "box",
        readonly_rootfs: false,
        runtime: "sh",
    }
}

fn runc(f: &Fixture) -> Runc {
    Runc::find("sh", Bundle::runc_root(&f.state)).unwrap()
}

fn rootfs() -> Vec<Mount> {
    vec![
        Mount::bind("/lower", "/", false),
        Mount::bind("/more", "/opt/more", true),
    ]
}

fn list(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn prepare_writes_the_bundle_and_cleanup_removes_everything() {
    let f = fixture();
    let mounts = [
        Mount::bind(f.secret.display().to_string(), "/run/secrets/token", true),
        Mount::bind(f.tmp.path().display().to_string(), "/root/.cache", false),
        Mount::tmpfs("/dev/shm", &[]),
    ];
    let rootfs = rootfs();
    let req = request(&f, &rootfs, &mounts);
    let mounter = FakeMounter::default();
    let mut p = Prepared::new(&req, &Profile::default(), runc(&f), &mounter, &f.resolv).unwrap();
    let b = p.bundle().clone();
    let root = b.rootfs();
    assert_eq!(
        list(b.dir()),
        ["config.json", "hostname", "hosts", "resolv.conf", "rootfs"]
    );
    assert_eq!(
        std::fs::read_to_string(b.resolv_conf()).unwrap(),
        "nameserver 192.0.2.1\n"
    );
    // Mount points: the nested rootfs mount's, then every top-level
    // destination; /dev/* and /sys/fs/cgroup live in their parents' mounts.
    assert_eq!(
        list(&root),
        ["dev", "etc", "opt", "proc", "root", "run", "sys"]
    );
    assert_eq!(
        list(&root.join("etc")),
        ["hostname", "hosts", "resolv.conf"]
    );
    assert!(
        root.join("etc/hosts").is_file(),
        "a bind of a file gets a file"
    );
    assert!(root.join("run/secrets/token").is_file());
    assert!(root.join("root/.cache").is_dir());
    assert!(root.join("opt/more").is_dir());
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(b.config()).unwrap()).unwrap();
    assert_eq!(config["hostname"], "box");

    // The process leaves something in a directory we created.
    std::fs::write(root.join("root/.profile"), "x").unwrap();
    let err = p.cleanup().unwrap_err().to_string();
    assert!(err.contains("rootfs"), "{err}");
    let calls = mounter.calls.borrow().clone();
    let r = root.display();
    assert_eq!(
        calls,
        [
            format!("mount bind {r}"),
            format!("mount bind {r}/opt/more"),
            format!("umount {r}/opt/more"),
            format!("umount {r}"),
        ]
    );
    // With a fake mounter the "rootfs" is the bundle's own directory, so
    // the process's file keeps it (and the bundle) alive: nothing is
    // deleted through what might be a mount.
    assert_eq!(list(&root), ["root"]);
    assert_eq!(list(&root.join("root")), [".profile"]);
    assert_eq!(list(b.dir()), ["rootfs"]);
}

#[test]
fn a_clean_run_leaves_no_bundle() {
    let f = fixture();
    let rootfs = rootfs();
    let req = request(&f, &rootfs, &[]);
    let mounter = FakeMounter::default();
    let mut p = Prepared::new(&req, &Profile::default(), runc(&f), &mounter, &f.resolv).unwrap();
    p.cleanup().unwrap();
    assert!(!p.bundle().exists());
    assert_eq!(list(&f.state.join("bundles")), Vec::<String>::new());
    p.cleanup().unwrap(); // idempotent
}

#[test]
fn a_failed_mount_is_named_and_undone_on_drop() {
    let f = fixture();
    let rootfs = rootfs();
    let req = request(&f, &rootfs, &[]);
    let mounter = FakeMounter {
        fail_mount: Some("/opt/more"),
        ..FakeMounter::default()
    };
    let err = Prepared::new(&req, &Profile::default(), runc(&f), &mounter, &f.resolv)
        .err()
        .expect("mount fails");
    let msg = err.to_string();
    assert!(msg.starts_with("cannot mount bind /more at "), "{msg}");
    assert!(
        msg.ends_with("opt/more: No such device (os error 19)"),
        "{msg}"
    );
    let calls = mounter.calls.borrow().clone();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(
        calls[2].starts_with("umount ") && calls[2].ends_with("rootfs"),
        "{calls:?}"
    );
    assert!(!Bundle::new(&f.state, "c1").exists());
}

#[test]
fn a_busy_mount_is_detached_lazily() {
    let f = fixture();
    let rootfs = rootfs();
    let req = request(&f, &rootfs, &[]);
    let mounter = FakeMounter {
        busy: true,
        ..FakeMounter::default()
    };
    let mut p = Prepared::new(&req, &Profile::default(), runc(&f), &mounter, &f.resolv).unwrap();
    p.cleanup().unwrap();
    let calls = mounter.calls.borrow().clone();
    assert!(
        calls[2].starts_with("umount ") && calls[3].starts_with("detach "),
        "{calls:?}"
    );
    assert!(!p.bundle().exists());
}

#[test]
fn leftovers_of_a_crashed_run_with_the_same_id_are_removed() {
    let f = fixture();
    let rootfs = rootfs();
    let req = request(&f, &rootfs, &[]);
    let mounter = FakeMounter::default();
    let crashed = Prepared::new(&req, &Profile::default(), runc(&f), &mounter, &f.resolv).unwrap();
    std::mem::forget(crashed); // as if the process died here
    let b = Bundle::new(&f.state, "c1");
    // A crash leaves stubs in a directory that is a plain directory here;
    // with real mounts they would be in the (detached) overlay.
    for stub in [
        "proc",
        "dev",
        "sys",
        "etc/hosts",
        "etc/hostname",
        "etc/resolv.conf",
        "etc",
        "opt/more",
        "opt",
    ] {
        let p = b.rootfs().join(stub);
        let _ = std::fs::remove_file(&p);
        let _ = std::fs::remove_dir(&p);
    }
    mounter.calls.borrow_mut().clear();
    let mut p = Prepared::new(&req, &Profile::default(), runc(&f), &mounter, &f.resolv).unwrap();
    assert!(mounter.calls.borrow()[0].starts_with("detach "));
    p.cleanup().unwrap();
    assert!(!b.exists());
}

#[test]
fn an_invalid_request_touches_nothing() {
    let f = fixture();
    let req = request(&f, &[], &[]);
    let mounter = FakeMounter::default();
    assert!(Prepared::new(&req, &Profile::default(), runc(&f), &mounter, &f.resolv).is_err());
    assert!(mounter.calls.borrow().is_empty());
    assert!(!f.state.exists());
}

#[test]
fn tmpfs_stubs_take_the_tmpfs_mode() {
    let opts = |o: &[&str]| o.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(tmpfs_mode(&opts(&[])), 0o1777);
    assert_eq!(tmpfs_mode(&opts(&["size=1m", "mode=755"])), 0o755);
    assert_eq!(tmpfs_mode(&opts(&["mode=700", "mode=0750"])), 0o750);
    assert_eq!(tmpfs_mode(&opts(&["mode=rwx"])), 0o1777);
}
