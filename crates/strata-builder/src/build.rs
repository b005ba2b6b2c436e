//! A whole build: parse, plan which stages the target needs, build them
//! (independent stages in parallel, each on its own thread), then record
//! the target stage as an image and name it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use strata_core::{Platform, Reference};
use strata_dockerfile::Severity;
use strata_dockerfile::dockerignore::DockerIgnore;
use strata_runtime::Network;
use strata_snapshot::Snapshots;
use strata_store::{ImageRecord, Lease, MovedName, NewImage, Store};

use crate::context::Context;
use crate::error::{BuildError, Result};
use crate::fs_view::IndexCache;
use crate::plan::Plan;
use crate::progress::{Event, Progress, StepId};
use crate::stage::StageRunner;
use crate::state::StageState;

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// The Dockerfile's text.
    pub dockerfile: String,
    /// Its name in messages (`Dockerfile`, `sub/Dockerfile`).
    pub dockerfile_name: String,
    /// The context directory.
    pub context: PathBuf,
    /// The `.dockerignore` text that applies (already chosen), if any.
    pub dockerignore: Option<String>,
    /// Names for the result.
    pub tags: Vec<Reference>,
    /// `--build-arg` values.
    pub build_args: BTreeMap<String, String>,
    /// `--target`.
    pub target: Option<String>,
    /// `--no-cache`.
    pub no_cache: bool,
    /// `--label` values added to the image.
    pub labels: BTreeMap<String, String>,
    /// The network of RUN steps that do not choose one.
    pub network: NetworkMode,
    /// `--secret id=ID,src=PATH`.
    pub secrets: BTreeMap<String, PathBuf>,
    /// File times and `created` (0 unless SOURCE_DATE_EPOCH says otherwise).
    pub epoch: i64,
    /// The platform to build for (the host's).
    pub platform: Platform,
    /// The OCI runtime binary for RUN.
    pub runtime: String,
}

/// `--network` of a build or a RUN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkMode {
    /// The host's network (so `apt-get install` works).
    Default,
    /// No network but loopback.
    None,
    /// The host's network.
    Host,
}

impl NetworkMode {
    pub(crate) fn runtime(self) -> Network {
        match self {
            NetworkMode::None => Network::None,
            NetworkMode::Default | NetworkMode::Host => Network::Host,
        }
    }
}

/// Where `FROM` images come from. The store-backed default finds images
/// already in the store; the CLI can add pulling.
pub trait BaseImages: Sync {
    /// The image `reference` names, for `platform`.
    fn get(
        &self,
        store: &Store,
        reference: &str,
        platform: &Platform,
    ) -> std::result::Result<ImageRecord, String>;
}

/// Finds base images in the store only.
pub struct StoreImages;

impl BaseImages for StoreImages {
    fn get(
        &self,
        store: &Store,
        reference: &str,
        _platform: &Platform,
    ) -> std::result::Result<ImageRecord, String> {
        store.resolve(reference).map_err(|e| match e {
            strata_store::StoreError::ImageNotFound(_) => format!(
                "{reference}: not found in the local store (pulling base images comes with `strata pull`)"
            ),
            e => e.to_string(),
        })
    }
}

/// A file fetched for `ADD <url>`.
pub struct Fetched {
    /// Where the bytes are (a temporary file the builder may read).
    pub path: PathBuf,
    /// The `Last-Modified` time, Unix seconds.
    pub last_modified: Option<i64>,
}

/// Downloads `ADD` URLs (the builder does no network I/O itself).
pub trait Fetcher: Sync {
    /// Fetches `url`.
    fn fetch(&self, url: &str) -> std::result::Result<Fetched, String>;
}

/// Refuses every URL.
pub struct NoFetch;

impl Fetcher for NoFetch {
    fn fetch(&self, url: &str) -> std::result::Result<Fetched, String> {
        Err(format!("cannot fetch {url}: no network access configured"))
    }
}

/// What a build made.
#[derive(Debug, Clone)]
pub struct BuildResult {
    /// The image.
    pub image: ImageRecord,
    /// Names taken from other images.
    pub moved: Vec<MovedName>,
}

/// Services shared by every stage of one build.
pub(crate) struct Shared<'a> {
    pub(crate) store: &'a Store,
    pub(crate) snapshots: Snapshots,
    pub(crate) context: Context,
    pub(crate) progress: &'a dyn Progress,
    pub(crate) fetcher: &'a dyn Fetcher,
    pub(crate) bases: &'a dyn BaseImages,
    pub(crate) req: &'a BuildRequest,
    pub(crate) indexes: IndexCache,
    steps: AtomicU32,
    results: Vec<Slot>,
}

type Slot = (
    Mutex<Option<std::result::Result<Arc<StageState>, String>>>,
    Condvar,
);

