//! `docker cp` over a fake container root in a temporary directory.
//!
//! The fixture (`Fx::new`) is a root file system next to a decoy `etc`
//! outside it, so a symlink that escaped the root would be caught reading
//! or writing the decoy.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use strata_container::cp::{
    CopyDest, CopyOptions, CopySrc, CpError, copy_from_container, copy_to_container, stat_in,
};
use strata_test_support::{TarBuilder, gzip};

const F_MTIME: i64 = 981_173_106; // 2001-02-03 04:05:06 UTC
const D_MTIME: i64 = 1_000_000_000;

struct Fx {
    _tmp: tempfile::TempDir,
    /// The container's root.
    root: PathBuf,
    /// The decoy `etc` next to the root, where `../etc` would escape to.
    decoy: PathBuf,
    /// A scratch host directory.
    host: PathBuf,
}

fn set_mtime(p: &Path, secs: i64) {
    let t = rustix::fs::Timespec {
        tv_sec: secs,
        tv_nsec: 0,
    };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        p,
        &rustix::fs::Timestamps {
            last_access: t,
            last_modification: t,
        },
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .unwrap();
}

fn chown(p: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).unwrap();
}

fn chmod(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

impl Fx {
    fn new() -> Fx {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let decoy = tmp.path().join("etc");
        let host = tmp.path().join("host");
        for d in [&root, &decoy, &host] {
            fs::create_dir(d).unwrap();
        }
        fs::write(decoy.join("hostname"), "OUTSIDE\n").unwrap();

        let r = |p: &str| root.join(p);
        fs::create_dir_all(r("etc")).unwrap();
        fs::write(r("etc/hostname"), "ctr\n").unwrap();
        fs::create_dir_all(r("d/sub")).unwrap();
        fs::write(r("d/f"), "hi\n").unwrap();
        chmod(&r("d/f"), 0o640);
        fs::hard_link(r("d/f"), r("d/hard")).unwrap();
        symlink("f", r("d/lnk")).unwrap();
        fs::write(r("d/sub/g"), "sub\n").unwrap();
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            r("d/fifo"),
            rustix::fs::Mode::from_raw_mode(0o600),
        )
        .unwrap();
        if is_root() {
            chown(&r("d/sub/g"), 12, 34);
        }
        // After the chown, which clears setuid.
        chmod(&r("d/sub/g"), 0o4755);
        set_mtime(&r("d/f"), F_MTIME);
        set_mtime(&r("d/lnk"), F_MTIME);
        set_mtime(&r("d/sub"), D_MTIME);
        set_mtime(&r("d"), D_MTIME);
        // Symlinks that would leave the root if followed on the host.
        symlink("/../../../etc", r("evil")).unwrap();
        symlink("../etc", r("evil_rel")).unwrap();
        symlink("/etc", r("evil_abs")).unwrap();
        symlink("/d", r("dlink")).unwrap();
        symlink("/d/f", r("flink")).unwrap();
        symlink("nowhere", r("broken")).unwrap();
        fs::create_dir_all(r("t/existdir")).unwrap();
        fs::write(r("t/existfile"), "old\n").unwrap();
        Fx {
            _tmp: tmp,
            root,
            decoy,
            host,
        }
    }

    fn r(&self, p: &str) -> PathBuf {
        self.root.join(p.trim_start_matches('/'))
    }

    fn h(&self, p: &str) -> PathBuf {
        self.host.join(p)
    }

    fn to_host(&self, src: &str, dest: &str, follow: bool) -> Result<(), CpError> {
        let dest = self.h(dest);
        copy_from_container(&self.root, src, CopyDest::Host(&dest), follow)
    }

    /// `to_host` with a DEST ending in `/` (Path::join drops nothing, but
    /// keep the slash visible).
    fn to_host_raw(&self, src: &str, dest: &str) -> Result<(), CpError> {
        let dest = PathBuf::from(format!("{}/{dest}", self.host.display()));
        copy_from_container(&self.root, src, CopyDest::Host(&dest), false)
    }

    fn stream(&self, src: &str, follow: bool) -> Result<Vec<u8>, CpError> {
        let mut out = Vec::new();
        copy_from_container(&self.root, src, CopyDest::Stream(&mut out), follow)?;
        Ok(out)
    }

    fn to_ctr(&self, src: &Path, dest: &str, opts: CopyOptions) -> Result<(), CpError> {
        copy_to_container(&self.root, CopySrc::Host(src), dest, &opts)
    }

    fn tar_to_ctr(&self, tar: &[u8], dest: &str, archive: bool) -> Result<(), CpError> {
        let mut input = tar;
        let opts = CopyOptions {
            follow_link: false,
            archive,
        };
        copy_to_container(&self.root, CopySrc::Stream(&mut input), dest, &opts)
    }

    /// A host source tree: `src/` with `a` (0600, 1234:5678 when root,
    /// mtime F_MTIME), `ahard`, `alink -> a`, `sub/b`; `srclink -> src`.
    fn host_src(&self) -> PathBuf {
        let s = self.h("src");
        fs::create_dir_all(s.join("sub")).unwrap();
        fs::write(s.join("a"), "a\n").unwrap();
        chmod(&s.join("a"), 0o600);
        fs::hard_link(s.join("a"), s.join("ahard")).unwrap();
        symlink("a", s.join("alink")).unwrap();
        fs::write(s.join("sub/b"), "b\n").unwrap();
        if is_root() {
            chown(&s.join("a"), 1234, 5678);
            chown(&s.join("sub/b"), 1234, 5678);
        }
        set_mtime(&s.join("a"), F_MTIME);
        set_mtime(&s.join("sub"), D_MTIME);
        set_mtime(&s, D_MTIME);
        symlink("src", self.h("srclink")).unwrap();
        s
    }
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

fn lmeta(p: &Path) -> fs::Metadata {
    fs::symlink_metadata(p).unwrap_or_else(|e| panic!("lstat {}: {e}", p.display()))
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[derive(Debug)]
struct TarEntry {
    name: String,
    kind: tar::EntryType,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    link: String,
    data: Vec<u8>,
}

fn entries(tar_bytes: &[u8]) -> Vec<TarEntry> {
    let mut ar = tar::Archive::new(tar_bytes);
    let mut out = Vec::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let h = e.header().clone();
        let name = String::from_utf8(e.path_bytes().into_owned()).unwrap();
        let link = e
            .link_name_bytes()
            .map(|l| String::from_utf8(l.into_owned()).unwrap())
            .unwrap_or_default();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        out.push(TarEntry {
            name,
            kind: h.entry_type(),
            mode: h.mode().unwrap(),
            uid: h.uid().unwrap(),
            gid: h.gid().unwrap(),
            mtime: h.mtime().unwrap(),
            link,
            data,
        });
    }
    out
}

fn entry_names(tar_bytes: &[u8]) -> Vec<String> {
    entries(tar_bytes).into_iter().map(|e| e.name).collect()
}

// --- stat -------------------------------------------------------------------

#[test]
fn stat_reports_files_dirs_and_final_symlink_targets() {
    let fx = Fx::new();
    let f = stat_in(&fx.root, "/d/f").unwrap();
    assert_eq!(f.name, "f");
    assert_eq!(f.size, 3);
    assert_eq!(f.mode, 0o100640);
    assert_eq!(f.mtime, F_MTIME);
    assert!(f.link_target.is_empty());

    let d = stat_in(&fx.root, "d").unwrap();
    assert!(d.is_dir());
    assert_eq!(d.name, "d");

    let l = stat_in(&fx.root, "/dlink").unwrap();
    assert!(l.is_symlink());
    assert_eq!(l.link_target, "/d");
    // A trailing slash follows the link.
    assert!(stat_in(&fx.root, "/dlink/").unwrap().is_dir());
    assert_eq!(stat_in(&fx.root, "/d/lnk").unwrap().link_target, "/d/f");
    assert_eq!(
        stat_in(&fx.root, "/broken").unwrap().link_target,
        "/nowhere"
    );
    assert_eq!(stat_in(&fx.root, "/").unwrap().name, "/");
}

#[test]
fn stat_of_escaping_symlinks_stays_in_the_root() {
    let fx = Fx::new();
    for p in ["/evil", "/evil_rel", "/evil_abs"] {
        assert_eq!(stat_in(&fx.root, p).unwrap().link_target, "/etc", "{p}");
    }
    // Through the link: the container's /etc/hostname, not the decoy.
    let h = stat_in(&fx.root, "/evil_rel/hostname").unwrap();
    assert_eq!(h.size, 4);
}

#[test]
fn stat_errors_name_the_path() {
    let fx = Fx::new();
    match stat_in(&fx.root, "/nosuch") {
        Err(CpError::NotFound { path }) => assert_eq!(path, "/nosuch"),
        other => panic!("want NotFound, got {other:?}"),
    }
    match stat_in(&fx.root, "/d/f/") {
        Err(CpError::NotADirectory { path }) => assert_eq!(path, "/d/f/"),
        other => panic!("want NotADirectory, got {other:?}"),
    }
    assert!(matches!(
        stat_in(&fx.root, "/d/f/x"),
        Err(CpError::NotADirectory { .. })
    ));
}

// --- copy out as a tar stream ----------------------------------------------------

#[test]
fn stream_names_entries_as_docker_does() {
    let fx = Fx::new();
    let dir = [
        "d/", "d/f", "d/fifo", "d/hard", "d/lnk", "d/sub/", "d/sub/g",
    ];
    assert_eq!(
        entry_names(&fx.stream("/etc/hostname", false).unwrap()),
        ["hostname"]
    );
    assert_eq!(entry_names(&fx.stream("/d", false).unwrap()), dir);
    assert_eq!(entry_names(&fx.stream("d/", false).unwrap()), dir);
    let dot: Vec<String> = dir.iter().map(|n| n.replacen("d/", "./", 1)).collect();
    assert_eq!(entry_names(&fx.stream("/d/.", false).unwrap()), dot);
    assert_eq!(entry_names(&fx.stream("/dlink", false).unwrap()), ["dlink"]);
    let via_link: Vec<String> = dir.iter().map(|n| n.replacen("d/", "dlink/", 1)).collect();
    assert_eq!(entry_names(&fx.stream("/dlink/", false).unwrap()), via_link);
    let all = entry_names(&fx.stream("/", false).unwrap());
    assert_eq!(all[0], "/");
    assert!(all.contains(&"/d/sub/g".to_owned()), "{all:?}");
    assert!(all.contains(&"/etc/hostname".to_owned()), "{all:?}");
}

#[test]
fn stream_keeps_modes_owners_mtimes_and_links() {
    let fx = Fx::new();
    let es = entries(&fx.stream("/d", false).unwrap());
    let by = |n: &str| {
        es.iter()
            .find(|e| e.name == n)
            .unwrap_or_else(|| panic!("no {n}"))
    };
    let f = by("d/f");
    assert_eq!(f.kind, tar::EntryType::Regular);
    assert_eq!(f.mode & 0o7777, 0o640);
    assert_eq!(f.mtime, F_MTIME as u64);
    assert_eq!(f.data, b"hi\n");
    let hard = by("d/hard");
    assert_eq!(hard.kind, tar::EntryType::Link);
    assert_eq!(hard.link, "d/f");
    let lnk = by("d/lnk");
    assert_eq!(lnk.kind, tar::EntryType::Symlink);
    assert_eq!(lnk.link, "f");
    assert_eq!(by("d/fifo").kind, tar::EntryType::Fifo);
    let g = by("d/sub/g");
    assert_eq!(g.mode & 0o7777, 0o4755);
    if is_root() {
        assert_eq!((g.uid, g.gid), (12, 34));
    }
    let d = by("d/");
    assert_eq!(d.kind, tar::EntryType::Directory);
    assert_eq!(d.mtime, D_MTIME as u64);
}

#[test]
fn stream_with_follow_link_takes_the_targets_name() {
    let fx = Fx::new();
    let es = entries(&fx.stream("/flink", true).unwrap());
    assert_eq!(es.len(), 1);
    assert_eq!(es[0].name, "f");
    assert_eq!(es[0].data, b"hi\n");
    assert_eq!(entry_names(&fx.stream("/dlink", true).unwrap())[0], "d/");
    // Without -L the link itself.
    let es = entries(&fx.stream("/flink", false).unwrap());
    assert_eq!(
        (es[0].name.as_str(), es[0].link.as_str()),
        ("flink", "/d/f")
    );
}

#[test]
fn long_names_survive_a_round_trip() {
    let fx = Fx::new();
    let long_dir = "x".repeat(120);
    let long_file = "y".repeat(110);
    let base = fx.r("long").join(&long_dir);
    fs::create_dir_all(&base).unwrap();
    fs::write(base.join(&long_file), "deep\n").unwrap();
    let target = format!("/long/{long_dir}/{long_file}");
    symlink(&target, fx.r("long/l")).unwrap();
    fs::hard_link(base.join(&long_file), fx.r("long/zz")).unwrap();

    let tar_bytes = fx.stream("/long", false).unwrap();
    let es = entries(&tar_bytes);
    let file_name = format!("long/{long_dir}/{long_file}");
    assert!(
        es.iter().any(|e| e.name == file_name),
        "{:?}",
        entry_names(&tar_bytes)
    );
    assert!(es.iter().any(|e| e.name == "long/l" && e.link == target));
    assert!(
        es.iter()
            .any(|e| e.name == "long/zz" && e.link == file_name)
    );

    fx.tar_to_ctr(&tar_bytes, "/t/existdir", false).unwrap();
    let copied = fx.r("t/existdir").join(&file_name);
    assert_eq!(read(&copied), "deep\n");
    assert_eq!(
        fs::read_link(fx.r("t/existdir/long/l")).unwrap(),
        Path::new(&target)
    );
    assert_eq!(
        lmeta(&fx.r("t/existdir/long/zz")).ino(),
        lmeta(&copied).ino()
    );
}

// --- copy out to the host ----------------------------------------------------------

#[test]
fn file_to_host_follows_dockers_rules() {
    let fx = Fx::new();
    fs::create_dir(fx.h("existdir")).unwrap();
    fs::write(fx.h("existfile"), "old\n").unwrap();

    // Missing DEST: a file of that name.
    fx.to_host("/d/f", "new", false).unwrap();
    assert_eq!(read(&fx.h("new")), "hi\n");
    // An existing file is overwritten.
    fx.to_host("/d/f", "existfile", false).unwrap();
    assert_eq!(read(&fx.h("existfile")), "hi\n");
    // An existing directory receives it under SRC's name.
    fx.to_host("/d/f", "existdir", false).unwrap();
    assert_eq!(read(&fx.h("existdir/f")), "hi\n");
    // A missing DEST that says it is a directory.
    assert!(matches!(
        fx.to_host_raw("/d/f", "nodir/"),
        Err(CpError::DirNotExists)
    ));
    assert!(!fx.h("nodir").exists());
    // A missing parent.
    match fx.to_host("/d/f", "nodir/x", false) {
        Err(CpError::OutputDirNotFound { dir }) => assert_eq!(dir, fx.h("nodir").to_str().unwrap()),
        other => panic!("want OutputDirNotFound, got {other:?}"),
    }
    // A file "directory".
    let e = fx.to_host_raw("/d/f", "existfile/").unwrap_err();
    assert!(
        e.to_string().ends_with("existfile/: not a directory"),
        "{e}"
    );
    // A host symlink to a directory is followed; a broken one names the file.
    symlink("existdir", fx.h("dirlink")).unwrap();
    fx.to_host("/etc/hostname", "dirlink", false).unwrap();
    assert_eq!(read(&fx.h("existdir/hostname")), "ctr\n");
    symlink("made", fx.h("brokenlink")).unwrap();
    fx.to_host("/etc/hostname", "brokenlink", false).unwrap();
    assert_eq!(read(&fx.h("made")), "ctr\n");
    assert!(lmeta(&fx.h("brokenlink")).file_type().is_symlink());
}

#[test]
fn dir_to_host_follows_dockers_rules() {
    let fx = Fx::new();
    fs::create_dir(fx.h("existdir")).unwrap();
    fs::create_dir(fx.h("contents")).unwrap();
    fs::write(fx.h("existfile"), "old\n").unwrap();
    let listing = ["f", "fifo", "hard", "lnk", "sub"];

    fx.to_host("/d", "new", false).unwrap();
    assert_eq!(names_in(&fx.h("new")), listing);
    fx.to_host("/d", "existdir", false).unwrap();
    assert_eq!(names_in(&fx.h("existdir")), ["d"]);
    assert_eq!(names_in(&fx.h("existdir/d")), listing);
    fx.to_host("/d/.", "contents", false).unwrap();
    assert_eq!(names_in(&fx.h("contents")), listing);
    fx.to_host("/d/.", "newdot", false).unwrap();
    assert_eq!(names_in(&fx.h("newdot")), listing);
    assert!(matches!(
        fx.to_host("/d", "existfile", false),
        Err(CpError::CannotCopyDir)
    ));
    assert_eq!(read(&fx.h("existfile")), "old\n");
    // A directory never replaces a file inside the tree.
    fs::create_dir(fx.h("clash")).unwrap();
    fs::write(fx.h("clash/sub"), "file\n").unwrap();
    match fx.to_host("/d/.", "clash", false) {
        Err(CpError::OverwriteNonDirectory { path, .. }) => {
            assert!(path.ends_with("clash/sub"), "{path}")
        }
        other => panic!("want OverwriteNonDirectory, got {other:?}"),
    }
}

#[test]
fn to_host_keeps_modes_mtimes_links_and_belongs_to_us() {
    let fx = Fx::new();
    fx.to_host("/d", "out", false).unwrap();
    let o = |p: &str| fx.h("out").join(p);
    let f = lmeta(&o("f"));
    assert_eq!(f.mode() & 0o7777, 0o640);
    assert_eq!(f.mtime(), F_MTIME);
    assert_eq!(lmeta(&o("hard")).ino(), f.ino(), "hard link kept");
    assert_eq!(fs::read_link(o("lnk")).unwrap(), Path::new("f"));
    assert_eq!(lmeta(&o("lnk")).mtime(), F_MTIME);
    assert!(lmeta(&o("fifo")).file_type().is_fifo());
    let g = lmeta(&o("sub/g"));
    assert_eq!(g.mode() & 0o7777, 0o4755);
    // Owned by whoever copies, not by the container's 12:34.
    assert_eq!(g.uid(), rustix::process::geteuid().as_raw());
    assert_eq!(g.gid(), rustix::process::getegid().as_raw());
    // Directory mtimes are set after their contents.
    assert_eq!(lmeta(&fx.h("out")).mtime(), D_MTIME);
    assert_eq!(lmeta(&o("sub")).mtime(), D_MTIME);
}

#[test]
fn to_host_with_follow_link() {
    let fx = Fx::new();
    fs::create_dir(fx.h("existdir")).unwrap();
    fx.to_host("/flink", "plain", false).unwrap();
    assert!(lmeta(&fx.h("plain")).file_type().is_symlink());
    fx.to_host("/flink", "followed", true).unwrap();
    assert!(lmeta(&fx.h("followed")).file_type().is_file());
    assert_eq!(read(&fx.h("followed")), "hi\n");
    // Into a directory the copy keeps the link's name.
    fx.to_host("/dlink", "existdir", true).unwrap();
    assert_eq!(
        names_in(&fx.h("existdir/dlink")),
        ["f", "fifo", "hard", "lnk", "sub"]
    );
    match fx.to_host("/broken", "x", true) {
        Err(CpError::NotFound { path }) => assert_eq!(path, "/nowhere"),
        other => panic!("want NotFound, got {other:?}"),
    }
}

#[test]
fn missing_or_misused_sources_in_the_container() {
    let fx = Fx::new();
    match fx.to_host("/nosuch", "x", false) {
        Err(e @ CpError::NotFound { .. }) => {
            assert_eq!(
                e.docker_message("web"),
                "Error: No such container:path: web:/nosuch"
            );
        }
        other => panic!("want NotFound, got {other:?}"),
    }
    assert!(matches!(
        fx.stream("/d/nosuch/", false),
        Err(CpError::NotFound { .. })
    ));
    match fx.to_host("/d/f/", "x", false) {
        Err(e @ CpError::NotADirectory { .. }) => {
            assert_eq!(e.to_string(), "lstat /d/f/: not a directory")
        }
        other => panic!("want NotADirectory, got {other:?}"),
    }
    assert!(!fx.h("x").exists());
}

#[test]
fn escaping_symlinks_are_read_inside_the_root() {
    let fx = Fx::new();
    for link in ["/evil", "/evil_rel", "/evil_abs"] {
        let es = entries(&fx.stream(&format!("{link}/hostname"), false).unwrap());
        assert_eq!(es[0].data, b"ctr\n", "{link}");
        let es = entries(&fx.stream(link, true).unwrap());
        assert_eq!(es[0].name, "etc/", "{link} -L");
        assert!(es.iter().all(|e| e.data != b"OUTSIDE\n"), "{link} -L");
    }
    fx.to_host("/evil_rel/", "etc_copy", false).unwrap();
    assert_eq!(names_in(&fx.h("etc_copy")), ["hostname"]);
    assert_eq!(read(&fx.h("etc_copy/hostname")), "ctr\n");
}

// --- copy into the container from the host --------------------------------------------

#[test]
fn file_to_container_follows_dockers_rules() {
    let fx = Fx::new();
    let src = fx.host_src();
    let opts = CopyOptions::default();
    fx.to_ctr(&src.join("a"), "/t/new", opts).unwrap();
    let m = lmeta(&fx.r("t/new"));
    assert_eq!(read(&fx.r("t/new")), "a\n");
    assert_eq!(m.mode() & 0o7777, 0o600);
    assert_eq!(m.mtime(), F_MTIME);

    // Overwriting makes a new file: a hard link to the old one keeps it.
    fs::hard_link(fx.r("t/existfile"), fx.r("t/oldlink")).unwrap();
    fx.to_ctr(&src.join("a"), "/t/existfile", opts).unwrap();
    assert_eq!(read(&fx.r("t/existfile")), "a\n");
    assert_eq!(read(&fx.r("t/oldlink")), "old\n");

    fx.to_ctr(&src.join("a"), "/t/existdir", opts).unwrap();
    assert_eq!(read(&fx.r("t/existdir/a")), "a\n");
    assert!(matches!(
        fx.to_ctr(&src.join("a"), "/t/nodir/", opts),
        Err(CpError::DirNotExists)
    ));
    match fx.to_ctr(&src.join("a"), "/t/nodir/x", opts) {
        Err(CpError::NotFound { path }) => assert_eq!(path, "/t/nodir"),
        other => panic!("want NotFound, got {other:?}"),
    }
    // A trailing slash on a host file.
    let with_slash = PathBuf::from(format!("{}/", src.join("a").display()));
    assert!(matches!(
        fx.to_ctr(&with_slash, "/t/x", opts),
        Err(CpError::NotDirectory)
    ));
    // A container symlink as DEST is followed inside the root.
    fx.to_ctr(&src.join("a"), "/dlink", opts).unwrap();
    assert_eq!(read(&fx.r("d/a")), "a\n");
    fx.to_ctr(&src.join("a"), "/flink", opts).unwrap();
    assert_eq!(read(&fx.r("d/f")), "a\n");
    assert!(lmeta(&fx.r("flink")).file_type().is_symlink());
}

#[test]
fn dir_to_container_follows_dockers_rules() {
    let fx = Fx::new();
    let src = fx.host_src();
    let opts = CopyOptions::default();
    let listing = ["a", "ahard", "alink", "sub"];
    fx.to_ctr(&src, "/t/new", opts).unwrap();
    assert_eq!(names_in(&fx.r("t/new")), listing);
    assert_eq!(lmeta(&fx.r("t/new")).mtime(), D_MTIME);
    assert_eq!(
        lmeta(&fx.r("t/new/ahard")).ino(),
        lmeta(&fx.r("t/new/a")).ino()
    );
    assert_eq!(fs::read_link(fx.r("t/new/alink")).unwrap(), Path::new("a"));

    fx.to_ctr(&src, "/t/existdir", opts).unwrap();
    assert_eq!(names_in(&fx.r("t/existdir")), ["src"]);
    fs::create_dir(fx.r("t/contents")).unwrap();
    let dot = PathBuf::from(format!("{}/.", src.display()));
    fx.to_ctr(&dot, "/t/contents", opts).unwrap();
    assert_eq!(names_in(&fx.r("t/contents")), listing);
    // The directory itself keeps its own metadata when its contents merge.
    assert_ne!(lmeta(&fx.r("t/contents")).mtime(), D_MTIME);
    assert!(matches!(
        fx.to_ctr(&src, "/t/existfile", opts),
        Err(CpError::CannotCopyDir)
    ));
    // A host symlink to a directory, not followed, is copied as a link;
    // with a trailing slash it is followed and keeps its name.
    fx.to_ctr(&fx.h("srclink"), "/t/asLink", opts).unwrap();
    assert!(lmeta(&fx.r("t/asLink")).file_type().is_symlink());
    let slash = PathBuf::from(format!("{}/", fx.h("srclink").display()));
    fx.to_ctr(&slash, "/t/existdir", opts).unwrap();
    assert_eq!(names_in(&fx.r("t/existdir/srclink")), listing);
    let follow = CopyOptions {
        follow_link: true,
        archive: false,
    };
    fx.to_ctr(&fx.h("srclink"), "/t/followed", follow).unwrap();
    assert_eq!(names_in(&fx.r("t/followed")), listing);
}

#[test]
fn copies_into_the_container_are_roots_unless_archive() {
    if !is_root() {
        return;
    }
    let fx = Fx::new();
    let src = fx.host_src();
    fx.to_ctr(&src, "/t/plain", CopyOptions::default()).unwrap();
    for p in ["t/plain", "t/plain/a", "t/plain/sub/b", "t/plain/alink"] {
        let m = lmeta(&fx.r(p));
        assert_eq!((m.uid(), m.gid()), (0, 0), "{p}");
    }
    let archive = CopyOptions {
        follow_link: false,
        archive: true,
    };
    fx.to_ctr(&src, "/t/kept", archive).unwrap();
    let m = lmeta(&fx.r("t/kept/sub/b"));
    assert_eq!((m.uid(), m.gid()), (1234, 5678));
    let m = lmeta(&fx.r("t/kept/a"));
    assert_eq!((m.uid(), m.gid()), (1234, 5678));
}

#[test]
fn copies_through_escaping_symlinks_stay_in_the_root() {
    let fx = Fx::new();
    let src = fx.host_src();
    for link in ["/evil", "/evil_rel", "/evil_abs"] {
        fx.to_ctr(&src.join("a"), link, CopyOptions::default())
            .unwrap();
    }
    assert_eq!(read(&fx.r("etc/a")), "a\n");
    assert_eq!(names_in(&fx.decoy), ["hostname"]);
    let tar_bytes = TarBuilder::new().file("planted", b"p\n").finish();
    fx.tar_to_ctr(&tar_bytes, "/evil_rel", false).unwrap();
    assert_eq!(read(&fx.r("etc/planted")), "p\n");
    assert_eq!(names_in(&fx.decoy), ["hostname"]);
    assert_eq!(read(&fx.decoy.join("hostname")), "OUTSIDE\n");
}

// --- copy a tar stream into the container -------------------------------------------

#[test]
fn stream_into_container_needs_a_directory() {
    let fx = Fx::new();
    let tar_bytes = TarBuilder::new().file("x", b"x").finish();
    for dest in ["/t/existfile", "/t/nosuch", "/t/nosuch/"] {
        match fx.tar_to_ctr(&tar_bytes, dest, false) {
            Err(e @ CpError::DestinationNotDirectory { .. }) => assert_eq!(
                e.docker_message("web"),
                format!("destination \"web:{dest}\" must be a directory")
            ),
            other => panic!("{dest}: want DestinationNotDirectory, got {other:?}"),
        }
    }
    // A symlink to a directory will do.
    fx.tar_to_ctr(&tar_bytes, "/dlink", false).unwrap();
    assert_eq!(read(&fx.r("d/x")), "x");
}

#[test]
fn stream_into_container_extracts_everything() {
    let fx = Fx::new();
    let tar_bytes = TarBuilder::new()
        .dir("top/")
        .file("top/f", b"one\n")
        .hardlink("top/h", "top/f")
        .symlink("top/s", "f")
        .file("implied/deep/x", b"x\n")
        .file("./dot", b"dot\n")
        .file("a/b/../c", b"c\n")
        .finish();
    fx.tar_to_ctr(&tar_bytes, "/t/existdir", false).unwrap();
    let r = |p: &str| fx.r(&format!("t/existdir/{p}"));
    assert_eq!(read(&r("top/f")), "one\n");
    assert_eq!(lmeta(&r("top/h")).ino(), lmeta(&r("top/f")).ino());
    assert_eq!(fs::read_link(r("top/s")).unwrap(), Path::new("f"));
    assert_eq!(lmeta(&r("top/f")).mtime(), 1_700_000_000);
    assert_eq!(lmeta(&r("top")).mtime(), 1_700_000_000);
    assert_eq!(lmeta(&r("implied/deep")).mode() & 0o7777, 0o755);
    assert_eq!(read(&r("dot")), "dot\n");
    assert_eq!(read(&r("a/c")), "c\n");

    // gzip is detected.
    let gz = gzip(&TarBuilder::new().file("zipped", b"z\n").finish());
    fx.tar_to_ctr(&gz, "/t/existdir", false).unwrap();
    assert_eq!(read(&r("zipped")), "z\n");
    // An empty stream copies nothing; garbage is an error.
    fx.tar_to_ctr(&[], "/t/existdir", false).unwrap();
    assert!(fx.tar_to_ctr(&[1u8; 700], "/t/existdir", false).is_err());
}

#[test]
fn hostile_streams_never_write_outside_dest() {
    let fx = Fx::new();
    let dest = "/t/existdir";
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            TarBuilder::new().file("../escape", b"x").finish(),
            "outside",
        ),
        (
            TarBuilder::new().file("a/../../escape2", b"x").finish(),
            "outside",
        ),
        (
            TarBuilder::new().symlink("sl", "../../etc").finish(),
            "symlink",
        ),
        (
            TarBuilder::new()
                .hardlink("hl", "../../etc/hostname")
                .finish(),
            "hardlink",
        ),
        (
            TarBuilder::new()
                .symlink("sl2", "/etc")
                .file("sl2/pwned", b"x")
                .finish(),
            "outside",
        ),
        (TarBuilder::new().symlink("up", "..").finish(), "symlink"),
        // Links already in DEST that lead out of it are not gone through.
        (
            TarBuilder::new().file("was_up/pwned2", b"x").finish(),
            "outside",
        ),
        (
            TarBuilder::new().file("was_abs/pwned3", b"x").finish(),
            "outside",
        ),
    ];
    symlink("..", fx.r("t/existdir/was_up")).unwrap();
    symlink("/etc", fx.r("t/existdir/was_abs")).unwrap();
    for (tar_bytes, want) in cases {
        let err = fx.tar_to_ctr(&tar_bytes, dest, false).unwrap_err();
        let ok = match want {
            "outside" => matches!(err, CpError::OutsideDestination { .. }),
            "symlink" => matches!(err, CpError::InvalidSymlink { .. }),
            _ => matches!(err, CpError::InvalidHardlink { .. }),
        };
        assert!(ok, "want {want}, got {err:?}");
    }
    let e = fx
        .tar_to_ctr(
            &TarBuilder::new().file("../escape", b"x").finish(),
            dest,
            false,
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "\"../escape\" is outside of \"/t/existdir\"");
    assert!(!fx.r("t/escape").exists());
    assert!(!fx.r("escape2").exists() && !fx.r("t/escape2").exists());
    assert!(!fx.r("etc/pwned").exists());
    assert!(!fx.r("t/pwned2").exists());
    assert!(!fx.r("etc/pwned3").exists());
    assert_eq!(names_in(&fx.r("etc")), ["hostname"]);
    assert_eq!(names_in(&fx.decoy), ["hostname"]);

    // Absolute names and hard link targets are taken inside DEST.
    fx.tar_to_ctr(
        &TarBuilder::new().file("/absfile", b"abs\n").finish(),
        dest,
        false,
    )
    .unwrap();
    assert_eq!(read(&fx.r("t/existdir/absfile")), "abs\n");
    match fx.tar_to_ctr(
        &TarBuilder::new().hardlink("hl2", "/etc/hostname").finish(),
        dest,
        false,
    ) {
        Err(CpError::Io {
            op: "link", path, ..
        }) => {
            assert_eq!(path, "/t/existdir/etc/hostname /t/existdir/hl2");
        }
        other => panic!("want a link error, got {other:?}"),
    }
}

