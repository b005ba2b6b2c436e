//! Software bill of materials: the packages in an image, each with the
//! layer that added it.
//!
//! Catalogued today: Debian packages (`var/lib/dpkg/status` and the
//! distroless `status.d/`), Alpine packages (`lib/apk/db/installed`), RPM
//! packages (rpm's sqlite database; the older BerkeleyDB one is not read),
//! Rust crates (`Cargo.lock` and cargo-auditable's `.dep-v0` section in
//! binaries), Go modules (build info in binaries), Java
//! archives (`pom.properties`, manifests),
//! Python distributions (`*.dist-info/METADATA`, `*.egg-info`) and Node
//! packages (`node_modules/**/package.json`). Licences come from the
//! package metadata (Debian: the `License:` fields of machine-readable
//! `/usr/share/doc/<pkg>/copyright`). Layers are read as streams; only the
//! files named above are read. A package whose file a later layer deletes
//! or replaces is left out. A package database that does not parse is a
//! warning, never a failure.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use serde::Serialize;
use strata_core::Digest;
use strata_store::{ImageRecord, Store};

/// Largest package database read (dpkg `status` of a big image is a few MB).
const MAX_DB: u64 = 64 << 20;
/// Largest metadata file read.
const MAX_META: u64 = 1 << 20;
/// Largest binary or Java archive read.
const MAX_BINARY: u64 = 64 << 20;

/// Where a package comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    /// Debian packages.
    Deb,
    /// Alpine packages.
    Apk,
    /// Python distributions.
    Python,
    /// Node packages.
    Npm,
    /// Rust crates (Cargo.lock).
    Cargo,
    /// Go modules (build info in binaries).
    Go,
    /// Java archives.
    Maven,
    /// RPM packages.
    Rpm,
}

impl Ecosystem {
    /// The name Syft shows in its TYPE column.
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Deb => "deb",
            Ecosystem::Apk => "apk",
            Ecosystem::Python => "python",
            Ecosystem::Npm => "npm",
            Ecosystem::Cargo => "rust-crate",
            Ecosystem::Go => "go-module",
            Ecosystem::Maven => "java-archive",
            Ecosystem::Rpm => "rpm",
        }
    }
}

/// One package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Package {
    /// Name.
    pub name: String,
    /// Version as the package manager writes it.
    pub version: String,
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Package URL.
    pub purl: String,
    /// Licences as declared.
    pub licenses: Vec<String>,
    /// Index of the layer that added it, base first.
    pub layer: usize,
    /// That layer's blob.
    pub layer_digest: Digest,
    /// The file it was found in, without a leading `/`.
    pub path: String,
    /// The source package (Debian) or origin (Alpine), if different.
    pub source: Option<String>,
}

/// The operating system, from `os-release`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Distro {
    /// `ID` (debian, alpine, ...).
    pub id: String,
    /// `VERSION_ID`.
    pub version_id: String,
    /// `VERSION_CODENAME`.
    pub codename: String,
}

/// What [`sbom`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Sbom {
    /// The distribution, when the image says.
    pub distro: Option<Distro>,
    /// Packages, sorted by ecosystem, name, version.
    pub packages: Vec<Package>,
    /// What could not be read.
    pub warnings: Vec<String>,
}

/// A file of interest, read from a layer.
struct Found {
    layer: usize,
    path: String,
    data: Vec<u8>,
}

fn interesting(path: &str) -> Option<u64> {
    let name = path.rsplit('/').next().unwrap_or("");
    if path == "var/lib/dpkg/status"
        || path == "lib/apk/db/installed"
        || path == "var/lib/rpm/rpmdb.sqlite"
        || path == "usr/lib/sysimage/rpm/rpmdb.sqlite"
    {
        return Some(MAX_DB);
    }
    if path.starts_with("var/lib/dpkg/status.d/") && !name.ends_with(".md5sums") {
        return Some(MAX_META);
    }
    if path == "etc/os-release" || path == "usr/lib/os-release" {
        return Some(MAX_META);
    }
    if path.starts_with("usr/share/doc/") && name == "copyright" && path.matches('/').count() == 4 {
        return Some(MAX_META);
    }
    let parent = path.rsplit('/').nth(1).unwrap_or("");
    if (name == "METADATA" && parent.ends_with(".dist-info"))
        || (name == "PKG-INFO" && parent.ends_with(".egg-info"))
        || (name.ends_with(".egg-info") && path.contains("-packages/"))
    {
        return Some(MAX_META);
    }
    if name == "package.json" && is_node_module(path) {
        return Some(MAX_META);
    }
    if name == "Cargo.lock" {
        return Some(4 * MAX_META);
    }
    if [".jar", ".war", ".ear"].iter().any(|e| name.ends_with(e)) {
        return Some(MAX_BINARY);
    }
    None
}

