//! Container and volume records: names are unique, lookups follow Docker's
//! order, containers protect their images from rmi, prune and GC, and
//! volumes in use cannot be removed. Needs Debian's busybox-static for the
//! fixture root filesystem.

use strata_core::{Platform, Reference, Timestamp};
use strata_store::{
    ContainerRecord, ContainerStatus, ExpansionLimit, ImportOptions, Store, StoreError,
};
use strata_test_support::busybox_rootfs;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("root")).unwrap();
    (dir, store)
}

fn import(store: &Store, names: &[&str]) -> strata_store::ImageRecord {
    let opts = ImportOptions {
        config: None,
        message: None,
        created: Timestamp::from_unix(1_700_000_000, 0),
        platform: Platform::host(),
        names: names
            .iter()
            .map(|n| Reference::parse_normalized(n).unwrap().with_default_tag())
            .collect(),
        limit: ExpansionLimit::default(),
    };
    let tar = busybox_rootfs(&[]);
    store.import(&tar[..], &opts).unwrap().0
}

fn record(id_byte: char, name: &str, image: &strata_store::ImageRecord) -> ContainerRecord {
    ContainerRecord {
        id: std::iter::repeat_n(id_byte, 64).collect(),
        name: name.into(),
        image: image.id.clone(),
        image_manifest: image.manifest.digest.clone(),
        image_ref: "busybox".into(),
        spec: "{}".into(),
        created_ns: 1,
        status: ContainerStatus::Created,
        pid: None,
        shim: None,
        exit_code: None,
        started_ns: None,
        finished_ns: None,
        restart_count: 0,
        error: None,
    }
}

#[test]
fn a_taken_container_name_is_dockers_conflict() {
    let (_d, store) = store();
    let img = import(&store, &["busybox"]);
    store
        .container_create(&record('a', "web", &img), &[])
        .unwrap();
    let err = store
        .container_create(&record('b', "web", &img), &[])
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "Conflict. The container name \"/web\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
            "a".repeat(64)
        )
    );
}

#[test]
fn containers_are_found_by_id_name_and_unique_prefix() {
    let (_d, store) = store();
    let img = import(&store, &["busybox"]);
    store
        .container_create(&record('a', "web", &img), &[])
        .unwrap();
    let mut b = record('b', "db", &img);
    b.id = format!("ab{}", "c".repeat(62));
    store.container_create(&b, &[]).unwrap();
    assert_eq!(store.container_find("web").unwrap().id, "a".repeat(64));
    assert_eq!(store.container_find("/db").unwrap().id, b.id);
    assert_eq!(store.container_find("abc").unwrap().id, b.id);
    assert_eq!(store.container_find(&"a".repeat(64)).unwrap().name, "web");
    let err = store.container_find("a").unwrap_err();
    assert_eq!(
        err.to_string(),
        "multiple containers found with provided prefix: a"
    );
    let err = store.container_find("nope").unwrap_err();
    assert!(matches!(err, StoreError::ContainerNotFound(_)));
    assert_eq!(err.to_string(), "No such container: nope");
}

#[test]
fn rmi_of_an_image_a_container_uses_follows_dockers_conflicts() {
    let (_d, store) = store();
    let img = import(&store, &["busybox"]);
    store
        .container_create(&record('a', "web", &img), &[])
        .unwrap();
    let short = &img.id.hex()[..12];

    let err = store
        .remove_image("busybox", false)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "conflict: unable to remove repository reference \"busybox\" (must force) - container aaaaaaaaaaaa is using its referenced image {short}"
        )
    );
    let err = store.remove_image(short, false).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "conflict: unable to delete {short} (must be forced) - image is being used by stopped container aaaaaaaaaaaa"
        )
    );
    // Image prune, even -a, leaves it.
    assert!(store.prune_images(true).unwrap().records.is_empty());
    assert_eq!(store.images().unwrap().len(), 1);

    // -f deletes the image, yet GC keeps its blobs for the container.
    store.remove_image(short, true).unwrap();
    assert!(store.images().unwrap().is_empty());
    store.gc(false).unwrap();
    assert!(store.has_blob(&img.id));
    assert!(store.has_blob(&img.manifest.digest));
    store.container_delete(&"a".repeat(64)).unwrap();
    store.gc(false).unwrap();
    assert!(!store.has_blob(&img.id));
}

#[test]
fn rmi_f_cannot_delete_an_image_a_running_container_uses() {
    let (_d, store) = store();
    let img = import(&store, &["busybox"]);
    let mut rec = record('a', "web", &img);
    rec.status = ContainerStatus::Running;
    // This test process stands in for the shim: it is alive.
    let me = std::process::id();
    let start = std::fs::read_to_string(format!("/proc/{me}/stat")).unwrap();
    let start: u64 = start
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap();
    rec.shim = Some((me, start));
    store.container_create(&rec, &[]).unwrap();
    assert!(store.container_find("web").unwrap().is_running());
    let short = &img.id.hex()[..12];
    let err = store.remove_image(short, true).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "conflict: unable to delete {short} (cannot be forced) - image is being used by running container aaaaaaaaaaaa"
        )
    );
    // A dead shim means not running.
    store
        .container_update(&rec.id, |r| r.shim = Some((me, start + 1)))
        .unwrap();
    assert!(!store.container_find("web").unwrap().is_running());
}

#[test]
fn a_volume_in_use_cannot_be_removed() {
    let (_d, store) = store();
    let img = import(&store, &["busybox"]);
    store.volume_create("data", "{}", false, 5).unwrap();
    store
        .container_create(&record('a', "web", &img), &["data".into()])
        .unwrap();
    assert_eq!(store.volume_users("data").unwrap(), vec!["a".repeat(64)]);
    let err = store.volume_delete("data").unwrap_err().to_string();
    assert_eq!(
        err,
        format!("remove data: volume is in use - [{}]", "a".repeat(64))
    );
    store.container_delete(&"a".repeat(64)).unwrap();
    assert!(store.volume_users("data").unwrap().is_empty());
    store.volume_delete("data").unwrap();
    assert!(store.volume("data").unwrap().is_none());
    let err = store.volume_delete("data").unwrap_err();
    assert!(matches!(err, StoreError::VolumeNotFound(_)));
}
