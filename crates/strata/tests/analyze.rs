//! `strata analyze`: wasted bytes from files a later layer overwrites or
//! deletes, efficiency, and dive's CI rules deciding the exit code.

use strata_test_support::{ArchiveImage, Cli, TarBuilder};

const BIN: &str = env!("CARGO_BIN_EXE_strata");

/// Base: /etc/base (1000 B), /app/old (300 B). Layer 1 adds /app/big
/// (100 kB); layer 2 deletes it and rewrites /app/old (200 B).
fn loaded() -> Cli {
    let cli = Cli::new(BIN);
    let img = ArchiveImage::new(
        vec![
            TarBuilder::new()
                .dir("etc")
                .file("etc/base", &[1; 1000])
                .dir("app")
                .file("app/old", &[2; 300])
                .finish(),
            TarBuilder::new()
                .dir("app")
                .file("app/big", &[3; 100_000])
                .finish(),
            TarBuilder::new()
                .dir("app")
                .file("app/.wh.big", b"")
                .file("app/old", &[4; 200])
                .finish(),
        ],
        &["wasteful:1"],
    );
    cli.load_images(vec![img]);
    cli
}

#[test]
fn analyze_counts_overwritten_and_deleted_files_as_wasted() {
    let cli = loaded();
    let out = cli
        .run(&["analyze", "--format", "json", "wasteful:1"])
        .ok()
        .stdout;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["total_bytes"], 101_500);
    assert_eq!(v["wasted_bytes"], 100_300);
    assert_eq!(v["user_bytes"], 100_200);
    assert_eq!(v["user_wasted_bytes"], 100_000);
    let sizes: Vec<u64> = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["size"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, [1300, 100_000, 200]);
    assert_eq!(v["wasted_paths"][0]["path"], "app/big");
    assert_eq!(v["wasted_paths"][0]["wasted"], 100_000);
    assert_eq!(v["wasted_paths"][1]["path"], "app/old");
    assert_eq!(v["wasted_paths"][1]["count"], 2);
    assert_eq!(v["largest"][0], serde_json::json!(["etc/base", 1000]));
    let eff = v["efficiency"].as_f64().unwrap();
    assert!((eff - 1200.0 / 101_500.0).abs() < 1e-9, "{eff}");

    let text = cli.run(&["analyze", "wasteful:1"]).ok().stdout;
    assert!(text.contains("Potential wasted space: 100.3kB\n"), "{text}");
    assert!(text.contains("Image efficiency score: 1.2 %\n"), "{text}");
    assert!(text.contains("  2      300B        /app/old\n"), "{text}");
}

#[test]
fn analyze_ci_fails_like_dive_when_a_rule_is_broken() {
    let cli = loaded();
    let out = cli.run(&["analyze", "--ci", "wasteful:1"]).fails(1).stdout;
    assert!(
        out.contains("  FAIL: lowestEfficiency: image efficiency is too low (efficiency=0.0118 < threshold=0.9)\n"),
        "{out}"
    );
    assert!(
        out.contains("  SKIP: highestWastedBytes: rule disabled\n"),
        "{out}"
    );
    assert!(
        out.ends_with("Result:FAIL [Total:3] [Passed:0] [Failed:2] [Warn:0] [Skipped:1]\n"),
        "{out}"
    );
    let out = cli
        .run(&[
            "analyze",
            "--ci",
            "--lowest-efficiency",
            "0.01",
            "--highest-wasted-bytes",
            "1MB",
            "--highest-user-wasted-percent",
            "disabled",
            "wasteful:1",
        ])
        .ok()
        .stdout;
    assert!(
        out.ends_with("Result:PASS [Total:3] [Passed:2] [Failed:0] [Warn:0] [Skipped:1]\n"),
        "{out}"
    );
    let out = cli.run(&["analyze", "nope:1"]).fails(1);
    assert!(
        out.stderr.contains("No such image: nope:1"),
        "{}",
        out.stderr
    );
}
