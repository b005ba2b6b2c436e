//! `exec`: another process in a running container, with the container's
//! environment, user and capabilities unless the options say otherwise.

use strata_runtime::{ExecSpec, Process, ProcessIo, Stream};
use strata_store::{ContainerRecord, ContainerStatus, Store};

use crate::error::{ContainerError, Result};
use crate::lifecycle;
use crate::model::Definition;

/// `docker exec`'s options.
#[derive(Clone, Debug, Default)]
pub struct ExecOptions {
    /// The command and its arguments.
    pub command: Vec<String>,
    /// `--env-file` then `-e` entries.
    pub env: Vec<String>,
    /// `-u`.
    pub user: Option<String>,
    /// `-w`.
    pub workdir: Option<String>,
    /// `-t`.
    pub tty: bool,
    /// `-i`.
    pub interactive: bool,
    /// `-d`.
    pub detach: bool,
    /// `--privileged`.
    pub privileged: bool,
}

/// Runs `opts.command` in running container `rec` with this process's
/// standard streams; returns its exit code. With `opts.tty`, the process
/// gets a terminal of its own: `io` feeds it (input, size, resizes) and
/// `output` receives what it writes.
pub fn exec(
    store: &Store,
    rec: &ContainerRecord,
    opts: &ExecOptions,
    io: ProcessIo,
    output: &mut dyn FnMut(Stream, &[u8]),
) -> Result<i32> {
    let rec = lifecycle::refresh(store, rec.clone())?;
    let pid = match (rec.status, rec.pid) {
        (ContainerStatus::Running, Some(pid)) => pid,
        _ => return Err(ContainerError::NotRunning(rec.id.clone())),
    };
    let def = Definition::from_json(&rec.spec)?;
    let root = std::path::PathBuf::from(format!("/proc/{pid}/root"));
    let read = |path: &str| std::fs::read_to_string(root.join(path.trim_start_matches('/'))).ok();
    let user = opts.user.clone().unwrap_or_else(|| def.config.user.clone());
    let ids = crate::user::resolve(&user, &read)?;
    let mut env = lifecycle::process_env(&def, &ids.home);
    if opts.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".into());
    }
    crate::model::merge_env(&mut env, &opts.env);
    let cwd = opts
        .workdir
        .clone()
        .filter(|w| !w.is_empty())
        .or_else(|| Some(def.config.working_dir.clone()).filter(|w| !w.is_empty()))
        .unwrap_or_else(|| "/".into());
    let h = &def.host_config;
    let privileged = h.privileged || opts.privileged;
    let caps = strata_runtime::capabilities(
        h.cap_add.as_deref().unwrap_or_default(),
        h.cap_drop.as_deref().unwrap_or_default(),
        privileged,
    )?;
    let spec = ExecSpec {
        process: Process {
            args: opts.command.clone(),
            env,
            cwd,
            uid: ids.uid,
            gid: ids.gid,
            additional_gids: ids.additional_gids,
        },
        tty: opts.tty,
        no_new_privileges: def.no_new_privileges,
        capabilities: caps,
    };
    let state_dir = store.layout().runtime_dir();
    if opts.detach {
        strata_runtime::exec_detached(&state_dir, &h.runtime, &rec.id, &spec)
            .map_err(runtime_error)?;
        return Ok(0);
    }
    let status = match opts.tty {
        true => strata_runtime::exec_tty(&state_dir, &h.runtime, &rec.id, &spec, io, output),
        false => strata_runtime::exec(&state_dir, &h.runtime, &rec.id, &spec),
    }
    .map_err(runtime_error)?;
    Ok(status.code().unwrap_or(255))
}

/// A runtime error as the container crate reports it: a command that
/// cannot be executed keeps Docker's code.
fn runtime_error(e: strata_runtime::Error) -> ContainerError {
    match e {
        strata_runtime::Error::CannotExecute { code, message, .. } => {
            ContainerError::CannotExecute { code, message }
        }
        e => e.into(),
    }
}
