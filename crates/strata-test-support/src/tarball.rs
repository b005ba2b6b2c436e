//! Building tar streams for tests.

use std::io::Write;

/// Builds a tar stream in memory, one entry at a time.
#[derive(Default)]
pub struct TarBuilder {
    out: Vec<u8>,
}

impl TarBuilder {
    /// An empty archive.
    pub fn new() -> TarBuilder {
        TarBuilder::default()
    }

    fn entry(
        &mut self,
        path: &str,
        kind: tar::EntryType,
        mode: u32,
        data: &[u8],
        link: Option<&str>,
    ) -> &mut Self {
        let mut h = tar::Header::new_gnu();
        // Set the name bytes directly: set_path refuses `..`, which hostile
        // fixtures need.
        {
            let name = &mut h.as_old_mut().name;
            assert!(path.len() < name.len(), "fixture path too long: {path}");
            name[..path.len()].copy_from_slice(path.as_bytes());
        }
        if let Some(l) = link {
            let field = &mut h.as_old_mut().linkname;
            assert!(l.len() < field.len(), "fixture link too long: {l}");
            field[..l.len()].copy_from_slice(l.as_bytes());
        }
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        h.set_cksum();
        self.out.extend_from_slice(h.as_bytes());
        self.out.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.out.extend(std::iter::repeat_n(0u8, pad));
        self
    }

    /// A regular file.
    pub fn file(&mut self, path: &str, data: &[u8]) -> &mut Self {
        self.entry(path, tar::EntryType::Regular, 0o644, data, None)
    }

    /// An executable file.
    pub fn exe(&mut self, path: &str, data: &[u8]) -> &mut Self {
        self.entry(path, tar::EntryType::Regular, 0o755, data, None)
    }

    /// A directory (give the path with a trailing `/`).
    pub fn dir(&mut self, path: &str) -> &mut Self {
        self.entry(path, tar::EntryType::Directory, 0o755, &[], None)
    }

    /// A symbolic link.
    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.entry(path, tar::EntryType::Symlink, 0o777, &[], Some(target))
    }

    /// A hard link to an earlier entry.
    pub fn hardlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.entry(path, tar::EntryType::Link, 0o644, &[], Some(target))
    }

    /// The finished archive (with the two zero end blocks).
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.out);
        out.extend(std::iter::repeat_n(0u8, 1024));
        out
    }
}

/// gzip-compresses bytes.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).expect("in-memory write");
    enc.finish().expect("in-memory write")
}

/// A root filesystem with `/bin/busybox` (from Debian's `busybox-static`)
/// and links for `sh`, `echo`, `cat`, `ls`, `true`, `false`, plus `extra`
/// files. Panics with a clear message when busybox is not installed.
pub fn busybox_rootfs(extra: &[(&str, &[u8])]) -> Vec<u8> {
    let busybox = std::fs::read("/usr/bin/busybox").expect(
        "tests need Debian's busybox-static at /usr/bin/busybox (apt-get install busybox-static)",
    );
    let mut t = TarBuilder::new();
    t.dir("bin/").exe("bin/busybox", &busybox);
    for applet in ["sh", "echo", "cat", "ls", "true", "false"] {
        t.symlink(&format!("bin/{applet}"), "busybox");
    }
    for (path, data) in extra {
        t.file(path, data);
    }
    t.finish()
}

/// A fuller root filesystem: `/bin/busybox` with a link for every applet
/// (as `busybox --install` makes them), `/etc/passwd` and `/etc/group` with
/// root, `/root`, and a sticky `/tmp`. Good for Dockerfile `RUN` steps.
pub fn busybox_full_rootfs() -> Vec<u8> {
    let busybox = std::fs::read("/usr/bin/busybox").expect(
        "tests need Debian's busybox-static at /usr/bin/busybox (apt-get install busybox-static)",
    );
    let list = std::process::Command::new("/usr/bin/busybox")
        .arg("--list-full")
        .output()
        .expect("busybox --list-full");
    let mut applets: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .map(|l| l.trim_start_matches('/').to_owned())
        .filter(|l| !l.is_empty() && l != "bin/busybox")
        .collect();
    applets.sort();
    applets.dedup();
    let mut t = TarBuilder::new();
    for d in [
        "bin/",
        "etc/",
        "root/",
        "sbin/",
        "usr/",
        "usr/bin/",
        "usr/sbin/",
    ] {
        t.dir(d);
    }
    t.entry("tmp/", tar::EntryType::Directory, 0o1777, &[], None);
    t.exe("bin/busybox", &busybox);
    t.file(
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    );
    t.file("etc/group", b"root:x:0:\nnogroup:x:65534:\n");
    for a in &applets {
        let depth = a.matches('/').count();
        let target = format!("{}bin/busybox", "../".repeat(depth));
        t.symlink(a, &target);
    }
    t.finish()
}
