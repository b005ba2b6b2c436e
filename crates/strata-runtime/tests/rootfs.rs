//! The container's file systems: an overlay rootfs whose upper directory
//! holds only what the command wrote, extra mounts, a read-only root,
//! concurrent runs, and cleanup after failures and crashes. Real runc and
//! real overlayfs (`root_*`).

mod common;

use std::os::unix::fs::MetadataExt;

use common::{assert_clean, env, id, run, tree};
use strata_runtime::{Error, ExitStatus, HostMounter, Mount, Mounter};

#[test]
fn root_overlay_upper_holds_only_what_the_command_wrote() {
    let env = env(&[]);
    let (overlay, upper) = env.overlay("a");
    let rootfs = [overlay];
    let cache = env.tmp.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    let secret = env.tmp.path().join("secret");
    std::fs::write(&secret, "s3cret").unwrap();
    let mounts = [
        Mount::bind(cache.display().to_string(), "/root/.cache/tool", false),
        Mount::bind(secret.display().to_string(), "/run/secrets/token", true),
        Mount::tmpfs("/tmp", &["size=1m"]),
    ];
    let id = id("overlay");
    let mut req = env.request(
        &id,
        &rootfs,
        "echo hi > /hello; busybox mkdir -p /var/lib/x; cat /run/secrets/token; \
         echo c > /root/.cache/tool/c; echo t > /tmp/t; ls /proc/self/fd >/dev/null",
    );
    req.mounts = &mounts;
    let ran = run(&req);
    assert_eq!(ran.status, ExitStatus::Exited(0), "{ran:?}");
    assert_eq!(ran.stdout, "s3cret");
    assert_eq!(tree(&upper), ["hello", "var", "var/lib", "var/lib/x"]);
    assert_eq!(tree(&cache), ["c"], "the cache mount got the write");
    assert_clean(&env.state, &id);
}

#[test]
fn root_copied_up_parents_keep_their_lower_metadata() {
    // A lower /etc: the /etc/hosts stub copies /etc up; once the stubs are
    // gone the copy must look exactly like the lower /etc.
    let env = env(&[("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")]);
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(86_400 * 30);
    let etc = std::fs::File::open(env.lower.join("etc")).unwrap();
    etc.set_times(
        std::fs::FileTimes::new()
            .set_modified(old)
            .set_accessed(old),
    )
    .unwrap();
    let (overlay, upper) = env.overlay("b");
    let rootfs = [overlay];
    let id = id("copyup");
    let ran = run(&env.request(&id, &rootfs, "cat /etc/passwd >/dev/null"));
    assert_eq!(ran.status, ExitStatus::Exited(0), "{ran:?}");
    // overlayfs copied /etc up to make the stubs in it; they are gone, and
    // the copy has its lower's metadata (a differ comparing metadata, as
    // BuildKit's does, skips it).
    assert_eq!(tree(&upper), ["etc"]);
    let (l, u) = (
        env.lower.join("etc").metadata().unwrap(),
        upper.join("etc").metadata().unwrap(),
    );
    assert_eq!(
        (u.mode(), u.uid(), u.gid(), u.mtime(), u.mtime_nsec()),
        (l.mode(), l.uid(), l.gid(), l.mtime(), l.mtime_nsec()),
    );
    assert_clean(&env.state, &id);
}

#[test]
fn root_overlay_with_more_lower_layers_than_a_page_of_options() {
    let env = env(&[]);
    let (mut overlay, upper) = env.overlay("many");
    let mut lowers = Vec::new();
    for i in 0..40 {
        let dir = env
            .tmp
            .path()
            .join(format!("layer-{i:02}-{}", "x".repeat(100)));
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join(format!("l{i:02}")), format!("{i}\n")).unwrap();
        std::fs::write(dir.join("top"), format!("{i}\n")).unwrap();
        lowers.push(dir.display().to_string());
    }
    lowers.push(env.lower.display().to_string());
    overlay.options[0] = format!("lowerdir={}", lowers.join(":"));
    assert!(overlay.options.join(",").len() > 4096);
    let rootfs = [overlay];
    let id = id("many-lowers");
    let ran = run(&env.request(&id, &rootfs, "cat /top /l00 /l39; ls / | busybox wc -l"));
    assert_eq!(ran.status, ExitStatus::Exited(0), "{ran:?}");
    // The first lower is the topmost; 40 files, /top, /bin and the mount
    // points /proc, /dev, /sys and /etc.
    assert_eq!(ran.stdout, "0\n0\n39\n46\n", "{ran:?}");
    assert_eq!(tree(&upper), Vec::<String>::new());
    assert_clean(&env.state, &id);
}

