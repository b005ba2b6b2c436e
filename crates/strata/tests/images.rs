//! Image management commands as a user sees them: exact output of
//! `images`, `tag`, `rmi`, `history`, `inspect`, `image prune` and
//! `system df`, exit codes and error messages. Expected texts were taken
//! from Docker 20.10/28 on the same inputs. Needs busybox-static.

use strata_format::units::human_size_with_precision;
use strata_test_support::{Cli, busybox_rootfs, days_ago, redact};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

/// Imports the busybox rootfs as `name`, created three days ago, and
/// returns the image ID it printed.
fn import(cli: &Cli, name: &str, extra: &[(&str, &[u8])]) -> String {
    import_at(cli, name, days_ago(3), extra)
}

/// Imports the busybox rootfs (plus `extra` files) created at `created`.
fn import_at(cli: &Cli, name: &str, created: i64, extra: &[(&str, &[u8])]) -> String {
    let env = [("SOURCE_DATE_EPOCH", created.to_string())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = cli
        .run_env(&["import", "-", name], &env, Some(&busybox_rootfs(extra)))
        .ok();
    out.stdout.trim().to_owned()
}

fn busybox_size() -> String {
    let n = std::fs::metadata("/usr/bin/busybox").unwrap().len() + 6 * 7;
    human_size_with_precision(n as f64, 3)
}

#[test]
fn images_table_matches_docker_layout() {
    let cli = Cli::new(BIN);
    let id = import(&cli, "bb:imp", &[]);
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    let out = cli.run(&["images"]).ok();
    let size = busybox_size();
    assert_eq!(
        redact(&out.stdout),
        format!(
            "REPOSITORY   TAG       IMAGE ID       CREATED      SIZE\n\
             bb           imp       [ID]   3 days ago   {size}\n"
        )
    );
    // `image ls` and `image list` are the same command.
    assert_eq!(cli.run(&["image", "ls"]).ok().stdout, out.stdout);
    assert_eq!(cli.run(&["image", "list"]).ok().stdout, out.stdout);
}

#[test]
fn images_quiet_lists_one_id_per_row_like_docker() {
    let cli = Cli::new(BIN);
    let id = import(&cli, "bb:1", &[]);
    cli.run(&["tag", "bb:1", "zz:1"]).ok();
    let short = &id["sha256:".len().."sha256:".len() + 12];
    assert_eq!(
        cli.run(&["images", "-q"]).ok().stdout,
        format!("{short}\n{short}\n")
    );
    assert_eq!(
        cli.run(&["images", "-q", "--no-trunc", "zz"]).ok().stdout,
        format!("{id}\n")
    );
}

#[test]
fn images_format_json_and_templates() {
    let cli = Cli::new(BIN);
    import(&cli, "bb:imp", &[]);
    let json = cli.run(&["images", "--format", "json"]).ok().stdout;
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["Repository"], "bb");
    assert_eq!(v["Tag"], "imp");
    assert_eq!(v["CreatedSince"], "3 days ago");
    assert_eq!(v["Containers"], "N/A");
    // Go escapes < and > in JSON, and Docker's output has them.
    assert!(json.contains(r#""Digest":"\u003cnone\u003e""#), "{json}");
    let out = cli
        .run(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"])
        .ok();
    assert_eq!(out.stdout, format!("bb:imp {}\n", busybox_size()));
    let out = cli
        .run(&["images", "--format", "table {{.Repository}}\\t{{.Tag}}"])
        .ok();
    assert_eq!(out.stdout, "REPOSITORY   TAG\nbb           imp\n");
}

#[test]
fn images_filters() {
    let cli = Cli::new(BIN);
    import(&cli, "aa:1", &[]);
    import(&cli, "bb:1", &[("marker", b"x")]);
    import(&cli, "bb:2", &[("marker", b"y")]);
    cli.run(&["tag", "bb:2", "bb:3"]).ok();
    cli.run(&["rmi", "bb:2", "bb:3"]).ok();
    let fmt = ["--format", "{{.Repository}}:{{.Tag}}"];
    let list = |extra: &[&str]| {
        let mut args = vec!["images"];
        args.extend_from_slice(&fmt);
        args.extend_from_slice(extra);
        cli.run(&args).ok().stdout
    };
    assert_eq!(list(&["-f", "reference=b*"]), "bb:1\n");
    assert_eq!(list(&["bb"]), "bb:1\n");
    assert_eq!(list(&["-f", "reference=*:1"]), "bb:1\naa:1\n");
    assert_eq!(list(&["-f", "dangling=false"]), "bb:1\naa:1\n");
    assert_eq!(list(&["-f", "dangling=true"]), "");
    let bad = cli.run(&["images", "-f", "foo=bar"]).fails(1);
    assert_eq!(bad.stderr, "Error: Invalid filter 'foo'\n");
    let bad = cli.run(&["images", "-f", "dangling=maybe"]).fails(1);
    assert_eq!(bad.stderr, "Error: Invalid filter 'dangling=[maybe]'\n");
    let bad = cli.run(&["images", "-f", "foo"]).fails(125);
    assert!(bad.stderr.starts_with("invalid argument \"foo\" for \"-f, --filter\" flag: bad format of filter (expected name=value)"));
}

#[test]
fn untagged_image_shows_as_none_and_dangling() {
    let cli = Cli::new(BIN);
    import(&cli, "bb:1", &[]);
    import(&cli, "bb:1", &[("marker", b"new")]);
    let out = cli
        .run(&["images", "--format", "{{.Repository}} {{.Tag}}"])
        .ok();
    assert_eq!(out.stdout, "bb 1\n<none> <none>\n");
    let out = cli
        .run(&[
            "images",
            "-f",
            "dangling=true",
            "--format",
            "{{.Repository}}",
        ])
        .ok();
    assert_eq!(out.stdout, "<none>\n");
}

#[test]
fn tag_and_rmi_untag_then_delete_like_docker() {
    let cli = Cli::new(BIN);
    import(&cli, "bb:imp", &[]);
    cli.run(&["tag", "bb:imp", "bb:two"]).ok();
    cli.run(&["tag", "bb:imp", "other:x"]).ok();
    assert_eq!(
        cli.run(&["rmi", "bb:imp"]).ok().stdout,
        "Untagged: bb:imp\n"
    );
    let id = cli
        .run(&["images", "-q", "bb"])
        .ok()
        .stdout
        .trim()
        .to_owned();
    let conflict = cli.run(&["rmi", &id]).fails(1);
    assert_eq!(
        conflict.stderr,
        format!(
            "Error: conflict: unable to delete {id} (must be forced) - image is referenced in multiple repositories\n"
        )
    );
    let out = cli.run(&["rmi", "-f", &id]).ok();
    assert_eq!(
        redact(&out.stdout),
        "Untagged: bb:two\nUntagged: other:x\nDeleted: sha256:[DIGEST]\nDeleted: sha256:[DIGEST]\n"
    );
    assert_eq!(cli.run(&["images", "-q"]).ok().stdout, "");
    // The blobs went with the image.
    assert_eq!(
        std::fs::read_dir(cli.root().join("blobs-v1/sha256"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn rmi_of_an_image_sharing_its_layer_deletes_no_layer() {
    let cli = Cli::new(BIN);
    import(&cli, "bb:1", &[]);
    let tar = busybox_rootfs(&[]);
    let out = cli
        .run_stdin(&["import", "-m", "other message", "-", "bb:2"], Some(&tar))
        .ok();
    let id2 = out.stdout.trim();
    let out = cli.run(&["rmi", "bb:2"]).ok();
    assert_eq!(out.stdout, format!("Untagged: bb:2\nDeleted: {id2}\n"));
}

#[test]
fn errors_name_the_image_and_exit_1() {
    let cli = Cli::new(BIN);
    let out = cli.run(&["rmi", "nosuch"]).fails(1);
    assert_eq!(out.stderr, "Error: No such image: nosuch:latest\n");
    let out = cli.run(&["rmi", "-f", "nosuch"]).ok();
    assert_eq!(out.stderr, "Error: No such image: nosuch:latest\n");
    let out = cli.run(&["image", "inspect", "nosuch"]).fails(1);
    assert_eq!(out.stdout, "[]\n");
    assert_eq!(out.stderr, "Error: No such image: nosuch\n");
    let out = cli.run(&["history", "nosuch"]).fails(1);
    assert_eq!(out.stderr, "Error: No such image: nosuch:latest\n");
    let target = cli.scratch().join("never.tar");
    let out = cli
        .run(&["save", "-o", target.to_str().unwrap(), "nosuch"])
        .fails(1);
    assert_eq!(out.stderr, "Error: No such image: nosuch\n");
    import(&cli, "bb:1", &[]);
    let out = cli.run(&["tag", "bb:1", "Foo"]).fails(1);
    assert_eq!(
        out.stderr,
        "Error: invalid reference format: repository name (library/Foo) must be lowercase\n"
    );
    let out = cli.run(&["tag", "bb:1", "bad:tag:x"]).fails(1);
    assert_eq!(out.stderr, "Error: invalid reference format\n");
    let out = cli.run(&["images", "--bogus"]).fails(125);
    assert!(out.stderr.contains("--bogus"), "{}", out.stderr);
}

#[test]
fn history_shows_the_import() {
    let cli = Cli::new(BIN);
    import(&cli, "bb:1", &[]);
    let out = cli.run(&["history", "bb:1"]).ok();
    let size = busybox_size();
    assert_eq!(
        redact(&out.stdout),
        format!(
            "IMAGE          CREATED      CREATED BY   SIZE      COMMENT\n\
             [ID]   3 days ago                {size}    Imported from -\n"
        )
    );
    let q = cli.run(&["history", "-q", "bb:1"]).ok();
    assert_eq!(redact(&q.stdout), "[ID]\n");
}

#[test]
fn inspect_has_dockers_shape() {
    let cli = Cli::new(BIN);
    let args = [
        "import",
        "-c",
        "CMD [\"/bin/sh\"]",
        "-c",
        "ENV A=1",
        "-m",
        "hello msg",
        "-",
        "bb:imp",
    ];
    let env = [("SOURCE_DATE_EPOCH", "1700000000")];
    let out = cli.run_env(&args, &env, Some(&busybox_rootfs(&[]))).ok();
    let id = out.stdout.trim().to_owned();
    let out = cli.run(&["image", "inspect", "bb:imp"]).ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let img = &v[0];
    assert_eq!(img["Id"], id.as_str());
    assert_eq!(img["RepoTags"], serde_json::json!(["bb:imp"]));
    assert_eq!(img["Comment"], "hello msg");
    assert_eq!(img["Created"], "2023-11-14T22:13:20Z");
    assert_eq!(img["Config"]["Cmd"], serde_json::json!(["/bin/sh"]));
    assert_eq!(img["Config"]["Env"], serde_json::json!(["A=1"]));
    assert_eq!(img["Config"]["Entrypoint"], serde_json::Value::Null);
    assert_eq!(img["Os"], "linux");
    assert_eq!(img["RootFS"]["Type"], "layers");
    assert_eq!(img["RootFS"]["Layers"].as_array().unwrap().len(), 1);
    // Docker's field order and 4-space indentation.
    assert!(
        out.stdout
            .starts_with("[\n    {\n        \"Id\": \"sha256:"),
        "{}",
        out.stdout
    );
    let f = cli
        .run(&[
            "image",
            "inspect",
            "-f",
            "{{.Os}}/{{.Architecture}} {{json .Config.Cmd}}",
            &id,
        ])
        .ok();
    assert_eq!(f.stdout, "linux/amd64 [\"/bin/sh\"]\n");
    // Same image by full ID, short ID and `sha256:` prefix.
    for name in [&id[7..], &id[7..19], &id[..20]] {
        let f = cli.run(&["image", "inspect", "-f", "{{.Id}}", name]).ok();
        assert_eq!(f.stdout.trim(), id);
    }
}

#[test]
fn image_prune_removes_dangling_then_all() {
    let cli = Cli::new(BIN);
    import(&cli, "bb:1", &[]);
    import(&cli, "bb:1", &[("marker", b"new")]);
    let out = cli.run(&["image", "prune", "-f"]).ok();
    let text = redact(&out.stdout);
    assert!(
        text.starts_with("Deleted Images:\ndeleted: sha256:[DIGEST]\n"),
        "{text}"
    );
    assert!(
        text.ends_with("\nTotal reclaimed space: ") || text.contains("\n\nTotal reclaimed space: "),
        "{text}"
    );
    assert_eq!(
        cli.run(&["image", "prune", "-f"]).ok().stdout,
        "Total reclaimed space: 0B\n"
    );
    // Without -f it asks; anything but "y" keeps everything.
    let out = cli.run_stdin(&["image", "prune", "-a"], Some(b"n\n")).ok();
    assert_eq!(
        out.stdout,
        "WARNING! This will remove all images without at least one container associated to them.\n\
         Are you sure you want to continue? [y/N] Total reclaimed space: 0B\n"
    );
    let out = cli.run(&["image", "prune", "-a", "-f"]).ok();
    assert!(
        redact(&out.stdout)
            .starts_with("Deleted Images:\nuntagged: bb:1\ndeleted: sha256:[DIGEST]\n"),
        "{}",
        out.stdout
    );
    assert_eq!(cli.run(&["images", "-q"]).ok().stdout, "");
}

#[test]
fn system_df_counts_shared_blobs_once() {
    let cli = Cli::new(BIN);
    import(&cli, "bb:1", &[]);
    cli.run(&["tag", "bb:1", "bb:2"]).ok();
    let out = cli.run(&["system", "df"]).ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE"
    );
    assert!(
        lines[1].starts_with("Images          1         0         "),
        "{}",
        lines[1]
    );
    assert!(lines[1].ends_with("(100%)"), "{}", lines[1]);
    assert_eq!(lines[2], "Containers      0         0         0B        0B");
}

#[test]
fn images_before_and_since_compare_creation_times() {
    let cli = Cli::new(BIN);
    import_at(&cli, "old:1", days_ago(9), &[("marker", b"old")]);
    import_at(&cli, "mid:1", days_ago(6), &[("marker", b"mid")]);
    import_at(&cli, "new:1", days_ago(3), &[("marker", b"new")]);
    let list = |filter: &str| {
        cli.run(&[
            "images",
            "-f",
            filter,
            "--format",
            "{{.Repository}} {{.CreatedSince}}",
        ])
        .ok()
        .stdout
    };
    assert_eq!(list("before=mid:1"), "old 9 days ago\n");
    assert_eq!(list("since=mid:1"), "new 3 days ago\n");
    assert_eq!(list("since=old:1"), "new 3 days ago\nmid 6 days ago\n");
    let out = cli.run(&["images", "-f", "before=nosuch"]).fails(1);
    assert_eq!(out.stderr, "Error: No such image: nosuch:latest\n");
}

#[test]
fn history_formats() {
    let cli = Cli::new(BIN);
    import(&cli, "bb:1", &[]);
    let out = cli
        .run(&[
            "history",
            "--format",
            "{{.CreatedBy}}|{{.Comment}}|{{.Size}}",
            "bb:1",
        ])
        .ok();
    assert_eq!(out.stdout, format!("|Imported from -|{}\n", busybox_size()));
    let out = cli
        .run(&["history", "--human=false", "--format", "{{.Size}}", "bb:1"])
        .ok();
    let bytes = std::fs::metadata("/usr/bin/busybox").unwrap().len() + 42;
    assert_eq!(out.stdout, format!("{bytes}\n"));
    let out = cli.run(&["history", "--no-trunc", "-q", "bb:1"]).ok();
    assert!(
        out.stdout.starts_with("sha256:") && out.stdout.len() == 72,
        "{}",
        out.stdout
    );
}
