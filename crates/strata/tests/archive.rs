//! `load` and `save` through the CLI: formats, messages, bad input, and the
//! store staying consistent when a load is killed or several processes
//! work at once. Needs busybox-static.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use strata_test_support::{
    ArchiveImage, Cli, DockerArchive, Layout, TarBuilder, busybox_rootfs, gzip,
};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

fn archive(layout: Layout, tags: &[&str]) -> (ArchiveImage, Vec<u8>) {
    let img = ArchiveImage::new(vec![busybox_rootfs(&[])], tags);
    let bytes = DockerArchive {
        images: vec![img.clone()],
        layout,
    }
    .build();
    (img, bytes)
}

fn files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn load_prints_dockers_lines_for_every_layout_and_compression() {
    for layout in [Layout::Legacy, Layout::Docker25, Layout::OciOnly] {
        for compress in [false, true] {
            let cli = Cli::new(BIN);
            let (img, mut bytes) = archive(layout, &["busybox:latest", "busybox:1"]);
            if compress {
                bytes = gzip(&bytes);
            }
            let out = cli.run_stdin(&["load"], Some(&bytes)).ok();
            let expect = "Loaded image: busybox:latest\nLoaded image: busybox:1\n";
            assert_eq!(out.stdout, expect, "{layout:?} gzip={compress}");
            let ids = cli.run(&["images", "-q", "--no-trunc"]).ok().stdout;
            assert_eq!(ids, format!("{}\n{}\n", img.id(), img.id()));
        }
    }
}

#[test]
fn load_from_file_untagged_and_retag_messages() {
    let cli = Cli::new(BIN);
    let (img, bytes) = archive(Layout::Legacy, &[]);
    let path = cli.scratch().join("a.tar");
    std::fs::write(&path, &bytes).unwrap();
    let out = cli.run(&["load", "-i", path.to_str().unwrap()]).ok();
    assert_eq!(out.stdout, format!("Loaded image ID: {}\n", img.id()));
    // Loading a tag that another image holds moves it, as Docker says.
    cli.run_stdin(&["load"], Some(&archive(Layout::Legacy, &["x:1"]).1))
        .ok();
    let other = ArchiveImage::new(vec![busybox_rootfs(&[("f", b"1")])], &["x:1"]);
    let bytes = DockerArchive {
        images: vec![other.clone()],
        layout: Layout::Legacy,
    }
    .build();
    let out = cli.run_stdin(&["load", "-q"], Some(&bytes)).ok();
    assert_eq!(
        out.stdout,
        format!(
            "The image x:1 already exists, renaming the old one with ID {} to empty string\nLoaded image: x:1\n",
            img.id()
        )
    );
}