#[test]
fn absolute_symlinks_within_dest_are_followed() {
    let fx = Fx::new();
    let tar_bytes = TarBuilder::new()
        .symlink("in", "/t/existdir")
        .file("in/x", b"x\n")
        .file("in/new/y", b"y\n")
        .finish();
    fx.tar_to_ctr(&tar_bytes, "/t", false).unwrap();
    assert_eq!(read(&fx.r("t/existdir/x")), "x\n");
    assert_eq!(read(&fx.r("t/existdir/new/y")), "y\n");
}

#[test]
fn directories_and_files_never_replace_each_other() {
    let fx = Fx::new();
    let over_dir = TarBuilder::new().file("existdir", b"x").finish();
    match fx.tar_to_ctr(&over_dir, "/t", false) {
        Err(e @ CpError::OverwriteDirectory { .. }) => assert_eq!(
            e.to_string(),
            "cannot overwrite directory \"/t/existdir\" with non-directory \"/t\""
        ),
        other => panic!("want OverwriteDirectory, got {other:?}"),
    }
    let over_file = TarBuilder::new().dir("existfile/").finish();
    assert!(matches!(
        fx.tar_to_ctr(&over_file, "/t", false),
        Err(CpError::OverwriteNonDirectory { .. })
    ));
    assert!(fx.r("t/existdir").is_dir());
    assert_eq!(read(&fx.r("t/existfile")), "old\n");
    // A file replaces a file or a symlink.
    symlink("existfile", fx.r("t/link")).unwrap();
    let over = TarBuilder::new()
        .file("existfile", b"new\n")
        .file("link", b"was a link\n")
        .finish();
    fx.tar_to_ctr(&over, "/t", false).unwrap();
    assert_eq!(read(&fx.r("t/existfile")), "new\n");
    assert!(lmeta(&fx.r("t/link")).file_type().is_file());
    assert_eq!(read(&fx.r("t/link")), "was a link\n");
}