#[test]
fn root_bind_and_tmpfs_mounts() {
    let env = env(&[]);
    let rootfs = [Mount::bind(env.lower.display().to_string(), "/", false)];
    let shared = env.tmp.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("from-host"), "h\n").unwrap();
    let mounts = [
        Mount::bind(shared.display().to_string(), "/mnt/shared", false),
        Mount::bind(shared.display().to_string(), "/mnt/ro", true),
        Mount::tmpfs("/scratch", &["size=1m", "mode=1770"]),
        Mount::tmpfs("/a/b/default", &[]),
    ];
    let id = id("mounts");
    let mut req = env.request(
        &id,
        &rootfs,
        "cat /mnt/shared/from-host; echo c > /mnt/shared/from-container; \
         echo x > /mnt/ro/nope || echo ro-refused; echo s > /scratch/s; cat /scratch/s; \
         busybox stat -c %a /scratch /a/b/default; busybox grep ' /scratch ' /proc/mounts | busybox cut -d' ' -f3",
    );
    req.mounts = &mounts;
    let ran = run(&req);
    assert_eq!(ran.status, ExitStatus::Exited(0), "{ran:?}");
    assert_eq!(ran.stdout, "h\nro-refused\ns\n1770\n1777\ntmpfs\n");
    assert_eq!(tree(&shared), ["from-container", "from-host"]);
    assert!(
        !env.lower.join("scratch").exists(),
        "the tmpfs stub is gone"
    );
    assert!(!env.lower.join("mnt").exists());
    assert!(!env.lower.join("a").exists());
    assert_clean(&env.state, &id);
}

#[test]
fn root_readonly_rootfs() {
    let env = env(&[]);
    let (overlay, upper) = env.overlay("ro");
    let rootfs = [overlay];
    let id = id("readonly");
    let mut req = env.request(&id, &rootfs, "echo x > /x && echo wrote; echo done");
    req.readonly_rootfs = true;
    let ran = run(&req);
    assert_eq!(ran.status, ExitStatus::Exited(0), "{ran:?}");
    assert_eq!(ran.stdout, "done\n");
    assert!(
        ran.stderr.contains("Read-only file system"),
        "{}",
        ran.stderr
    );
    assert_eq!(tree(&upper), Vec::<String>::new());
    assert_clean(&env.state, &id);
}

#[test]
fn root_concurrent_runs_with_different_ids() {
    let env = env(&[]);
    let runs: Vec<_> = (0..4)
        .map(|i| {
            let (overlay, upper) = env.overlay(&format!("c{i}"));
            (id(&format!("concurrent-{i}")), [overlay], upper)
        })
        .collect();
    std::thread::scope(|s| {
        for (id, rootfs, upper) in &runs {
            let env = &env;
            s.spawn(move || {
                let script = format!("echo {id} > /who; busybox sleep 0.3; cat /who");
                let ran = run(&env.request(id, rootfs, &script));
                assert_eq!(ran.status, ExitStatus::Exited(0), "{ran:?}");
                assert_eq!(ran.stdout, format!("{id}\n"));
                assert_eq!(tree(upper), ["who"]);
            });
        }
    });
    for (id, _, _) in &runs {
        assert_clean(&env.state, id);
    }
}

#[test]
fn root_cleanup_after_failures() {
    let env = env(&[]);
    let (overlay, upper) = env.overlay("fail");
    let rootfs = [overlay];
    // The command fails.
    let id1 = id("fail-cmd");
    let ran = run(&env.request(&id1, &rootfs, "echo partial > /p; exit 7"));
    assert_eq!(ran.status, ExitStatus::Exited(7));
    assert_clean(&env.state, &id1);
    assert_eq!(tree(&upper), ["p"]);

    // runc fails to set the container up (a bind source that is missing).
    let id2 = id("fail-runc");
    let missing = [Mount::bind("/nonexistent/strata-test", "/data", true)];
    let mut req = env.request(&id2, &rootfs, "true");
    req.mounts = &missing;
    let err = common::try_run(&req).unwrap_err();
    assert!(matches!(err, Error::Start { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("container {id2} did not start: ")),
        "{msg}"
    );
    assert!(msg.contains("/nonexistent/strata-test"), "{msg}");
    assert_clean(&env.state, &id2);
    assert_eq!(tree(&upper), ["p"], "no stub of /data is left");
}

#[test]
fn root_leftovers_of_a_crashed_run_do_not_break_new_runs() {
    let env = env(&[]);
    // A crashed run: its bundle with a still-mounted rootfs.
    let stale = id("crashed");
    let stale_root = env.state.join("bundles").join(&stale).join("rootfs");
    std::fs::create_dir_all(&stale_root).unwrap();
    std::fs::write(stale_root.parent().unwrap().join("config.json"), "{}").unwrap();
    let (overlay, _) = env.overlay("stale");
    HostMounter.mount(&overlay, &stale_root).unwrap();
    // If an assertion fails first, do not leave the mount on the host.
    let _guard = Detach(stale_root.clone());

    let (overlay, _) = env.overlay("new");
    let rootfs = [overlay];
    let fresh = id("fresh");
    let ran = run(&env.request(&fresh, &rootfs, "echo ok"));
    assert_eq!(
        (ran.status, ran.stdout.as_str()),
        (ExitStatus::Exited(0), "ok\n")
    );
    assert_clean(&env.state, &fresh);

    // The same ID again: the leftovers are cleaned up first.
    let ran = run(&env.request(&stale, &rootfs, "echo again"));
    assert_eq!(
        (ran.status, ran.stdout.as_str()),
        (ExitStatus::Exited(0), "again\n")
    );
    assert_clean(&env.state, &stale);
}

/// Lazily unmounts a path when dropped (it may be gone already).
struct Detach(std::path::PathBuf);

impl Drop for Detach {
    fn drop(&mut self) {
        let _ = HostMounter.unmount(&self.0, true);
    }
}