#[test]
fn save_load_round_trip_keeps_ids_and_is_deterministic() {
    let cli = Cli::new(BIN);
    let (img, bytes) = archive(Layout::Legacy, &["busybox:latest"]);
    cli.run_stdin(&["load"], Some(&bytes)).ok();
    let a = cli.scratch().join("a.tar");
    let b = cli.scratch().join("b.tar");
    cli.run(&["save", "-o", a.to_str().unwrap(), "busybox"])
        .ok();
    cli.run(&["save", "-o", b.to_str().unwrap(), "busybox:latest"])
        .ok();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let to_stdout = cli
        .command(&["save", "busybox"])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(to_stdout.stdout, std::fs::read(&a).unwrap());
    let other = Cli::new(BIN);
    let out = other.run(&["load", "-i", a.to_str().unwrap()]).ok();
    assert_eq!(out.stdout, "Loaded image: busybox:latest\n");
    assert_eq!(
        other.run(&["images", "-q", "--no-trunc"]).ok().stdout,
        format!("{}\n", img.id())
    );
    // The OCI format carries no manifest.json but the same blobs.
    let oci = cli
        .command(&["save", "--format", "oci", "busybox"])
        .output()
        .unwrap()
        .stdout;
    let names: BTreeSet<String> = tar::Archive::new(&oci[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains("index.json") && names.contains("oci-layout"));
    assert!(!names.contains("manifest.json"));
}

#[test]
fn save_refuses_a_terminal_and_leaves_no_partial_file() {
    let cli = Cli::new(BIN);
    let target = cli.scratch().join("out.tar");
    let out = cli
        .run(&["save", "-o", target.to_str().unwrap(), "nosuch"])
        .fails(1);
    assert_eq!(out.stderr, "Error: No such image: nosuch\n");
    assert!(!target.exists());
    assert!(
        files(cli.scratch())
            .iter()
            .all(|f| !f.starts_with(".strata_temp_"))
    );
}

/// Every image and name, for before/after comparisons.
fn listing(cli: &Cli) -> String {
    let fmt = "{{.ID}} {{.Repository}}:{{.Tag}}";
    cli.run(&["images", "-a", "--no-trunc", "--format", fmt])
        .ok()
        .stdout
}

#[track_caller]
fn refused(cli: &Cli, bytes: &[u8], expect: &str) {
    let before = listing(cli);
    let blobs = files(&cli.root().join("blobs-v1/sha256"));
    let out = cli.run_stdin(&["load"], Some(bytes)).fails(1);
    assert_eq!(
        out.stderr.lines().count(),
        1,
        "one-line error expected: {}",
        out.stderr
    );
    assert!(out.stderr.starts_with("Error: "), "{}", out.stderr);
    assert!(
        out.stderr.contains(expect),
        "{:?} should contain {expect:?}",
        out.stderr
    );
    let after = listing(cli);
    assert_eq!(before, after);
    assert_eq!(blobs, files(&cli.root().join("blobs-v1/sha256")));
    assert!(files(&cli.root().join("ingest-v1")).is_empty());
}

#[test]
fn bad_archives_give_one_line_errors_and_change_nothing() {
    let cli = Cli::new(BIN);
    cli.run_stdin(&["load"], Some(&archive(Layout::Legacy, &["keep:1"]).1))
        .ok();
    let (_, good) = archive(Layout::Docker25, &["new:1"]);
    refused(&cli, &good[..good.len() - 3000], "truncated");
    refused(&cli, &gzip(&good)[..5000], "truncated");
    let hostile = |layer: Vec<u8>| {
        DockerArchive {
            images: vec![ArchiveImage::new(vec![layer], &["evil:1"])],
            layout: Layout::Legacy,
        }
        .build()
    };
    refused(
        &cli,
        &hostile(
            TarBuilder::new()
                .file("../../etc/cron.d/x", b"boom")
                .finish(),
        ),
        "outside of the layer root",
    );
    refused(
        &cli,
        &hostile(TarBuilder::new().symlink("etc", "../../../etc").finish()),
        "points outside of the layer root",
    );
    refused(
        &cli,
        &TarBuilder::new()
            .file("../../manifest.json", b"[]")
            .finish(),
        "outside of the archive",
    );
    refused(
        &cli,
        &TarBuilder::new()
            .file("/etc/passwd", b"root::0:0::/:/bin/sh\n")
            .finish(),
        "has an absolute path",
    );
    refused(
        &cli,
        &TarBuilder::new()
            .symlink("manifest.json", "/etc/passwd")
            .finish(),
        "points outside of the archive",
    );
    refused(&cli, b"", "");
    let bomb = gzip(
        &TarBuilder::new()
            .file("zeros", &vec![0u8; 32 << 20])
            .finish(),
    );
    let out = cli
        .command(&["load"])
        .env("STRATA_EXPANSION_LIMIT", "100:1048576")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            let _ = c.stdin.take().unwrap().write_all(&bomb);
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("decompression bomb"));
    assert!(files(&cli.root().join("ingest-v1")).is_empty());
}

/// Checks that every image the store lists has all its blobs: `save` reads
/// each of them and verifies sizes.
fn assert_consistent(cli: &Cli) {
    let ids = cli.run(&["images", "-a", "-q", "--no-trunc"]).ok().stdout;
    let out = cli.scratch().join("consistent.tar");
    for id in ids.lines().collect::<BTreeSet<_>>() {
        cli.run(&["save", "-o", out.to_str().unwrap(), id]).ok();
    }
}