impl Shared<'_> {
    /// A new step number.
    pub(crate) fn next_step(&self) -> StepId {
        self.steps.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Waits for stage `i` to finish.
    pub(crate) fn wait_stage(&self, i: usize, name: &str) -> Result<Arc<StageState>> {
        let (lock, cv) = &self.results[i];
        let mut guard = lock.lock().unwrap_or_else(|p| p.into_inner());
        while guard.is_none() {
            guard = cv.wait(guard).unwrap_or_else(|p| p.into_inner());
        }
        match guard.as_ref().expect("set") {
            Ok(s) => Ok(s.clone()),
            Err(_) => Err(BuildError::Dependency(name.to_owned())),
        }
    }

    fn finish_stage(&self, i: usize, r: std::result::Result<Arc<StageState>, String>) {
        let (lock, cv) = &self.results[i];
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
        cv.notify_all();
    }
}

/// Builds an image.
pub fn build(
    store: &Store,
    req: &BuildRequest,
    bases: &dyn BaseImages,
    fetcher: &dyn Fetcher,
    progress: &dyn Progress,
) -> Result<BuildResult> {
    let parsed = strata_dockerfile::parse(&req.dockerfile);
    // The instruction layer's diagnostics include the parser's.
    let (dockerfile, diags) = strata_dockerfile::instructions(&parsed);
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.render(&req.dockerfile_name, &req.dockerfile))
        .collect();
    if !errors.is_empty() {
        return Err(BuildError::Dockerfile(errors.join("\n")));
    }
    if let Some(syntax) = &dockerfile.directives.syntax {
        let text = format!(
            "the syntax directive ({syntax}) is ignored: strata has its own Dockerfile frontend"
        );
        progress.event(&Event::Warning { text: &text });
    }
    let plan = Plan::new(&dockerfile, req)?;
    let ignore = match &req.dockerignore {
        Some(text) => DockerIgnore::parse(text)
            .map_err(|e| BuildError::Context(format!(".dockerignore: {e}")))?,
        None => DockerIgnore::from_patterns(&[]).expect("no patterns"),
    };
    let shared = Shared {
        store,
        snapshots: Snapshots::open(&store.layout().snapshots_dir())?,
        context: Context::new(store, &req.context, ignore)?,
        progress,
        fetcher,
        bases,
        req,
        indexes: IndexCache::default(),
        steps: AtomicU32::new(0),
        results: (0..dockerfile.stages.len())
            .map(|_| (Mutex::new(None), Condvar::new()))
            .collect(),
    };
    let outcome: Vec<(usize, Result<Arc<StageState>>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = plan
            .needed
            .iter()
            .map(|&i| {
                let shared = &shared;
                let plan = &plan;
                let dockerfile = &dockerfile;
                (
                    i,
                    scope.spawn(move || {
                        let r =
                            StageRunner::new(shared, plan, dockerfile, i).and_then(|mut s| s.run());
                        shared.finish_stage(
                            i,
                            r.as_ref().map(|s| s.clone()).map_err(|e| e.to_string()),
                        );
                        r
                    }),
                )
            })
            .collect();
        handles
            .into_iter()
            .map(|(i, h)| {
                (
                    i,
                    h.join().unwrap_or_else(|_| {
                        Err(BuildError::Stage("a build thread panicked".into()))
                    }),
                )
            })
            .collect()
    });
    shared.context.save_hashes()?;
    // Report the first real failure, not a stage that only waited on it.
    let mut first_dependency = None;
    let mut target_state = None;
    for (i, r) in outcome {
        match r {
            Ok(s) if i == plan.target => target_state = Some(s),
            Ok(_) => {}
            Err(BuildError::Dependency(n)) => {
                first_dependency.get_or_insert(BuildError::Dependency(n));
            }
            Err(e) => return Err(e),
        }
    }
    if let Some(e) = first_dependency {
        return Err(e);
    }
    let state = target_state.expect("the target stage was built");
    export(&shared, &state)
}

fn export(shared: &Shared<'_>, state: &StageState) -> Result<BuildResult> {
    let id = shared.next_step();
    shared.progress.event(&Event::Start {
        id,
        name: "exporting to image",
    });
    let started = std::time::Instant::now();
    let store = shared.store;
    let mut lease = Lease::new(store)?;
    let (config, manifest) = state.image(&shared.req.labels);
    store.put_blob(&mut lease, config.bytes())?;
    store.put_blob(&mut lease, manifest.bytes())?;
    let mut layers = Vec::new();
    for l in &state.layers {
        lease.protect(&l.blob)?;
        let info = store
            .layer_info(&l.blob)?
            .ok_or_else(|| BuildError::Layer(format!("layer {} is not recorded", l.blob)))?;
        layers.push((
            l.blob.clone(),
            strata_store::LayerScan {
                diff_id: info.diff_id,
                tar_size: info.tar_size,
                unpacked_size: info.unpacked_size,
                entries: 0,
            },
        ));
    }
    let (image, moved) = store.commit_image(
        &lease,
        NewImage {
            manifest: manifest.descriptor(strata_core::media_type::OCI_MANIFEST),
            config: &config,
            layers: &layers,
            names: &shared.req.tags,
            parent: None,
        },
    )?;
    let note = format!("writing image {} done", image.id);
    shared.progress.event(&Event::Note { id, text: &note });
    for t in &shared.req.tags {
        let note = format!("naming to {t} done");
        shared.progress.event(&Event::Note { id, text: &note });
    }
    shared.progress.event(&Event::Done {
        id,
        seconds: started.elapsed().as_secs_f64(),
    });
    Ok(BuildResult { image, moved })
}