/// One installed RPM: name, epoch, version, release, arch, licence, source rpm.
struct RpmHeader {
    name: String,
    epoch: Option<i32>,
    version: String,
    release: String,
    arch: String,
    license: Option<String>,
    source_rpm: Option<String>,
}

/// Parses an rpm header blob as rpm's sqlite backend stores it (no lead:
/// index count, data length, index entries, data).
fn rpm_header(blob: &[u8]) -> Option<RpmHeader> {
    let be = |b: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    let il = be(blob, 0)? as usize;
    let dl = be(blob, 4)? as usize;
    let data_start = 8 + il.checked_mul(16)?;
    let data = blob.get(data_start..data_start.checked_add(dl)?)?;
    let mut strings: BTreeMap<u32, String> = BTreeMap::new();
    let mut epoch = None;
    for i in 0..il {
        let e = 8 + i * 16;
        let (tag, kind, off) = (be(blob, e)?, be(blob, e + 4)?, be(blob, e + 8)? as usize);
        match kind {
            // STRING or I18NSTRING: NUL-terminated.
            6 | 9 => {
                let rest = data.get(off..)?;
                let end = rest.iter().position(|&b| b == 0)?;
                strings.insert(tag, String::from_utf8_lossy(&rest[..end]).into_owned());
            }
            4 if tag == 1003 => {
                epoch = Some(i32::from_be_bytes(data.get(off..off + 4)?.try_into().ok()?));
            }
            _ => {}
        }
    }
    Some(RpmHeader {
        name: strings.remove(&1000)?,
        epoch,
        version: strings.remove(&1001)?,
        release: strings.remove(&1002).unwrap_or_default(),
        arch: strings.remove(&1022).unwrap_or_default(),
        license: strings.remove(&1014),
        source_rpm: strings.remove(&1044),
    })
}