#[test]
fn kill_9_during_load_leaves_a_consistent_store_and_gc_cleans_up() {
    let cli = Cli::new(BIN);
    // A big enough archive (several layers) that a kill lands mid-way.
    let layers: Vec<Vec<u8>> = (0..6)
        .map(|i| {
            TarBuilder::new()
                .file("data", &vec![i as u8 + 1; 8 << 20])
                .finish()
        })
        .collect();
    let bytes = DockerArchive {
        images: vec![ArchiveImage::new(layers, &["big:1"])],
        layout: Layout::Legacy,
    }
    .build();
    let path = cli.scratch().join("big.tar");
    std::fs::write(&path, &bytes).unwrap();
    let mut rng_state = 0x2545_f491_4f6c_dd1du64;
    let mut loaded = 0;
    for round in 0..12 {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        let delay = Duration::from_millis(rng_state % 400);
        let mut child = cli
            .command(&["load", "-q", "-i", path.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.success() {
            loaded += 1;
        }
        assert_consistent(&cli);
        if round % 3 == 2 {
            cli.run(&["rmi", "-f", "big:1"]);
        }
    }
    // A dead load's lease and partial files are gone after GC.
    cli.run(&["system", "prune", "-f"]).ok();
    assert!(files(&cli.root().join("ingest-v1")).is_empty());
    let listed = cli.run(&["images", "-q"]).ok().stdout;
    let blobs = files(&cli.root().join("blobs-v1/sha256")).len();
    // Either the image is complete (manifest, config, 6 layers) or nothing is left.
    assert!(
        (listed.is_empty() && blobs == 0) || (!listed.is_empty() && blobs == 8),
        "loaded={loaded} listed={listed:?} blobs={blobs}"
    );
}

#[test]
fn parallel_processes_share_one_store() {
    let cli = Cli::new(BIN);
    let base = busybox_rootfs(&[]);
    let mut children = Vec::new();
    for i in 0..6 {
        let img = ArchiveImage::new(
            vec![
                base.clone(),
                TarBuilder::new()
                    .file("n", format!("{i}").as_bytes())
                    .finish(),
            ],
            &[&format!("app{i}:1")],
        );
        let bytes = DockerArchive {
            images: vec![img],
            layout: Layout::Legacy,
        }
        .build();
        let mut child = cli
            .command(&["load", "-q"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(&bytes));
        children.push((child, writer));
    }
    for (mut c, w) in children {
        w.join().unwrap().unwrap();
        assert!(c.wait().unwrap().success());
    }
    let out = cli
        .run(&["images", "--format", "{{.Repository}}"])
        .ok()
        .stdout;
    let repos: BTreeSet<&str> = out.lines().collect();
    assert_eq!(repos.len(), 6, "{out}");
    // The shared base is one blob: 6 x (manifest, config, top) + 1 base.
    assert_eq!(files(&cli.root().join("blobs-v1/sha256")).len(), 19);
    assert_consistent(&cli);
}

#[test]
fn gc_running_during_loads_never_breaks_an_image() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let cli = Cli::new(BIN);
    let base = busybox_rootfs(&[]);
    let stop = AtomicBool::new(false);
    /// Stops the pruner even when an assertion below panics, so the scope
    /// can end and report it instead of waiting forever.
    struct Stop<'a>(&'a AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    std::thread::scope(|s| {
        // A pruner collecting garbage in a loop while loads share a base layer.
        let pruner = s.spawn(|| {
            let mut runs = 0;
            while !stop.load(Ordering::Relaxed) {
                cli.run(&["system", "prune", "-f"]).ok();
                runs += 1;
            }
            runs
        });
        let _stop = Stop(&stop);
        for i in 0..8 {
            let top = TarBuilder::new()
                .file("n", format!("{i}").as_bytes())
                .finish();
            let img = ArchiveImage::new(vec![base.clone(), top], &[&format!("app{i}:1")]);
            let bytes = DockerArchive {
                images: vec![img],
                layout: Layout::Legacy,
            }
            .build();
            cli.run_stdin(&["load", "-q"], Some(&bytes)).ok();
            assert_consistent(&cli);
        }
        drop(_stop);
        assert!(pruner.join().unwrap() > 0);
    });
    assert_consistent(&cli);
    assert_eq!(cli.run(&["images", "-q"]).ok().stdout.lines().count(), 8);
}

/// Regression: `save -o /dev/null` renamed its temporary file over
/// /dev/null, replacing the device with a regular file. A FIFO stands in
/// for the device here: the archive must flow through it and the FIFO must
/// still be a FIFO afterwards.
#[test]
fn save_to_a_fifo_or_device_writes_through_it_instead_of_replacing_it() {
    use std::os::unix::fs::FileTypeExt;
    let cli = Cli::new(BIN);
    cli.run_stdin(&["load"], Some(&archive(Layout::Legacy, &["x:1"]).1))
        .ok();
    let fifo = cli.scratch().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    cli.run(&["save", "-o", fifo.to_str().unwrap(), "x:1"]).ok();
    let through = reader.join().unwrap();
    let direct = cli.command(&["save", "x:1"]).output().unwrap().stdout;
    assert_eq!(through, direct);
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}
