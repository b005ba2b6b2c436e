//! Reaching registries that are not on a loopback name: HTTPS with the
//! registry's CA from a `certs.d` directory, or plain HTTP when listed as
//! insecure. The registry is Debian's `docker-registry` on 127.0.0.1,
//! reached as `registry.strata.test`: each strata run gets its own mount
//! namespace with an `/etc/hosts` that says so (root only).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use strata_test_support::{Cli, Distribution, Output};

const BIN: &str = env!("CARGO_BIN_EXE_strata");
const NAME: &str = "registry.strata.test";

/// A CA and a certificate for [`NAME`] it signed, made with `openssl`.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("ext.cnf"),
            format!(
                "subjectAltName=DNS:{NAME}\nbasicConstraints=CA:FALSE\n\
                 keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
            ),
        )
        .unwrap();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        openssl(
            d,
            &[
                &["req", "-x509"],
                &ec[..],
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.crt",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=strata test CA",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                ],
            ]
            .concat(),
        );
        openssl(
            d,
            &[
                &["req"],
                &ec[..],
                &[
                    "-keyout",
                    "server.key",
                    "-out",
                    "server.csr",
                    "-subj",
                    &format!("/CN={NAME}"),
                ],
            ]
            .concat(),
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
            ],
        );
        Pki { dir }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("tests need the openssl command");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `/etc/hosts` for the strata runs: [`NAME`] is 127.0.0.1.
fn hosts_file(cli: &Cli) -> PathBuf {
    let path = cli.scratch().join("hosts");
    std::fs::write(&path, format!("127.0.0.1 localhost\n127.0.0.1 {NAME}\n")).unwrap();
    path
}

/// Runs strata where [`NAME`] resolves to 127.0.0.1.
fn run(cli: &Cli, args: &[&str], env: &[(&str, &str)]) -> Output {
    let hosts = hosts_file(cli);
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount --bind "$0" /etc/hosts && exec "$@""#)
        .arg(&hosts)
        .arg(BIN)
        .args(args)
        .env("STRATA_ROOT", cli.root())
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("STRATA_INSECURE_REGISTRIES")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("tests need unshare (util-linux) and root");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn port(reg: &Distribution) -> &str {
    reg.host.rsplit_once(':').unwrap().1
}

#[test]
fn https_registry_is_trusted_through_its_ca_in_certs_d_needs_root() {
    let pki = Pki::new();
    let reg = Distribution::start_with_tls(&pki.path("server.crt"), &pki.path("server.key"));
    let domain = format!("{NAME}:{}", port(&reg));
    let name = format!("{domain}/secure/bb:1");
    let a = Cli::with_busybox(BIN, &name);
    let id = a.run(&["images", "-q", "--no-trunc", &name]).ok().stdout;
    let certs_d = a.scratch().join("certs.d");
    std::fs::create_dir_all(&certs_d).unwrap();
    let env = [("STRATA_CERTS_D", certs_d.to_str().unwrap())];

    // Without the CA: refused, saying why.
    let out = run(&a, &["push", &name], &env).fails(1);
    assert!(
        out.stderr
            .contains("x509: certificate signed by unknown authority")
            && out
                .stderr
                .contains(&format!("/etc/docker/certs.d/{domain}/ca.crt")),
        "{}",
        out.stderr
    );

    // With it: push and pull work.
    std::fs::create_dir_all(certs_d.join(&domain)).unwrap();
    std::fs::copy(pki.path("ca.crt"), certs_d.join(&domain).join("ca.crt")).unwrap();
    let out = run(&a, &["push", &name], &env).ok().stdout;
    let digest = out
        .lines()
        .last()
        .unwrap()
        .split(' ')
        .nth(2)
        .unwrap()
        .to_owned();
    assert!(digest.starts_with("sha256:"), "{out}");
    let b = Cli::new(BIN);
    let out = run(&b, &["pull", &name], &env).ok().stdout;
    assert!(out.contains(&format!("Digest: {digest}\n")), "{out}");
    assert_eq!(
        b.run(&["images", "-q", "--no-trunc", &name]).ok().stdout,
        id
    );
}

#[test]
fn insecure_registries_are_reached_over_plain_http_needs_root() {
    let reg = Distribution::start();
    let domain = format!("{NAME}:{}", port(&reg));
    let name = format!("{domain}/plain/bb:1");
    let a = Cli::with_busybox(BIN, &name);

    // Not a loopback name and not listed: HTTPS, which a plain HTTP
    // registry cannot answer.
    let out = run(&a, &["push", &name], &[]).fails(1);
    assert!(
        out.stderr.contains(&format!("https://{domain}/v2/")),
        "{}",
        out.stderr
    );

    let out = run(
        &a,
        &["push", &name],
        &[(
            "STRATA_INSECURE_REGISTRIES",
            &format!("other.lan, {domain}"),
        )],
    )
    .ok()
    .stdout;
    assert!(
        out.lines()
            .last()
            .unwrap()
            .starts_with("1: digest: sha256:"),
        "{out}"
    );
    let b = Cli::new(BIN);
    run(
        &b,
        &["pull", "-q", &name],
        &[("STRATA_INSECURE_REGISTRIES", NAME)],
    )
    .ok();
}
