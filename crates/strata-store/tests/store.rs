//! Store behaviour through its public API: import, load, save, dedup, GC,
//! and refusal of bad archives without a trace. Needs Debian's
//! busybox-static for the fixture root filesystem.

use std::collections::BTreeSet;
use std::path::Path;

use strata_core::{Digest, Platform, Reference, Timestamp};
use strata_store::{
    ArchiveFormat, ExpansionLimit, ImportOptions, LoadOptions, SaveItem, Store, StoreError,
};
use strata_test_support::{ArchiveImage, DockerArchive, Layout, TarBuilder, busybox_rootfs, gzip};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("root")).unwrap();
    (dir, store)
}

fn import_opts(name: &str) -> ImportOptions {
    ImportOptions {
        config: None,
        message: None,
        created: Timestamp::from_unix(1_700_000_000, 0),
        platform: Platform::host(),
        names: vec![
            Reference::parse_normalized(name)
                .unwrap()
                .with_default_tag(),
        ],
        limit: ExpansionLimit::default(),
    }
}

/// Everything a user could observe of a store: images, names, blobs, and
/// whether partial files exist.
fn observe(store: &Store) -> (Vec<String>, Vec<String>, BTreeSet<String>, usize) {
    let images = store
        .images()
        .unwrap()
        .into_iter()
        .map(|i| i.id.to_string())
        .collect();
    let names = store
        .names()
        .unwrap()
        .into_iter()
        .map(|n| n.reference.to_string())
        .collect();
    let blobs = list(&store.layout().blobs_dir());
    let partial = list(&store.layout().ingest_root()).len();
    (images, names, blobs, partial)
}