/// The packages in an rpm sqlite database's bytes.
fn rpm_packages(db: &[u8]) -> Result<Vec<RpmHeader>, String> {
    // SQLite reads files: the database goes to a private temp dir first.
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("strata-rpmdb-{}-{seq}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join("rpmdb.sqlite");
    std::fs::write(&file, db).map_err(|e| e.to_string())?;
    let result = (|| -> Result<Vec<RpmHeader>, String> {
        let conn = rusqlite::Connection::open_with_flags(
            &file,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| e.to_string())?;
        let mut stmt = conn
            .prepare("SELECT blob FROM Packages")
            .map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for row in rows {
            let blob = row.map_err(|e| e.to_string())?;
            if let Some(h) = rpm_header(&blob) {
                out.push(h);
            }
        }
        Ok(out)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// `[[package]]` entries of a Cargo.lock: name and version.
fn cargo_lock(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cur: (Option<String>, Option<String>) = (None, None);
    let value = |l: &str| {
        l.split_once('=')
            .map(|(_, v)| v.trim().trim_matches('"').to_owned())
    };
    for line in text.lines().map(str::trim) {
        if line == "[[package]]" {
            if let (Some(n), Some(v)) = cur.clone() {
                out.push((n, v));
            }
            cur = (None, None);
        } else if line.starts_with("name =") || line.starts_with("name=") {
            cur.0 = value(line);
        } else if line.starts_with("version =") || line.starts_with("version=") {
            cur.1 = value(line);
        } else if line.starts_with('[') {
            if let (Some(n), Some(v)) = cur.clone() {
                out.push((n, v));
            }
            cur = (None, None);
        }
    }
    if let (Some(n), Some(v)) = cur {
        out.push((n, v));
    }
    out
}

/// The bytes of ELF64 little-endian section `name`, if present.
fn elf_section<'a>(bin: &'a [u8], name: &str) -> Option<&'a [u8]> {
    if !bin.starts_with(b"\x7fELF") || bin.get(4) != Some(&2) || bin.get(5) != Some(&1) {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(bin.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(bin.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(bin.get(o..o + 8)?.try_into().ok()?));
    let shoff = usize::try_from(u64_at(0x28)?).ok()?;
    let (entsize, num, strndx) = (
        usize::from(u16_at(0x3A)?),
        usize::from(u16_at(0x3C)?),
        usize::from(u16_at(0x3E)?),
    );
    let header = |i: usize| -> Option<(usize, usize, usize)> {
        let o = shoff.checked_add(i.checked_mul(entsize)?)?;
        Some((
            u32_at(o)? as usize,
            usize::try_from(u64_at(o + 0x18)?).ok()?,
            usize::try_from(u64_at(o + 0x20)?).ok()?,
        ))
    };
    let (_, str_off, str_size) = header(strndx)?;
    let strtab = bin.get(str_off..str_off.checked_add(str_size)?)?;
    for i in 0..num.min(4096) {
        let (n, off, size) = header(i)?;
        let rest = strtab.get(n..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        if &rest[..end] == name.as_bytes() {
            return bin.get(off..off.checked_add(size)?);
        }
    }
    None
}

/// The crates cargo-auditable recorded in a Rust binary's `.dep-v0`
/// section (zlib-compressed JSON), as `(name, version)`.
fn auditable_crates(bin: &[u8]) -> Option<Vec<(String, String)>> {
    let section = elf_section(bin, ".dep-v0")?;
    let mut json = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(flate2::read::ZlibDecoder::new(section), 8 << 20),
        &mut json,
    )
    .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&json).ok()?;
    let out: Vec<(String, String)> = v["packages"]
        .as_array()?
        .iter()
        .filter_map(|p| {
            Some((
                p["name"].as_str()?.to_owned(),
                p["version"].as_str()?.to_owned(),
            ))
        })
        .collect();
    (!out.is_empty()).then_some(out)
}

/// Go build info (Go 1.18+, inline strings): the modules of a binary as
/// `(path, version)`, main module first.
fn go_modules(bin: &[u8]) -> Option<Vec<(String, String)>> {
    const MAGIC: &[u8] = b"\xff Go buildinf:";
    if !bin.starts_with(b"\x7fELF") {
        return None;
    }
    let at = bin
        .windows(MAGIC.len())
        .enumerate()
        .step_by(16)
        .find(|(_, w)| *w == MAGIC)
        .map(|(i, _)| i)?;
    let flags = *bin.get(at + 15)?;
    if flags & 2 == 0 {
        return None;
    }
    let mut pos = at + 32;
    let mut read = || -> Option<&[u8]> {
        let (mut len, mut shift) = (0usize, 0);
        loop {
            let b = *bin.get(pos)?;
            pos += 1;
            len |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 35 {
                return None;
            }
        }
        let s = bin.get(pos..pos.checked_add(len)?)?;
        pos += len;
        Some(s)
    };
    let _go_version = read()?;
    let info = read()?;
    let info = if info.len() >= 33 {
        &info[16..info.len() - 16]
    } else {
        info
    };
    let text = String::from_utf8_lossy(info);
    let mut out = Vec::new();
    let mut main_path = None;
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if (f[0] == "mod" || f[0] == "dep") && f.len() >= 3 {
            out.push((f[1].to_owned(), f[2].to_owned()));
        } else if f[0] == "path" && f.len() >= 2 {
            main_path = Some(f[1].to_owned());
        }
    }
    // Built outside module mode (as Debian builds Go): only the main
    // package's path is recorded, with no version, as Syft reports it.
    if out.is_empty()
        && let Some(p) = main_path
    {
        out.push((p, "(devel)".to_owned()));
    }
    (!out.is_empty()).then_some(out)
}

/// Maven coordinates of a Java archive: `pom.properties` entries, else
/// the manifest's title and version.
fn jar_packages(bytes: &[u8]) -> Vec<(Option<String>, String, String)> {
    let Ok(mut zip) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut manifest = None;
    for i in 0..zip.len() {
        let Ok(mut e) = zip.by_index(i) else { continue };
        let name = e.name().to_owned();
        if e.size() > MAX_META {
            continue;
        }
        let is_pom = name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties");
        if !is_pom && name != "META-INF/MANIFEST.MF" {
            continue;
        }
        let mut text = String::new();
        if std::io::Read::read_to_string(&mut e, &mut text).is_err() {
            continue;
        }
        let kv: BTreeMap<String, String> = text
            .lines()
            .filter_map(|l| l.split_once(if is_pom { '=' } else { ':' }))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        if is_pom {
            if let (Some(a), Some(v)) = (kv.get("artifactId"), kv.get("version")) {
                out.push((kv.get("groupId").cloned(), a.clone(), v.clone()));
            }
        } else {
            manifest = kv
                .get("Implementation-Title")
                .or(kv.get("Bundle-SymbolicName"))
                .cloned()
                .zip(
                    kv.get("Implementation-Version")
                        .or(kv.get("Bundle-Version"))
                        .cloned(),
                );
        }
    }
    if out.is_empty()
        && let Some((t, v)) = manifest
    {
        out.push((None, t, v));
    }
    out
}

/// `.../node_modules/NAME/package.json` or `.../node_modules/@SCOPE/NAME/package.json`.
fn is_node_module(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let n = parts.len();
    (n >= 3 && parts[n - 3] == "node_modules")
        || (n >= 4 && parts[n - 4] == "node_modules" && parts[n - 3].starts_with('@'))
}

/// Control-file stanzas (`Key: value` with continuation lines).
fn stanzas(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    let mut cur: BTreeMap<String, String> = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            last = None;
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(k) = &last
                && let Some(v) = cur.get_mut(k)
            {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            cur.insert(k.trim().to_owned(), v.trim().to_owned());
            last = Some(k.trim().to_owned());
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn deb_licenses(copyright: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    for line in copyright.lines() {
        if let Some(l) = line.strip_prefix("License:") {
            let l = l.trim();
            if !l.is_empty() && l.len() < 100 {
                out.insert(l.to_owned());
            }
        }
    }
    out.into_iter().collect()
}

/// Catalogues `image`.
pub fn sbom(store: &Store, image: &ImageRecord) -> Result<Sbom, crate::AnalyzeError> {
    let manifest = store.manifest(image)?;
    let digests: Vec<Digest> = manifest.layers.iter().map(|l| l.digest.clone()).collect();
    let mut report = Sbom::default();
    // What each layer puts or deletes, noted in the same pass.
    let mut overlays = crate::secrets::Overlays::default();
    let mut found: Vec<Found> = Vec::new();
    for (index, d) in digests.iter().enumerate() {
        overlays.start_layer();
        let mut archive = tar::Archive::new(store.open_layer(d)?);
        let Ok(entries) = archive.entries() else {
            report
                .warnings
                .push(format!("layer {}: not a tar stream", d.short()));
            continue;
        };
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    report.warnings.push(format!("layer {}: {e}", d.short()));
                    break;
                }
            };
            let Ok(p) = entry.path() else { continue };
            let path = crate::analyze::normalize(&p.to_string_lossy());
            let kind = entry.header().entry_type();
            overlays.note(&path, kind.is_dir());
            if !kind.is_file() {
                continue;
            }
            let header = entry.header();
            let executable = header.mode().is_ok_and(|m| m & 0o111 != 0)
                && header.size().is_ok_and(|s| s > 1024 && s <= MAX_BINARY);
            let Some(limit) = interesting(&path).or(executable.then_some(MAX_BINARY)) else {
                continue;
            };
            let mut data = Vec::new();
            if let Err(e) = (&mut entry).take(limit).read_to_end(&mut data) {
                report
                    .warnings
                    .push(format!("layer {}: /{path}: {e}", d.short()));
                break;
            }
            found.push(Found {
                layer: index,
                path,
                data,
            });
        }
    }
    let visible = |f: &Found| !overlays.hidden(f.layer, &f.path);

    // The distribution: the topmost visible os-release.
    if let Some(f) = found
        .iter()
        .rev()
        .find(|f| f.path.ends_with("os-release") && visible(f))
    {
        let text = String::from_utf8_lossy(&f.data);
        let mut d = Distro::default();
        for line in text.lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"').to_owned();
            match k.trim() {
                "ID" => d.id = v,
                "VERSION_ID" => d.version_id = v,
                "VERSION_CODENAME" => d.codename = v,
                _ => {}
            }
        }
        report.distro = Some(d);
    }
    let distro_q = report
        .distro
        .as_ref()
        .filter(|d| !d.id.is_empty())
        .map(|d| format!("&distro={}-{}", d.id, d.version_id))
        .unwrap_or_default();
    let namespace = report
        .distro
        .as_ref()
        .map(|d| d.id.clone())
        .filter(|s| !s.is_empty());

    // Debian licences by package name.
    let mut deb_lic: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in found
        .iter()
        .filter(|f| f.path.ends_with("/copyright") && visible(f))
    {
        let pkg = f.path.split('/').nth(3).unwrap_or("").to_owned();
        deb_lic.insert(pkg, deb_licenses(&String::from_utf8_lossy(&f.data)));
    }

    let mut packages: Vec<Package> = Vec::new();
    // dpkg: the layer that added a package is the first whose database
    // lists that name and version; what is installed is what the topmost
    // visible database lists.
    let status: Vec<&Found> = found
        .iter()
        .filter(|f| f.path == "var/lib/dpkg/status" || f.path.starts_with("var/lib/dpkg/status.d/"))
        .collect();
    let mut first_seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut installed: BTreeMap<String, (BTreeMap<String, String>, &Found)> = BTreeMap::new();
    let top_status = status
        .iter()
        .rev()
        .find(|f| f.path == "var/lib/dpkg/status" && visible(f))
        .map(|f| f.layer);
    for f in &status {
        let text = String::from_utf8_lossy(&f.data);
        let parsed = stanzas(&text);
        if parsed.is_empty() && !text.trim().is_empty() {
            report.warnings.push(format!(
                "/{}: no package stanzas (corrupt dpkg database?)",
                f.path
            ));
        }
        for st in parsed {
            let (Some(name), Some(version)) = (st.get("Package"), st.get("Version")) else {
                continue;
            };
            if st.get("Status").is_some_and(|s| !s.ends_with(" installed")) {
                continue;
            }
            first_seen
                .entry((name.clone(), version.clone()))
                .or_insert(f.layer);
            let counts = if f.path == "var/lib/dpkg/status" {
                Some(f.layer) == top_status
            } else {
                visible(f)
            };
            if counts {
                installed.insert(name.clone(), (st.clone(), f));
            }
        }
    }
    for (name, (st, f)) in installed {
        let version = st.get("Version").cloned().unwrap_or_default();
        let arch = st.get("Architecture").cloned().unwrap_or_default();
        let source = st
            .get("Source")
            .map(|s| s.split_whitespace().next().unwrap_or(s).to_owned());
        let layer = first_seen
            .get(&(name.clone(), version.clone()))
            .copied()
            .unwrap_or(f.layer);
        let ns = namespace.clone().unwrap_or_else(|| "debian".to_owned());
        let mut purl = format!(
            "pkg:deb/{ns}/{}@{}?arch={}",
            pct(&name),
            pct(&version),
            pct(&arch)
        );
        if let Some(s) = &source {
            purl.push_str(&format!("&upstream={}", pct(s)));
        }
        purl.push_str(&distro_q);
        packages.push(Package {
            licenses: deb_lic.get(&name).cloned().unwrap_or_default(),
            name,
            version,
            ecosystem: Ecosystem::Deb,
            purl,
            layer,
            layer_digest: digests[layer].clone(),
            path: f.path.clone(),
            source,
        });
    }

    // rpm: the topmost visible sqlite database.
    if let Some(f) = found
        .iter()
        .rev()
        .find(|f| f.path.ends_with("rpmdb.sqlite") && visible(f))
    {
        match rpm_packages(&f.data) {
            Ok(list) => {
                let ns = namespace.clone().unwrap_or_else(|| "redhat".to_owned());
                for h in list {
                    let evr = format!("{}-{}", h.version, h.release);
                    let mut purl = format!(
                        "pkg:rpm/{ns}/{}@{}?arch={}",
                        pct(&h.name),
                        pct(&evr),
                        pct(&h.arch)
                    );
                    if let Some(e) = h.epoch.filter(|e| *e != 0) {
                        purl.push_str(&format!("&epoch={e}"));
                    }
                    purl.push_str(&distro_q);
                    packages.push(Package {
                        version: match h.epoch.filter(|e| *e != 0) {
                            Some(e) => format!("{e}:{evr}"),
                            None => evr,
                        },
                        name: h.name,
                        ecosystem: Ecosystem::Rpm,
                        purl,
                        licenses: h.license.into_iter().collect(),
                        layer: f.layer,
                        layer_digest: digests[f.layer].clone(),
                        path: f.path.clone(),
                        source: h.source_rpm,
                    });
                }
            }
            Err(e) => report.warnings.push(format!("/{}: {e}", f.path)),
        }
    }

    // apk: the same rule over lib/apk/db/installed.
    let apk: Vec<&Found> = found
        .iter()
        .filter(|f| f.path == "lib/apk/db/installed")
        .collect();
    let top_apk = apk.iter().rev().find(|f| visible(f)).map(|f| f.layer);
    let mut apk_first: BTreeMap<(String, String), usize> = BTreeMap::new();
    for f in &apk {
        for st in stanzas(&String::from_utf8_lossy(&f.data)) {
            let (Some(name), Some(version)) = (st.get("P"), st.get("V")) else {
                continue;
            };
            apk_first
                .entry((name.clone(), version.clone()))
                .or_insert(f.layer);
            if Some(f.layer) != top_apk {
                continue;
            }
            let arch = st.get("A").cloned().unwrap_or_default();
            let origin = st.get("o").cloned();
            let ns = namespace.clone().unwrap_or_else(|| "alpine".to_owned());
            let layer = apk_first[&(name.clone(), version.clone())];
            let mut purl = format!(
                "pkg:apk/{ns}/{}@{}?arch={}",
                pct(name),
                pct(version),
                pct(&arch)
            );
            if let Some(o) = &origin {
                purl.push_str(&format!("&upstream={}", pct(o)));
            }
            purl.push_str(&distro_q);
            packages.push(Package {
                name: name.clone(),
                version: version.clone(),
                ecosystem: Ecosystem::Apk,
                purl,
                licenses: st.get("L").map(|l| vec![l.clone()]).unwrap_or_default(),
                layer,
                layer_digest: digests[layer].clone(),
                path: f.path.clone(),
                source: origin,
            });
        }
    }

    // Python and Node: one file per package; the visible copy counts.
    for f in found.iter().filter(|f| visible(f)) {
        let name = f.path.rsplit('/').next().unwrap_or("");
        if name == "package.json" {
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(&f.data) else {
                report.warnings.push(format!("/{}: not JSON", f.path));
                continue;
            };
            let (Some(n), Some(ver)) = (v["name"].as_str(), v["version"].as_str()) else {
                continue;
            };
            let lic = match &v["license"] {
                serde_json::Value::String(s) => vec![s.clone()],
                serde_json::Value::Object(o) => o
                    .get("type")
                    .and_then(|t| t.as_str())
                    .map(|s| vec![s.to_owned()])
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            let purl_name = match n.split_once('/') {
                Some((scope, rest)) if scope.starts_with('@') => {
                    format!("{}/{}", pct(scope), pct(rest))
                }
                _ => pct(n),
            };
            packages.push(Package {
                name: n.to_owned(),
                version: ver.to_owned(),
                ecosystem: Ecosystem::Npm,
                purl: format!("pkg:npm/{purl_name}@{}", pct(ver)),
                licenses: lic,
                layer: f.layer,
                layer_digest: digests[f.layer].clone(),
                path: f.path.clone(),
                source: None,
            });
        } else if name == "Cargo.lock" {
            let crates = cargo_lock(&String::from_utf8_lossy(&f.data));
            packages.extend(
                crates
                    .into_iter()
                    .map(|(n, v)| crate_package(n, v, f, &digests)),
            );
        } else if [".jar", ".war", ".ear"].iter().any(|e| name.ends_with(e)) {
            for (group, artifact, v) in jar_packages(&f.data) {
                let purl = match &group {
                    Some(g) => format!("pkg:maven/{}/{}@{}", pct(g), pct(&artifact), pct(&v)),
                    None => format!("pkg:maven/{}@{}", pct(&artifact), pct(&v)),
                };
                packages.push(Package {
                    name: match &group {
                        Some(g) => format!("{g}:{artifact}"),
                        None => artifact.clone(),
                    },
                    version: v,
                    ecosystem: Ecosystem::Maven,
                    purl,
                    licenses: Vec::new(),
                    layer: f.layer,
                    layer_digest: digests[f.layer].clone(),
                    path: f.path.clone(),
                    source: None,
                });
            }
        } else if let Some(crates) = auditable_crates(&f.data) {
            packages.extend(
                crates
                    .into_iter()
                    .map(|(n, v)| crate_package(n, v, f, &digests)),
            );
        } else if let Some(mods) = go_modules(&f.data) {
            for (path, v) in mods {
                let purl_path = path.split('/').map(pct).collect::<Vec<_>>().join("/");
                packages.push(Package {
                    purl: format!("pkg:golang/{purl_path}@{}", pct(&v)),
                    name: path,
                    version: v,
                    ecosystem: Ecosystem::Go,
                    licenses: Vec::new(),
                    layer: f.layer,
                    layer_digest: digests[f.layer].clone(),
                    path: f.path.clone(),
                    source: None,
                });
            }
        } else if name == "METADATA" || name == "PKG-INFO" || name.ends_with(".egg-info") {
            // Headers only: the body (after a blank line) is the description.
            let text = String::from_utf8_lossy(&f.data);
            let head = text.split("\n\n").next().unwrap_or("");
            let meta = stanzas(head).into_iter().next().unwrap_or_default();
            let (Some(n), Some(ver)) = (meta.get("Name"), meta.get("Version")) else {
                report
                    .warnings
                    .push(format!("/{}: no Name or Version", f.path));
                continue;
            };
            let lic = meta
                .get("License-Expression")
                .or_else(|| meta.get("License"))
                .filter(|l| !l.is_empty() && l.as_str() != "UNKNOWN" && l.len() < 100)
                .map(|l| vec![l.clone()])
                .unwrap_or_default();
            let normalized = n.to_lowercase().replace(['_', '.'], "-");
            packages.push(Package {
                name: n.clone(),
                version: ver.clone(),
                ecosystem: Ecosystem::Python,
                purl: format!("pkg:pypi/{}@{}", pct(&normalized), pct(ver)),
                licenses: lic,
                layer: f.layer,
                layer_digest: digests[f.layer].clone(),
                path: f.path.clone(),
                source: None,
            });
        }
    }
    packages.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.version, &a.path).cmp(&(
            b.ecosystem,
            &b.name,
            &b.version,
            &b.path,
        ))
    });
    packages.dedup_by(|a, b| {
        a.ecosystem == b.ecosystem && a.name == b.name && a.version == b.version && a.path == b.path
    });
    report.packages = packages;
    Ok(report)
}

