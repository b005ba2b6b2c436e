//! `strata lint`: findings as text, JSON and SARIF, suppression, exit codes
//! and bad input.

use strata_test_support::Cli;

const BIN: &str = env!("CARGO_BIN_EXE_strata");

/// Breaks most rules once.
const BAD: &str = "\
FROM ubuntu
from alpine:latest AS Builder
FROM builder AS builder
FROM --platform=$TARGETPLATFORM $BASE
MAINTAINER someone@example.com
ARG DB_PASSWORD
ENV API_TOKEN abc
LABEL version 1
EXPOSE 70000
WORKDIR app
ADD config.json /etc/app/
COPY a b c
COPY --from=nowhere /x /y
COPY . .
RUN apt-get update && apt-get install curl && apt-get upgrade
RUN cd /tmp && sudo make && curl -s https://get.example | sh && wget -q x
RUN pip install flask && apk add git && apt install vim && service ssh start
COPY $UNDEFINED_THING /z
HEALTHCHECK CMD true
HEALTHCHECK CMD false
CMD echo one
CMD [\"two\"]
ENTRYPOINT [\"a\"]
ENTRYPOINT [\"b\"]
USER root
";

fn codes(json: &str) -> std::collections::BTreeSet<String> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn lint_reports_at_least_25_rules_with_positions_and_hints() {
    let cli = Cli::new(BIN);
    let out = cli
        .run_stdin(
            &["lint", "--format", "json", "-f", "-"],
            Some(BAD.as_bytes()),
        )
        .fails(1)
        .stdout;
    let found = codes(&out);
    for want in [
        "DL3006",
        "DL3007",
        "StageNameCasing",
        "FromAsCasing",
        "DL3024",
        "RedundantTargetPlatform",
        "UndefinedArgInFrom",
        "DL4000",
        "SecretsUsedInArgOrEnv",
        "LegacyKeyValueFormat",
        "DL3011",
        "DL3000",
        "DL3020",
        "DL3021",
        "DL3022",
        "ST003",
        "DL3009",
        "DL3014",
        "DL3015",
        "DL3005",
        "DL3003",
        "DL3004",
        "ST002",
        "DL4006",
        "DL4001",
        "DL3042",
        "DL3019",
        "DL3027",
        "DL3001",
        "UndefinedVar",
        "DL3012",
        "DL4003",
        "DL3025",
        "DL4004",
        "DL3002",
        "ConsistentInstructionCasing",
    ] {
        assert!(found.contains(want), "{want} not reported: {found:?}");
    }
    assert!(found.len() >= 25);
    let text = cli
        .run_stdin(&["lint", "-"], Some(BAD.as_bytes()))
        .fails(1)
        .stdout;
    assert!(
        text.contains("\n<stdin>:1:1 DL3006 warning: Always tag the version of an image explicitly (ubuntu) (hint: "),
        "{text}"
    );
    assert!(
        text.contains("<stdin>:5:1 DL4000 warning: MAINTAINER is deprecated"),
        "{text}"
    );
}

#[test]
fn a_clean_dockerfile_with_heredocs_passes() {
    let cli = Cli::new(BIN);
    let df = cli.scratch().join("Dockerfile");
    std::fs::write(
        &df,
        "FROM debian:12 AS build\nRUN <<EOF\nset -e\napt-get update\napt-get install -y --no-install-recommends make\nrm -rf /var/lib/apt/lists/*\nEOF\nCOPY <<EOF /etc/app.conf\nkey=value\nEOF\nFROM debian:12-slim\nCOPY --from=build /etc/app.conf /etc/\nUSER 1000\nCMD [\"sleep\", \"1\"]\n",
    )
    .unwrap();
    let out = cli.run(&["lint", df.to_str().unwrap()]).ok();
    assert_eq!(out.stdout, "");
}

#[test]
fn suppression_inline_by_directive_by_flag_and_by_config() {
    let cli = Cli::new(BIN);
    let dir = cli.scratch().join("proj");
    std::fs::create_dir(&dir).unwrap();
    let df = dir.join("Dockerfile");
    std::fs::write(
        &df,
        "# check=skip=JSONArgsRecommended\n# hadolint ignore=DL3006\nFROM ubuntu\nMAINTAINER x\nUSER app\nCMD echo hi\n",
    )
    .unwrap();
    let out = cli
        .run(&["lint", "--format", "json", df.to_str().unwrap()])
        .fails(1)
        .stdout;
    assert_eq!(codes(&out).into_iter().collect::<Vec<_>>(), ["DL4000"]);
    // By flag (alias), then by the config file beside the Dockerfile.
    cli.run(&[
        "lint",
        "--ignore",
        "MaintainerDeprecated",
        df.to_str().unwrap(),
    ])
    .ok();
    std::fs::write(dir.join(".strata-lint.toml"), "ignore = [\"DL4000\"]\n").unwrap();
    cli.run(&["lint", df.to_str().unwrap()]).ok();
    // A threshold above the findings' level passes.
    std::fs::remove_file(dir.join(".strata-lint.toml")).unwrap();
    cli.run(&["lint", "--failure-threshold", "error", df.to_str().unwrap()])
        .ok();
}

#[test]
fn sarif_output_has_rules_and_located_results() {
    let cli = Cli::new(BIN);
    let out = cli
        .run_stdin(
            &["lint", "--format", "sarif", "-"],
            Some(b"FROM ubuntu\nUSER app\n"),
        )
        .fails(1)
        .stdout;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "strata lint");
    assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "DL3006");
    assert_eq!(
        run["tool"]["driver"]["rules"][0]["helpUri"],
        "https://github.com/hadolint/hadolint/wiki/DL3006"
    );
    let r = &run["results"][0];
    assert_eq!(r["ruleId"], "DL3006");
    assert_eq!(r["level"], "warning");
    assert_eq!(
        r["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
}

#[test]
fn bad_input_gives_findings_or_errors_never_a_crash() {
    let cli = Cli::new(BIN);
    let out = cli.run(&["lint", "/nonexistent/Dockerfile"]).fails(1);
    assert!(
        out.stderr.contains("open /nonexistent/Dockerfile"),
        "{}",
        out.stderr
    );
    for input in [
        vec![0u8, 159, 146, 150, 255, 0, 10],
        format!("FROM x:1\nRUN {}\n", "a".repeat(1 << 20)).into_bytes(),
        b"FROM x:1\nRUN <<EOF\nnever ends\n".to_vec(),
        b"COPY --from= / /\nFROM\n".to_vec(),
    ] {
        let out = cli.run_stdin(&["lint", "--format", "json", "-"], Some(&input));
        assert!(
            out.code == 0 || out.code == 1,
            "exit {}: {}",
            out.code,
            out.stderr
        );
        let _: serde_json::Value =
            serde_json::from_str(&out.stdout).expect("JSON even for garbage");
    }
}