#[test]
fn stream_ownership_is_roots_unless_archive() {
    if !is_root() {
        return;
    }
    let fx = Fx::new();
    let mut h = tar::Header::new_ustar();
    h.set_path("owned").unwrap();
    h.set_size(2);
    h.set_mode(0o640);
    h.set_uid(4321);
    h.set_gid(8765);
    h.set_cksum();
    let mut b = tar::Builder::new(Vec::new());
    b.append(&h, &b"o\n"[..]).unwrap();
    let tar_bytes = b.into_inner().unwrap();
    fx.tar_to_ctr(&tar_bytes, "/t/existdir", false).unwrap();
    let m = lmeta(&fx.r("t/existdir/owned"));
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (0, 0, 0o640));
    fx.tar_to_ctr(&tar_bytes, "/t", true).unwrap();
    let m = lmeta(&fx.r("t/owned"));
    assert_eq!((m.uid(), m.gid()), (4321, 8765));
}

#[test]
fn device_nodes_are_copied_as_root() {
    if !is_root() {
        return;
    }
    let fx = Fx::new();
    fs::create_dir(fx.r("dev")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        fx.r("dev/null"),
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::Mode::from_raw_mode(0o666),
        rustix::fs::makedev(1, 3),
    )
    .unwrap();
    chmod(&fx.r("dev/null"), 0o666);
    let es = entries(&fx.stream("/dev/null", false).unwrap());
    assert_eq!(es[0].kind, tar::EntryType::Char);
    fx.to_host("/dev/null", "null", false).unwrap();
    let m = lmeta(&fx.h("null"));
    assert!(m.file_type().is_char_device());
    assert_eq!(m.rdev(), rustix::fs::makedev(1, 3));
    assert_eq!(m.mode() & 0o7777, 0o666);
    // And back in through a stream.
    let tar_bytes = fx.stream("/dev", false).unwrap();
    fx.tar_to_ctr(&tar_bytes, "/t/existdir", false).unwrap();
    let m = lmeta(&fx.r("t/existdir/dev/null"));
    assert!(m.file_type().is_char_device());
    assert_eq!(m.rdev(), rustix::fs::makedev(1, 3));
    // A device as DEST is refused.
    let src = fx.host_src();
    match fx.to_ctr(&src.join("a"), "/dev/null", CopyOptions::default()) {
        Err(CpError::DestinationNotFileOrDirectory { reason, .. }) => {
            assert_eq!(reason, "got a device")
        }
        other => panic!("want DestinationNotFileOrDirectory, got {other:?}"),
    }
}
