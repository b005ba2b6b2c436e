//! Runs one process in a container: an OCI runtime bundle driven by runc.
//!
//! The crate knows nothing of images, layers or the store. It receives the
//! mounts that form the root file system (typically one overlay from
//! `strata-snapshot`), extra mounts, and a process, and runs the process to
//! completion with Docker's defaults ([`run`]).
//!
//! A run, step by step (see `container.rs`):
//!
//! 1. find the runtime binary ([`Error::RuntimeNotFound`] before anything
//!    else happens);
//! 2. write the bundle `<state_dir>/bundles/<id>` (`bundle.rs`): generated
//!    `/etc/resolv.conf`, `/etc/hosts`, `/etc/hostname`;
//! 3. mount the rootfs mounts at `<bundle>/rootfs` (through a [`Mounter`]);
//! 4. create the missing mount points ourselves and remember them
//!    (`stubs.rs`), so they can be removed and never reach the layer;
//! 5. write `config.json` (`spec.rs`: Docker's namespaces, capabilities,
//!    mounts, masked paths);
//! 6. `runc run`, streaming output (`runc.rs`);
//! 7. always, also on error or panic: `runc delete` if needed, remove the
//!    cgroup, remove the stubs, unmount, remove the bundle.
//!
//! ```no_run
//! use std::io::Write;
//! use std::path::Path;
//!
//! use strata_runtime::{Mount, Network, Process, RunRequest, Stream};
//!
//! let rootfs = [Mount {
//!     destination: "/".into(),
//!     kind: "overlay".into(),
//!     source: "overlay".into(),
//!     options: vec![
//!         "lowerdir=/snapshots/2/fs:/snapshots/1/fs".into(),
//!         "upperdir=/snapshots/run-7/fs".into(),
//!         "workdir=/snapshots/run-7/work".into(),
//!     ],
//! }];
//! let cache = [Mount::bind("/var/lib/strata/cache/apt", "/var/cache/apt", false)];
//! let req = RunRequest {
//!     id: "run-7",
//!     state_dir: Path::new("/var/lib/strata/runtime-v1"),
//!     rootfs: &rootfs,
//!     mounts: &cache,
//!     process: Process {
//!         args: vec!["/bin/sh".into(), "-c".into(), "apt-get update".into()],
//!         env: vec!["PATH=/usr/sbin:/usr/bin:/sbin:/bin".into()],
//!         cwd: "/".into(),
//!         uid: 0,
//!         gid: 0,
//!         additional_gids: vec![],
//!     },
//!     network: Network::Host,
//!     hostname: "buildkitsandbox",
//!     readonly_rootfs: false,
//!     runtime: strata_runtime::DEFAULT_RUNTIME,
//! };
//! let status = strata_runtime::run(&req, &mut |stream, data| {
//!     let _ = match stream {
//!         Stream::Stdout => std::io::stdout().write_all(data),
//!         Stream::Stderr => std::io::stderr().write_all(data),
//!     };
//! })?;
//! if !status.success() {
//!     // A failed command is a status, not an error: "exit code: 100".
//!     let _ = writeln!(std::io::stderr(), "{status}");
//! }
//! # Ok::<(), strata_runtime::Error>(())
//! ```
//!
//! Growing into `strata run` (detached containers, exec, signals, limits)
//! means new runc verbs next to `Runc::run` and new fields in the spec;
//! the bundle, mounts and cleanup stay as they are.
#![deny(missing_docs)]

mod bundle;
mod caps;
mod console;
mod container;
mod container_spec;
mod defaults;
mod error;
mod mounter;
mod profile;
mod request;
mod runc;
mod shim;
mod spec;
mod stubs;

use std::path::Path;

pub use error::{Error, Result};
pub use mounter::{HostMounter, Mounter};
pub use request::{DEFAULT_RUNTIME, ExitStatus, Mount, Network, Process, RunRequest, Stream};

pub use console::{parse_size, request_resize};
pub use container_spec::{ContainerSpec, INIT_PATH, Resources};
pub use shim::{
    ExecSpec, ProcessIo, cleanup_leftovers, exec, exec_detached, exec_tty, is_running, serve,
};

use container::Prepared;
use profile::Profile;
use runc::Runc;

/// The host file copied into every container as `/etc/resolv.conf`.
const HOST_RESOLV_CONF: &str = "/etc/resolv.conf";

/// The capability names (`CAP_*`) a container gets under Docker's rules
/// for `--cap-add`, `--cap-drop` and `--privileged` on this host; an
/// unknown or unavailable name is an [`Error::InvalidRequest`].
pub fn capabilities(add: &[String], drop: &[String], privileged: bool) -> Result<Vec<String>> {
    caps::tweak(add, drop, privileged, caps::host_bounding())
        .map(|names| names.into_iter().map(str::to_owned).collect())
        .map_err(|reason| Error::invalid("exec", reason))
}

/// Runs `req` to completion, passing output chunks to `output` as they
/// arrive (on this thread), and returns how the process ended. A process
/// that fails is not an error; a container that cannot be set up is
/// ([`Error::Start`] when runc fails, with its message also on standard
/// error), except that a command that cannot be executed gets Docker's
/// exit code 127 (not found) or 126 (not executable).
///
/// Whatever happens, everything the run put on the host is removed
/// afterwards; an error in that cleanup is returned when the run itself
/// succeeded.
pub fn run(req: &RunRequest<'_>, output: &mut dyn FnMut(Stream, &[u8])) -> Result<ExitStatus> {
    run_with(req, &HostMounter, output)
}

/// [`run`], mounting the root file system through `mounter`.
pub fn run_with(
    req: &RunRequest<'_>,
    mounter: &dyn Mounter,
    output: &mut dyn FnMut(Stream, &[u8]),
) -> Result<ExitStatus> {
    let runc = Runc::find(req.runtime, bundle::Bundle::runc_root(req.state_dir))?;
    let mut prepared = Prepared::new(
        req,
        &Profile::default(),
        runc,
        mounter,
        Path::new(HOST_RESOLV_CONF),
    )?;
    tracing::debug!(id = req.id, bundle = %prepared.bundle().dir().display(), "starting container");
    let result = prepared.runc().run(req.id, prepared.bundle(), output);
    let cleaned = prepared.cleanup();
    match (result, cleaned) {
        (Ok(status), Ok(())) => Ok(status),
        (Ok(_), Err(e)) => Err(e),
        (Err(e), cleaned) => {
            if let Err(c) = cleaned {
                tracing::error!(id = req.id, error = %c, "cleanup after a failed run failed");
            }
            Err(e)
        }
    }
}
