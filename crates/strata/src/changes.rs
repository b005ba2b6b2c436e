//! `--change` instructions for `import` (and later `commit`): the Dockerfile
//! instructions that only touch the image config. Docker accepts CMD,
//! ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME and
//! WORKDIR here. This small parser covers their two forms; the full
//! Dockerfile parser (with variable expansion) will replace it.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use strata_core::ContainerConfig;

/// Applies each change in order to an empty config.
pub(crate) fn apply(changes: &[String]) -> Result<ContainerConfig> {
    let mut c = ContainerConfig::default();
    apply_to(&mut c, changes)?;
    Ok(c)
}

/// Applies each change in order to `c` (`commit --change`).
pub(crate) fn apply_to(c: &mut ContainerConfig, changes: &[String]) -> Result<()> {
    for change in changes {
        apply_one(c, change)?;
    }
    Ok(())
}

fn apply_one(c: &mut ContainerConfig, change: &str) -> Result<()> {
    let change = change.trim();
    let (word, rest) = change
        .split_once(|ch: char| ch.is_whitespace())
        .map(|(w, r)| (w, r.trim()))
        .unwrap_or((change, ""));
    let word = word.to_uppercase();
    match word.as_str() {
        "CMD" => c.cmd = Some(command(rest)),
        "ENTRYPOINT" => {
            c.entrypoint = Some(command(rest));
            c.cmd = None;
        }
        "ENV" => {
            let env = c.env.get_or_insert_with(Vec::new);
            for (k, v) in pairs(rest, "ENV")? {
                env.retain(|e| e.split('=').next() != Some(k.as_str()));
                env.push(format!("{k}={v}"));
            }
        }
        "LABEL" => {
            let labels = c.labels.get_or_insert_with(BTreeMap::new);
            labels.extend(pairs(rest, "LABEL")?);
        }
        "EXPOSE" => {
            let ports = c.exposed_ports.get_or_insert_with(BTreeMap::new);
            for p in words(rest)? {
                let p = if p.contains('/') {
                    p.to_lowercase()
                } else {
                    format!("{p}/tcp")
                };
                ports.insert(p, serde_json::json!({}));
            }
        }
        "VOLUME" => {
            let vols = c.volumes.get_or_insert_with(BTreeMap::new);
            let list = json_array(rest).unwrap_or(words(rest)?);
            for v in list {
                vols.insert(v, serde_json::json!({}));
            }
        }
        "USER" => c.user = Some(single(rest, "USER")?),
        "STOPSIGNAL" => c.stop_signal = Some(single(rest, "STOPSIGNAL")?),
        "WORKDIR" => {
            let dir = single(rest, "WORKDIR")?;
            c.working_dir = Some(if dir.starts_with('/') {
                dir
            } else {
                let base = c.working_dir.clone().unwrap_or_else(|| "/".into());
                format!("{}/{dir}", base.trim_end_matches('/'))
            });
        }
        "ONBUILD" => {
            if rest.is_empty() {
                bail!("ONBUILD requires at least one argument");
            }
            c.on_build
                .get_or_insert_with(Vec::new)
                .push(rest.to_owned());
        }
        "" => bail!("empty change"),
        other => bail!("{other} is not a valid change command"),
    }
    Ok(())
}

/// Exec form (a JSON array of strings) or shell form.
fn command(rest: &str) -> Vec<String> {
    json_array(rest).unwrap_or_else(|| vec!["/bin/sh".to_owned(), "-c".to_owned(), rest.to_owned()])
}

fn json_array(rest: &str) -> Option<Vec<String>> {
    if !rest.starts_with('[') {
        return None;
    }
    serde_json::from_str(rest).ok()
}

fn single(rest: &str, what: &str) -> Result<String> {
    match words(rest)?.as_slice() {
        [one] => Ok(one.clone()),
        _ => bail!("{what} requires exactly one argument"),
    }
}

/// `KEY=value KEY2="two words"`, or the legacy `KEY value with spaces`.
fn pairs(rest: &str, what: &str) -> Result<Vec<(String, String)>> {
    let ws = words(rest)?;
    if ws.is_empty() {
        bail!("{what} requires at least one argument");
    }
    if !ws[0].contains('=') {
        let (k, v) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        return Ok(vec![(k.to_owned(), unquote(v.trim())?)]);
    }
    ws.into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => bail!("{what} names can not be blank"),
        })
        .collect()
}

fn unquote(s: &str) -> Result<String> {
    Ok(words(s)?.join(" "))
}

/// Splits on unquoted whitespace, removing quotes and backslash escapes.
fn words(s: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(ch) = chars.next() {
        match ch {
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            q @ ('"' | '\'') => {
                in_word = true;
                loop {
                    match chars.next() {
                        None => bail!("unexpected end of statement while looking for matching {q}"),
                        Some(c) if c == q => break,
                        Some('\\') if q == '"' => {
                            if let Some(n) = chars.next() {
                                cur.push(n);
                            }
                        }
                        Some(c) => cur.push(c),
                    }
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(changes: &[&str], expect: &str) {
        let owned: Vec<String> = changes.iter().map(|s| s.to_string()).collect();
        let got = match apply(&owned) {
            Ok(c) => serde_json::to_string(&c).unwrap(),
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(got, expect);
    }

    #[test]
    fn changes_table() {
        check(&["CMD [\"/bin/sh\"]"], r#"{"Cmd":["/bin/sh"]}"#);
        check(&["cmd echo hi"], r#"{"Cmd":["/bin/sh","-c","echo hi"]}"#);
        check(
            &["ENV A=1 B=\"two words\""],
            r#"{"Env":["A=1","B=two words"]}"#,
        );
        check(&["ENV A 1 2"], r#"{"Env":["A=1 2"]}"#);
        check(&["ENV A=1", "ENV A=2"], r#"{"Env":["A=2"]}"#);
        check(
            &["EXPOSE 80 53/UDP"],
            r#"{"ExposedPorts":{"53/udp":{},"80/tcp":{}}}"#,
        );
        check(&["LABEL a=b"], r#"{"Labels":{"a":"b"}}"#);
        check(
            &["VOLUME [\"/a\"]", "VOLUME /b /c"],
            r#"{"Volumes":{"/a":{},"/b":{},"/c":{}}}"#,
        );
        check(&["WORKDIR /a", "WORKDIR b"], r#"{"WorkingDir":"/a/b"}"#);
        check(&["USER 1000:1000"], r#"{"User":"1000:1000"}"#);
        check(&["RUN true"], "error: RUN is not a valid change command");
        check(&["ENV"], "error: ENV requires at least one argument");
        check(
            &["LABEL a=\"x"],
            "error: unexpected end of statement while looking for matching \"",
        );
    }
}