/// A Rust crate found in `f` (a Cargo.lock or a cargo-auditable binary).
fn crate_package(name: String, version: String, f: &Found, digests: &[Digest]) -> Package {
    Package {
        purl: format!("pkg:cargo/{}@{}", pct(&name), pct(&version)),
        name,
        version,
        ecosystem: Ecosystem::Cargo,
        licenses: Vec::new(),
        layer: f.layer,
        layer_digest: digests[f.layer].clone(),
        path: f.path.clone(),
        source: None,
    }
}

/// SPDX 2.3 JSON. `created` is the document's creation time (RFC 3339).
pub fn spdx_json(
    sbom: &Sbom,
    image_name: &str,
    image_id: &Digest,
    created: &str,
) -> serde_json::Value {
    let mut packages = vec![serde_json::json!({
        "SPDXID": "SPDXRef-Image",
        "name": image_name,
        "versionInfo": image_id.to_string(),
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": "CONTAINER",
    })];
    let mut relationships = vec![serde_json::json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": "SPDXRef-Image",
    })];
    for (i, p) in sbom.packages.iter().enumerate() {
        let id = format!("SPDXRef-Package-{}-{i}", p.ecosystem.as_str());
        let mut pkg = serde_json::json!({
            "SPDXID": id,
            "name": p.name,
            "versionInfo": p.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "sourceInfo": format!("found in layer {} ({}) at /{}", p.layer, p.layer_digest, p.path),
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": p.purl,
            }],
        });
        if !p.licenses.is_empty() {
            pkg["licenseComments"] = format!("declared: {}", p.licenses.join(", ")).into();
        }
        packages.push(pkg);
        relationships.push(serde_json::json!({
            "spdxElementId": "SPDXRef-Image",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
    }
    serde_json::json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": image_name,
        "documentNamespace": format!("https://strata.invalid/spdx/{}", image_id.hex()),
        "creationInfo": {
            "created": created,
            "creators": [format!("Tool: strata-{}", env!("CARGO_PKG_VERSION"))],
        },
        "packages": packages,
        "relationships": relationships,
    })
}

