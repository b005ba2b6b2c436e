//! `strata images`: Docker's listing, filters and formats.
//!
//! Which images show follows the daemon: untagged images appear as
//! `<none>` unless they are the parent of another image (then only with
//! `-a`); `reference=` keeps only matching names and drops images without
//! any. Rows follow the CLI: one per repository and tag, with one per digest
//! under `--digests`, and a `<none>` tag row for digest-only repositories.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, bail};
use serde_json::{Value, json};
use strata_core::reference::try_familiar_match;
use strata_store::{ImageRecord, Store};

use crate::UsageError;
use crate::cli::ImagesArgs;
use crate::output::{self, FormatSpec};

const TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
const TABLE_DIGESTS: &str =
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

#[derive(Default)]
struct Filters {
    dangling: Option<bool>,
    references: Vec<String>,
    before: Option<i64>,
    since: Option<i64>,
    labels: Vec<(String, Option<String>)>,
}

fn parse_filters(store: &Store, args: &ImagesArgs) -> Result<Filters> {
    let mut f = Filters::default();
    if let Some(r) = &args.reference {
        f.references.push(r.clone());
    }
    for spec in &args.filter {
        let Some((key, value)) = spec.split_once('=') else {
            return Err(UsageError(format!(
                "invalid argument {spec:?} for \"-f, --filter\" flag: bad format of filter (expected name=value)"
            ))
            .into());
        };
        let created_of =
            |v: &str| -> Result<i64> { Ok(store.resolve(v)?.created_unix.unwrap_or(i64::MIN)) };
        match key.to_lowercase().as_str() {
            "dangling" => match value.to_lowercase().as_str() {
                "true" | "1" => f.dangling = Some(true),
                "false" | "0" => f.dangling = Some(false),
                _ => bail!("Invalid filter 'dangling=[{value}]'"),
            },
            "reference" => f.references.push(value.to_owned()),
            "before" => f.before = Some(created_of(value)?),
            "since" => f.since = Some(created_of(value)?),
            "label" => f.labels.push(match value.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (value.to_owned(), None),
            }),
            _ => bail!("Invalid filter '{key}'"),
        }
    }
    Ok(f)
}

/// One output row before formatting.
struct Row<'a> {
    repo: String,
    tag: String,
    digest: String,
    image: &'a ImageRecord,
}

pub(crate) fn run(store: &Store, args: ImagesArgs) -> Result<ExitCode> {
    let filters = parse_filters(store, &args)?;
    let images = store.images()?;
    let names = store.names()?;
    let parents: Vec<_> = images.iter().filter_map(|i| i.parent.clone()).collect();
    let show_digests = args.digests
        || args
            .format
            .as_deref()
            .is_some_and(|f| f.contains("{{.Digest}}"));

    let mut rows = Vec::new();
    for image in &images {
        let created = image.created_unix.unwrap_or(i64::MIN);
        if filters.before.is_some_and(|b| created >= b)
            || filters.since.is_some_and(|s| created <= s)
        {
            continue;
        }
        if !filters.labels.is_empty() && !labels_match(store, image, &filters.labels)? {
            continue;
        }
        // Familiar repository -> tags / digests, as the CLI groups them.
        let mut tags: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut digests: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for n in names.iter().filter(|n| n.image == image.id) {
            if !filters.references.is_empty() {
                let mut found = false;
                for p in &filters.references {
                    if try_familiar_match(p, &n.reference)? {
                        found = true;
                        break;
                    }
                }
                if !found {
                    continue;
                }
            }
            let repo = n.reference.familiar_name();
            match (n.reference.tag(), n.reference.digest()) {
                (_, Some(d)) => digests.entry(repo).or_default().push(d.to_string()),
                (Some(t), None) => tags.entry(repo).or_default().push(t.to_owned()),
                (None, None) => {}
            }
        }
        if tags.is_empty() && digests.is_empty() {
            let has_children = parents.contains(&image.id);
            if (!args.all && has_children)
                || filters.dangling == Some(false)
                || !filters.references.is_empty()
            {
                continue;
            }
            rows.push(Row {
                repo: "<none>".into(),
                tag: "<none>".into(),
                digest: "<none>".into(),
                image,
            });
            continue;
        }
        if filters.dangling == Some(true) && !tags.is_empty() {
            continue;
        }
        for (repo, repo_tags) in &tags {
            let ds = if show_digests {
                digests.remove(repo).unwrap_or_default()
            } else {
                digests.remove(repo);
                Vec::new()
            };
            for tag in repo_tags {
                if ds.is_empty() {
                    rows.push(Row {
                        repo: repo.clone(),
                        tag: tag.clone(),
                        digest: "<none>".into(),
                        image,
                    });
                }
                for d in &ds {
                    rows.push(Row {
                        repo: repo.clone(),
                        tag: tag.clone(),
                        digest: d.clone(),
                        image,
                    });
                }
            }
        }
        for (repo, ds) in digests {
            if show_digests {
                for d in ds {
                    rows.push(Row {
                        repo: repo.clone(),
                        tag: "<none>".into(),
                        digest: d,
                        image,
                    });
                }
            } else {
                rows.push(Row {
                    repo,
                    tag: "<none>".into(),
                    digest: String::new(),
                    image,
                });
            }
        }
    }

    let values: Vec<Value> = rows.iter().map(|r| row_json(r, !args.no_trunc)).collect();
    let format = match (&args.format, args.quiet) {
        (Some(f), _) => Some(f.as_str()),
        (None, true) => Some("{{.ID}}"),
        (None, false) => None,
    };
    let header = header();
    let spec = FormatSpec {
        default_table: if args.digests { TABLE_DIGESTS } else { TABLE },
        header: &header,
    };
    let text = output::render(format, &spec, &values)?;
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn labels_match(
    store: &Store,
    image: &ImageRecord,
    wanted: &[(String, Option<String>)],
) -> Result<bool> {
    let config = store.config(image)?;
    let labels = config
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .unwrap_or_default();
    Ok(wanted.iter().all(|(k, v)| match (labels.get(k), v) {
        (Some(have), Some(want)) => have == want,
        (Some(_), None) => true,
        (None, _) => false,
    }))
}

fn short_id(image: &ImageRecord, trunc: bool) -> String {
    if trunc {
        image.id.short().to_owned()
    } else {
        image.id.to_string()
    }
}

fn row_json(r: &Row<'_>, trunc: bool) -> Value {
    json!({
        "Containers": "N/A",
        "CreatedAt": output::created_at(r.image.created_unix),
        "CreatedSince": output::created_since(r.image.created_unix),
        "Digest": r.digest,
        "ID": short_id(r.image, trunc),
        "Repository": r.repo,
        "SharedSize": "N/A",
        "Size": output::size3(r.image.size),
        "Tag": r.tag,
        "UniqueSize": "N/A",
        "VirtualSize": output::size4(r.image.size),
    })
}

fn header() -> Value {
    json!({
        "Containers": "CONTAINERS",
        "CreatedAt": "CREATED AT",
        "CreatedSince": "CREATED",
        "Digest": "DIGEST",
        "ID": "IMAGE ID",
        "Repository": "REPOSITORY",
        "SharedSize": "SHARED SIZE",
        "Size": "SIZE",
        "Tag": "TAG",
        "UniqueSize": "UNIQUE SIZE",
        "VirtualSize": "VIRTUAL SIZE",
    })
}