fn list(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn load(store: &Store, bytes: &[u8]) -> Result<Vec<strata_store::LoadedImage>, StoreError> {
    store.load(bytes, &LoadOptions::default())
}

#[test]
fn import_records_dockers_size_and_diff_id() {
    let (_d, store) = store();
    let tar = busybox_rootfs(&[]);
    let (image, _) = store.import(&tar[..], &import_opts("bb:1")).unwrap();
    let busybox = std::fs::metadata("/usr/bin/busybox").unwrap().len();
    // Docker's size: file sizes plus the length of each symlink target.
    assert_eq!(image.size, busybox + 6 * "busybox".len() as u64);
    let config = store.config(&image).unwrap();
    assert_eq!(config.rootfs.diff_ids, vec![Digest::sha256(&tar)]);
    assert_eq!(config.created.as_deref(), Some("2023-11-14T22:13:20Z"));
    assert_eq!(store.resolve("bb:1").unwrap().id, image.id);
    assert_eq!(store.resolve(&image.id.hex()[..8]).unwrap().id, image.id);
}

#[test]
fn import_of_the_same_tarball_twice_is_the_same_image() {
    let (_d, store) = store();
    let tar = gzip(&busybox_rootfs(&[]));
    let (a, _) = store.import(&tar[..], &import_opts("a")).unwrap();
    let (b, _) = store.import(&tar[..], &import_opts("b")).unwrap();
    assert_eq!(a.id, b.id);
    // The gzip tarball is stored as given: one layer blob, compressed.
    assert!(store.has_blob(&Digest::sha256(&tar)));
}

#[test]
fn two_images_sharing_a_base_layer_store_it_once() {
    let (_d, store) = store();
    let base = busybox_rootfs(&[]);
    let top1 = TarBuilder::new().file("one", b"1").finish();
    let top2 = TarBuilder::new().file("two", b"2").finish();
    let archive = DockerArchive {
        images: vec![
            ArchiveImage::new(vec![base.clone(), top1], &["app1:latest"]),
            ArchiveImage::new(vec![base.clone(), top2], &["app2:latest"]),
        ],
        layout: Layout::Legacy,
    };
    let loaded = load(&store, &archive.build()).unwrap();
    assert_eq!(loaded.len(), 2);
    let base_blob = store.layout().blob_path(&Digest::sha256(&base));
    assert!(base_blob.exists());
    // Exactly one file holds the base layer's bytes.
    let copies = list(&store.layout().blobs_dir())
        .into_iter()
        .filter(|n| {
            std::fs::metadata(store.layout().blobs_dir().join(n))
                .unwrap()
                .len()
                == base.len() as u64
        })
        .count();
    assert_eq!(copies, 1);
}

#[test]
fn docker25_layout_keeps_the_manifest_digest_and_tags() {
    let (_d, store) = store();
    let img = ArchiveImage::new(vec![busybox_rootfs(&[])], &["busybox:latest"]);
    let archive = DockerArchive {
        images: vec![img.clone()],
        layout: Layout::Docker25,
    };
    let loaded = load(&store, &archive.build()).unwrap();
    assert_eq!(loaded[0].image.id, img.id());
    assert_eq!(
        loaded[0].names[0].to_string(),
        "docker.io/library/busybox:latest"
    );
    // The manifest is the archive's, byte for byte.
    let m = store.manifest(&loaded[0].image).unwrap();
    assert_eq!(m.digest(), &loaded[0].image.manifest.digest);
    assert!(store.has_blob(m.digest()));
}

#[test]
fn save_then_load_round_trips_ids_in_both_formats() {
    let (_d, store) = store();
    let (image, _) = store
        .import(&busybox_rootfs(&[])[..], &import_opts("bb:rt"))
        .unwrap();
    for format in [ArchiveFormat::Docker, ArchiveFormat::Oci] {
        let items = vec![SaveItem {
            image: image.clone(),
            names: vec![Reference::parse_normalized("bb:rt").unwrap()],
        }];
        let bytes = store.save(&items, format, Vec::new()).unwrap();
        // Deterministic: the same save gives the same bytes.
        assert_eq!(bytes, store.save(&items, format, Vec::new()).unwrap());
        let (_d2, other) = self::store();
        let loaded = load(&other, &bytes).unwrap();
        assert_eq!(loaded[0].image.id, image.id);
        assert_eq!(loaded[0].image.manifest.digest, image.manifest.digest);
        assert_eq!(other.resolve("bb:rt").unwrap().id, image.id);
    }
}

#[track_caller]
fn refused(store: &Store, bytes: &[u8], expect: &str) {
    let before = observe(store);
    let err = load(store, bytes)
        .expect_err("hostile archive must be refused")
        .to_string();
    assert!(
        err.contains(expect),
        "error {err:?} should contain {expect:?}"
    );
    let after = observe(store);
    assert_eq!(before, after, "the store changed after a refused load");
}

#[test]
fn hostile_layers_are_refused_and_leave_no_trace() {
    let (_d, store) = store();
    store
        .import(&busybox_rootfs(&[])[..], &import_opts("keep"))
        .unwrap();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            TarBuilder::new().file("../evil", b"x").finish(),
            "entry \"../evil\" is outside of the layer root",
        ),
        (
            TarBuilder::new().file("a/../../evil", b"x").finish(),
            "is outside of the layer root",
        ),
        (
            TarBuilder::new()
                .dir("a/")
                .symlink("a/link", "../../etc/passwd")
                .finish(),
            "points outside of the layer root",
        ),
        (
            TarBuilder::new().hardlink("h", "../../etc/shadow").finish(),
            "hard link \"h\" -> \"../../etc/shadow\"",
        ),
    ];
    for (layer, msg) in cases {
        for layout in [Layout::Legacy, Layout::Docker25] {
            let a = DockerArchive {
                images: vec![ArchiveImage::new(vec![layer.clone()], &["evil:1"])],
                layout,
            };
            refused(&store, &a.build(), msg);
        }
    }
    // Absolute paths and absolute symlinks resolve inside the root: allowed.
    let fine = TarBuilder::new()
        .file("/etc/motd", b"hi")
        .symlink("lnk", "/etc/motd")
        .finish();
    let a = DockerArchive {
        images: vec![ArchiveImage::new(vec![fine], &["fine:1"])],
        layout: Layout::Legacy,
    };
    load(&store, &a.build()).unwrap();
}