/// CycloneDX 1.6 JSON.
pub fn cyclonedx_json(
    sbom: &Sbom,
    image_name: &str,
    image_id: &Digest,
    created: &str,
) -> serde_json::Value {
    let hex = image_id.hex();
    // A stable serial number: the image ID shaped as a version-4 UUID.
    let serial = format!(
        "urn:uuid:{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    );
    let components: Vec<_> = sbom
        .packages
        .iter()
        .map(|p| {
            let mut c = serde_json::json!({
                "type": "library",
                "bom-ref": format!("{}#{}", p.purl, p.path),
                "name": p.name,
                "version": p.version,
                "purl": p.purl,
                "properties": [
                    {"name": "strata:layer", "value": p.layer.to_string()},
                    {"name": "strata:layerDigest", "value": p.layer_digest.to_string()},
                    {"name": "strata:path", "value": format!("/{}", p.path)},
                ],
            });
            if !p.licenses.is_empty() {
                c["licenses"] = p
                    .licenses
                    .iter()
                    .map(|l| serde_json::json!({"license": {"name": l}}))
                    .collect::<Vec<_>>()
                    .into();
            }
            c
        })
        .collect();
    serde_json::json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": serial,
        "version": 1,
        "metadata": {
            "timestamp": created,
            "tools": {"components": [{"type": "application", "name": "strata", "version": env!("CARGO_PKG_VERSION")}]},
            "component": {"type": "container", "bom-ref": image_id.to_string(), "name": image_name, "version": image_id.to_string()},
        },
        "components": components,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_stanzas_keep_continuation_lines() {
        let s =
            stanzas("Package: a\nVersion: 1\nDescription: x\n more\n\nPackage: b\nVersion: 2\n");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0]["Description"], "x\nmore");
        assert_eq!(s[1]["Package"], "b");
    }

    #[test]
    fn go_build_info_lists_the_main_module_and_its_dependencies() {
        let mut bin = b"\x7fELF".to_vec();
        bin.resize(32, 0);
        bin.extend_from_slice(b"\xff Go buildinf:");
        bin.push(8);
        bin.push(2);
        bin.resize(64, 0);
        let info = format!(
            "{}path\texample.com/app\nmod\texample.com/app\tv1.2.3\th1:x\ndep\tgolang.org/x/sys\tv0.1.0\th1:y\n{}",
            "0".repeat(16),
            "1".repeat(16)
        );
        for s in ["go1.22.1", info.as_str()] {
            bin.push(s.len() as u8);
            bin.extend_from_slice(s.as_bytes());
        }
        assert_eq!(
            go_modules(&bin).unwrap(),
            [
                ("example.com/app".to_owned(), "v1.2.3".to_owned()),
                ("golang.org/x/sys".to_owned(), "v0.1.0".to_owned())
            ]
        );
        assert!(go_modules(b"\x7fELF not go").is_none());
    }

    /// A minimal ELF64 with the sections given, for the section reader.
    fn elf(sections: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut strtab = vec![0u8];
        let mut names = Vec::new();
        for (n, _) in sections.iter().chain([(".shstrtab", Vec::new())].iter()) {
            names.push(strtab.len() as u32);
            strtab.extend_from_slice(n.as_bytes());
            strtab.push(0);
        }
        let mut bin = vec![0u8; 64];
        bin[..6].copy_from_slice(b"\x7fELF\x02\x01");
        let mut offsets = Vec::new();
        for (_, data) in sections {
            offsets.push((bin.len(), data.len()));
            bin.extend_from_slice(data);
        }
        offsets.push((bin.len(), strtab.len()));
        bin.extend_from_slice(&strtab);
        let shoff = bin.len();
        bin.extend_from_slice(&[0u8; 64]); // the null section
        for (i, (off, size)) in offsets.iter().enumerate() {
            let mut h = [0u8; 64];
            h[..4].copy_from_slice(&names[i].to_le_bytes());
            h[0x18..0x20].copy_from_slice(&(*off as u64).to_le_bytes());
            h[0x20..0x28].copy_from_slice(&(*size as u64).to_le_bytes());
            bin.extend_from_slice(&h);
        }
        let n = offsets.len() + 1;
        bin[0x28..0x30].copy_from_slice(&(shoff as u64).to_le_bytes());
        bin[0x3A..0x3C].copy_from_slice(&64u16.to_le_bytes());
        bin[0x3C..0x3E].copy_from_slice(&(n as u16).to_le_bytes());
        bin[0x3E..0x40].copy_from_slice(&((n - 1) as u16).to_le_bytes());
        bin
    }

    #[test]
    fn cargo_auditable_data_lists_the_crates_of_a_rust_binary() {
        use std::io::Write;
        let json = br#"{"packages":[{"name":"myapp","version":"0.3.0","source":"local","root":true},{"name":"serde","version":"1.0.200","source":"crates.io"}]}"#;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(json).unwrap();
        let bin = elf(&[(".text", vec![0x90; 32]), (".dep-v0", z.finish().unwrap())]);
        assert_eq!(
            auditable_crates(&bin).unwrap(),
            [
                ("myapp".to_owned(), "0.3.0".to_owned()),
                ("serde".to_owned(), "1.0.200".to_owned())
            ]
        );
        assert!(auditable_crates(&elf(&[(".text", vec![1, 2, 3])])).is_none());
        // Garbage offsets are refused, not followed.
        let mut broken = bin.clone();
        broken[0x28..0x30].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(auditable_crates(&broken).is_none());
    }

    #[test]
    fn node_module_paths_and_purl_escaping() {
        assert!(is_node_module("app/node_modules/left-pad/package.json"));
        assert!(is_node_module("node_modules/@babel/core/package.json"));
        assert!(!is_node_module("app/package.json"));
        assert_eq!(pct("@babel"), "%40babel");
        assert_eq!(pct("1:2.3+b1"), "1%3A2.3%2Bb1");
    }
}
