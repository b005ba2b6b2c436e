//! `RUN`: a process in a container whose root is an overlay of the stage's
//! layers, and a new layer made from what it changed.
//!
//! Layers are unpacked into snapshots only here, and only those not yet
//! unpacked (snapshots are shared by chain ID across builds). The overlay's
//! upper directory becomes the new layer's tar and then, renamed, the new
//! layer's own snapshot, so a following RUN unpacks nothing.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Instant;

use strata_runtime::{Mount, Network, Process, RunRequest};
use strata_snapshot::{Snapshots, TarOptions};
use strata_store::{BlobWriter, LayerScan, Lease, Store};

use crate::error::{BuildError, Result};
use crate::layer_out::layer_from;
use crate::progress::{Event, Progress, StepId, Stream};
use crate::state::{LayerRef, StageState};

/// Everything a RUN needs besides the stage.
pub(crate) struct RunSpec {
    pub(crate) argv: Vec<String>,
    pub(crate) env: Vec<String>,
    pub(crate) cwd: String,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) network: Network,
    pub(crate) mounts: Vec<Mount>,
}

/// How a RUN step is shown to the user.
pub(crate) struct Shown<'a> {
    pub(crate) step: &'a str,
    pub(crate) command: &'a str,
    pub(crate) id: StepId,
    pub(crate) progress: &'a dyn Progress,
}

/// Shared services for RUN steps.
pub(crate) struct Runner<'a> {
    pub(crate) store: &'a Store,
    pub(crate) snapshots: &'a Snapshots,
    pub(crate) runtime_dir: PathBuf,
    pub(crate) runtime: String,
    pub(crate) epoch: i64,
}

/// Snapshot directories for every layer of `state`, base first, unpacking
/// those that are missing.
pub(crate) fn lowers(
    store: &Store,
    snapshots: &Snapshots,
    state: &StageState,
) -> Result<Vec<PathBuf>> {
    let chains = state.chain_ids();
    let mut out = Vec::with_capacity(chains.len());
    for (chain, layer) in chains.iter().zip(&state.layers) {
        let dir = match snapshots.committed(chain) {
            Some(d) => d,
            // Hard links into lower layers need the lowers to unpack.
            None => snapshots.unpack_over(chain, &out, &mut *store.open_layer(&layer.blob)?)?,
        };
        out.push(dir);
    }
    Ok(out)
}

impl Runner<'_> {
    /// Runs `spec` on top of `state`. Returns the new layer, or `None` when
    /// the command changed nothing. A non-zero exit is an error carrying
    /// the last lines of output.
    pub(crate) fn run(
        &self,
        lease: &mut Lease,
        state: &StageState,
        spec: &RunSpec,
        shown: &Shown<'_>,
    ) -> Result<Option<(LayerRef, LayerScan)>> {
        let Shown {
            step,
            command,
            id,
            progress,
        } = *shown;
        let lowers = lowers(self.store, self.snapshots, state)?;
        let key = format!("run-{:016x}", rand::random::<u64>());
        let active = self.snapshots.prepare(&key, &lowers)?;
        let rootfs = [Mount {
            destination: "/".to_owned(),
            kind: active.mount.kind.clone(),
            source: active.mount.source.clone(),
            options: active.mount.absolute_options(),
        }];
        let started = Instant::now();
        let mut tail: VecDeque<String> = VecDeque::new();
        let mut partial = String::new();
        let req = RunRequest {
            id: &key,
            state_dir: &self.runtime_dir,
            rootfs: &rootfs,
            mounts: &spec.mounts,
            process: Process {
                args: spec.argv.clone(),
                env: spec.env.clone(),
                cwd: spec.cwd.clone(),
                uid: spec.uid,
                gid: spec.gid,
                additional_gids: Vec::new(),
            },
            network: spec.network,
            hostname: "buildkitsandbox",
            readonly_rootfs: false,
            runtime: &self.runtime,
        };
        let status = strata_runtime::run(&req, &mut |stream, data| {
            let s = match stream {
                strata_runtime::Stream::Stdout => Stream::Stdout,
                strata_runtime::Stream::Stderr => Stream::Stderr,
            };
            progress.event(&Event::Output {
                id,
                elapsed: started.elapsed().as_secs_f64(),
                stream: s,
                data,
            });
            partial.push_str(&String::from_utf8_lossy(data));
            while let Some(pos) = partial.find('\n') {
                tail.push_back(partial[..pos].to_owned());
                partial.drain(..=pos);
                if tail.len() > 10 {
                    tail.pop_front();
                }
            }
        });
        let status = match status {
            Ok(s) => s,
            Err(e) => {
                let _ = self.snapshots.remove(active);
                return Err(e.into());
            }
        };
        if !status.success() {
            let _ = self.snapshots.remove(active);
            if !partial.is_empty() {
                tail.push_back(partial);
            }
            return Err(BuildError::RunFailed {
                step: step.to_owned(),
                command: command.to_owned(),
                code: status.code().unwrap_or(-1),
                tail: tail.into_iter().collect(),
            });
        }
        let mut blob = BlobWriter::new(lease)?;
        let stats = strata_snapshot::diff_upper(
            &active.upper,
            &mut blob,
            &TarOptions { epoch: self.epoch },
        )?;
        if stats.entries == 0 {
            self.snapshots.remove(active)?;
            return Ok(None);
        }
        let (digest, size) = blob.commit(lease, None)?;
        let (layer, scan) = layer_from(digest, size, stats.unpacked_size, stats.entries);
        let mut diff_ids = state.config.rootfs.diff_ids.clone();
        diff_ids.push(layer.diff_id.clone());
        let chain = strata_core::chain_ids(&diff_ids)
            .pop()
            .expect("at least one layer");
        self.snapshots.commit(active, &chain)?;
        Ok(Some((layer, scan)))
    }
}
