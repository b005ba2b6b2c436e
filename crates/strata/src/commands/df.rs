//! `strata system df`: disk used by images (each blob counted once) and by
//! the build cache, and the rows Docker also shows for containers and
//! volumes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;
use strata_core::Digest;
use strata_store::{ImageRecord, Store};

use crate::cli::DfArgs;
use crate::output::{self, FormatSpec};

const TABLE: &str = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
const VERBOSE_TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}";

fn blobs_of(store: &Store, image: &ImageRecord) -> Result<Vec<Digest>> {
    let manifest = store.manifest(image)?;
    let mut v = vec![
        image.manifest.digest.clone(),
        manifest.config.digest.clone(),
    ];
    v.extend(manifest.layers.iter().map(|l| l.digest.clone()));
    Ok(v)
}

pub(crate) fn run(store: &Store, args: DfArgs) -> Result<ExitCode> {
    let images = store.images()?;
    let mut users: BTreeMap<Digest, usize> = BTreeMap::new();
    let mut per_image = Vec::new();
    for image in &images {
        let blobs: BTreeSet<Digest> = blobs_of(store, image)?.into_iter().collect();
        for b in &blobs {
            *users.entry(b.clone()).or_default() += 1;
        }
        per_image.push((image, blobs));
    }
    let mut sizes = BTreeMap::new();
    for d in users.keys() {
        sizes.insert(d.clone(), store.blob_size(d).unwrap_or(0));
    }
    let total: u64 = sizes.values().sum();
    let reclaimable = if total > 0 {
        format!("{} (100%)", output::size4(total))
    } else {
        output::size4(total)
    };
    let (cache_count, cache_bytes) = store.cache_usage()?;
    let rows = vec![
        json!({"Type": "Images", "TotalCount": images.len().to_string(), "Active": "0", "Size": output::size4(total), "Reclaimable": reclaimable}),
        json!({"Type": "Containers", "TotalCount": "0", "Active": "0", "Size": "0B", "Reclaimable": "0B"}),
        json!({"Type": "Local Volumes", "TotalCount": "0", "Active": "0", "Size": "0B", "Reclaimable": "0B"}),
        json!({"Type": "Build Cache", "TotalCount": cache_count.to_string(), "Active": "0", "Size": output::size4(cache_bytes), "Reclaimable": output::size4(cache_bytes)}),
    ];
    let header = json!({"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE"});
    let mut out = std::io::stdout().lock();
    if !args.verbose {
        let spec = FormatSpec {
            default_table: TABLE,
            header: &header,
        };
        out.write_all(output::render(args.format.as_deref(), &spec, &rows)?.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let names = store.names()?;
    let mut values = Vec::new();
    for (image, blobs) in &per_image {
        let shared: u64 = blobs
            .iter()
            .filter(|b| users[*b] > 1)
            .map(|b| sizes[b])
            .sum();
        let unique: u64 = blobs
            .iter()
            .filter(|b| users[*b] == 1)
            .map(|b| sizes[b])
            .sum();
        let tags: Vec<_> = names
            .iter()
            .filter(|n| n.image == image.id && n.is_tag())
            .collect();
        let pairs: Vec<(String, String)> = if tags.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            tags.iter()
                .map(|n| {
                    (
                        n.reference.familiar_name(),
                        n.reference.tag().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        };
        for (repo, tag) in pairs {
            values.push(json!({
                "Repository": repo, "Tag": tag, "ID": image.id.short(),
                "CreatedSince": output::created_since(image.created_unix),
                "Size": output::size4(shared + unique), "SharedSize": output::size4(shared),
                "UniqueSize": output::size4(unique), "Containers": "0",
            }));
        }
    }
    let vheader = json!({"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "CreatedSince": "CREATED", "Size": "SIZE", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE", "Containers": "CONTAINERS"});
    writeln!(out, "Images space usage:\n")?;
    let spec = FormatSpec {
        default_table: VERBOSE_TABLE,
        header: &vheader,
    };
    out.write_all(output::render(None, &spec, &values)?.as_bytes())?;
    writeln!(
        out,
        "\nContainers space usage:\n\nCONTAINER ID   IMAGE     COMMAND   LOCAL VOLUMES   SIZE      CREATED   STATUS    NAMES\n"
    )?;
    writeln!(
        out,
        "Local Volumes space usage:\n\nVOLUME NAME   LINKS     SIZE\n"
    )?;
    writeln!(
        out,
        "Build cache usage: 0B\n\nCACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED"
    )?;
    Ok(ExitCode::SUCCESS)
}