#[test]
fn hostile_archives_are_refused_and_leave_no_trace() {
    let (_d, store) = store();
    store
        .import(&busybox_rootfs(&[])[..], &import_opts("keep"))
        .unwrap();
    let good = DockerArchive {
        images: vec![ArchiveImage::new(vec![busybox_rootfs(&[])], &["good:1"])],
        layout: Layout::Legacy,
    }
    .build();
    refused(&store, &good[..good.len() / 2], "truncated");
    refused(
        &store,
        &TarBuilder::new().file("../manifest.json", b"[]").finish(),
        "outside of the archive",
    );
    refused(
        &store,
        &TarBuilder::new()
            .symlink("manifest.json", "../../etc/passwd")
            .finish(),
        "points outside of the archive",
    );
    refused(
        &store,
        &TarBuilder::new()
            .symlink("manifest.json", "/etc/passwd")
            .finish(),
        "points outside of the archive",
    );
    refused(
        &store,
        &TarBuilder::new().file("hello", b"x").finish(),
        "no manifest.json or index.json",
    );
    refused(
        &store,
        b"this is not a tar archive at all, just some text that goes on",
        "",
    );
    // A config whose diff IDs do not match the layers.
    let mut img = ArchiveImage::new(vec![busybox_rootfs(&[])], &["bad:1"]);
    img.layers[0] = TarBuilder::new().file("other", b"x").finish();
    let a = DockerArchive {
        images: vec![img],
        layout: Layout::Legacy,
    };
    refused(&store, &a.build(), "invalid diffID for layer 0");
    // An OCI blob whose content does not match its name.
    let mut bytes = DockerArchive {
        images: vec![ArchiveImage::new(
            vec![TarBuilder::new().file("f", b"AAAA").finish()],
            &["m:1"],
        )],
        layout: Layout::OciOnly,
    }
    .build();
    let pos = bytes.windows(4).position(|w| w == b"AAAA").unwrap();
    bytes[pos] = b'B';
    refused(&store, &bytes, "digest mismatch");
}

#[test]
fn gzip_bomb_is_refused() {
    let (_d, store) = store();
    let zeros = vec![0u8; 64 << 20];
    let bomb = gzip(&TarBuilder::new().file("zeros", &zeros).finish());
    let before = observe(&store);
    let opts = LoadOptions {
        limit: ExpansionLimit {
            ratio: 100,
            floor: 1 << 20,
        },
    };
    let err = store.load(&bomb[..], &opts).unwrap_err().to_string();
    assert!(err.contains("decompression bomb"), "{err}");
    assert_eq!(observe(&store), before);
}

#[test]
fn gc_frees_blobs_only_when_no_image_uses_them() {
    let (_d, store) = store();
    let base = busybox_rootfs(&[]);
    let archive = DockerArchive {
        images: vec![
            ArchiveImage::new(
                vec![base.clone(), TarBuilder::new().file("1", b"1").finish()],
                &["a:1"],
            ),
            ArchiveImage::new(
                vec![base.clone(), TarBuilder::new().file("2", b"2").finish()],
                &["b:1"],
            ),
        ],
        layout: Layout::Legacy,
    };
    load(&store, &archive.build()).unwrap();
    store.remove_image("a:1", false).unwrap();
    let report = store.gc(false).unwrap();
    // a's manifest, config and top layer go; the shared base stays.
    assert_eq!(report.removed_blobs.len(), 3);
    assert!(store.has_blob(&Digest::sha256(&base)));
    store.remove_image("b:1", false).unwrap();
    store.gc(false).unwrap();
    assert!(list(&store.layout().blobs_dir()).is_empty());
}
