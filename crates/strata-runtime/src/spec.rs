//! `config.json`: the OCI runtime spec for a [`RunRequest`], with Docker's
//! defaults. Pure: it names bundle files but touches no file system, so a
//! snapshot test pins the whole document.
//!
//! What goes in: namespaces mount, pid, ipc, uts (and network for
//! [`Network::None`]); Docker's capabilities with `noNewPrivileges` false;
//! no rlimits (the process inherits runc's, so nothing exceeds a hard
//! limit); the standard mounts, then the generated `/etc` files, then the
//! request's mounts; Docker's masked and read-only paths; a deny-all device
//! cgroup rule (runc appends its standard allowed devices); and the cgroup
//! `/strata/<id>`.

use std::path::Path;

use oci_spec::runtime::{
    Capabilities, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxCpuBuilder,
    LinuxDeviceCgroupBuilder, LinuxMemoryBuilder, LinuxNamespaceBuilder, LinuxNamespaceType,
    LinuxPidsBuilder, LinuxResourcesBuilder, MountBuilder, ProcessBuilder, RootBuilder, Spec,
    SpecBuilder, UserBuilder,
};

use crate::bundle::Bundle;
use crate::defaults;
use crate::error::{Error, Result};
use crate::profile::Profile;
use crate::request::{Mount, Network, RunRequest};

/// The OCI version written; runc 1.1 implements 1.0.2.
const OCI_VERSION: &str = "1.0.2-dev";

/// Checks what runc would otherwise reject late or misread.
pub(crate) fn validate(req: &RunRequest<'_>) -> Result<()> {
    let id = req.id;
    let bad = |reason: String| Err(Error::invalid(id, reason));
    let id_ok = !id.is_empty()
        && id.len() <= 128
        && id != "."
        && id != ".."
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.+".contains(&b));
    if !id_ok {
        return bad("the id must be 1 to 128 letters, digits, '_', '-', '.' or '+'".into());
    }
    match req.rootfs.first() {
        None => return bad("no rootfs mounts".into()),
        Some(m) if clean(&m.destination).as_deref() != Some("/") => {
            return bad(format!(
                "the first rootfs mount must be at /, not {}",
                m.destination
            ));
        }
        Some(_) => {}
    }
    for m in req.rootfs.iter().chain(req.mounts) {
        if clean(&m.destination).is_none() {
            return bad(format!(
                "mount destination {:?} is not an absolute path",
                m.destination
            ));
        }
    }
    if req
        .mounts
        .iter()
        .any(|m| clean(&m.destination).as_deref() == Some("/"))
    {
        return bad("a mount at / belongs in rootfs".into());
    }
    if req.process.args.is_empty() {
        return bad("no command".into());
    }
    if clean(&req.process.cwd).is_none() {
        return bad(format!(
            "working directory {:?} is not an absolute path",
            req.process.cwd
        ));
    }
    if req.hostname.is_empty() || req.hostname.contains(['/', '\0', '\n', ' ']) {
        return bad(format!("invalid host name {:?}", req.hostname));
    }
    Ok(())
}

/// `path` cleaned as Go's `path.Clean` does for an absolute path (what
/// Docker does to mount targets): no duplicate slashes, `.`, trailing
/// slash, and `..` resolved lexically, never above `/`. `None` unless it
/// is absolute and free of NUL bytes.
pub(crate) fn clean(path: &str) -> Option<String> {
    if !path.starts_with('/') || path.contains('\0') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if part == ".." {
            parts.pop();
        } else {
            parts.push(part);
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// Every mount inside the container, in mount order: the standard ones
/// (minus those the request replaces), the generated `/etc` files, then
/// the request's mounts, parents before children.
pub(crate) fn container_mounts(req: &RunRequest<'_>, bundle: &Bundle) -> Vec<Mount> {
    let mut user: Vec<Mount> = req
        .mounts
        .iter()
        .map(|m| {
            let mut m = m.clone();
            m.destination = clean(&m.destination).unwrap_or(m.destination);
            if m.kind == "bind" && !m.options.iter().any(|o| o == "bind" || o == "rbind") {
                m.options.insert(0, "rbind".to_owned());
            }
            m
        })
        .collect();
    // A stable sort by depth, as Docker does, so that `/a` is mounted
    // before `/a/b` whatever order the caller used.
    user.sort_by_key(|m| m.destination.matches('/').count() - usize::from(m.destination == "/"));
    let replaced = |dest: &str| {
        user.iter().any(|u| {
            u.destination == dest || (u.destination == "/dev" && dest.starts_with("/dev/"))
        })
    };
    let etc = defaults::etc_mounts([
        (
            "/etc/resolv.conf",
            bundle.resolv_conf().display().to_string(),
        ),
        ("/etc/hosts", bundle.hosts().display().to_string()),
        ("/etc/hostname", bundle.hostname().display().to_string()),
    ]);
    let mut all: Vec<Mount> = defaults::system_mounts()
        .into_iter()
        .chain(etc)
        .filter(|m| !replaced(&m.destination))
        .collect();
    all.extend(user);
    all
}

/// The runtime spec for `req` in `bundle`, with `profile`'s terminal,
/// capabilities, privileges, devices and limits.
pub(crate) fn spec(req: &RunRequest<'_>, bundle: &Bundle, profile: &Profile) -> Result<Spec> {
    build(req, bundle, profile).map_err(|source| Error::Spec {
        id: req.id.to_owned(),
        source,
    })
}

fn build(
    req: &RunRequest<'_>,
    bundle: &Bundle,
    profile: &Profile,
) -> Result<Spec, oci_spec::OciSpecError> {
    let process = oci_process(
        &req.process,
        profile.terminal,
        profile.capabilities.iter().copied().collect(),
        profile.no_new_privileges,
    )?;

    let mut namespaces = Vec::new();
    for typ in [
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Ipc,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Mount,
    ] {
        namespaces.push(LinuxNamespaceBuilder::default().typ(typ).build()?);
    }
    if req.network == Network::None {
        let net = LinuxNamespaceBuilder::default().typ(LinuxNamespaceType::Network);
        namespaces.push(net.build()?);
    }
    // Deny every device, then (privileged) allow them all again; runc
    // appends its standard allowed devices either way.
    let mut device_rules = vec![
        LinuxDeviceCgroupBuilder::default()
            .allow(false)
            .access("rwm")
            .build()?,
    ];
    if profile.privileged {
        device_rules.push(
            LinuxDeviceCgroupBuilder::default()
                .allow(true)
                .access("rwm")
                .build()?,
        );
    }
    let mut resources = LinuxResourcesBuilder::default().devices(device_rules);
    let limits = &profile.limits;
    if limits.memory.is_some() || limits.memory_swap.is_some() {
        let mut memory = LinuxMemoryBuilder::default();
        if let Some(m) = limits.memory {
            memory = memory.limit(m);
        }
        if let Some(s) = limits.memory_swap {
            memory = memory.swap(s);
        }
        resources = resources.memory(memory.build()?);
    }
    if let Some(quota) = limits.cpu_quota {
        resources = resources.cpu(
            LinuxCpuBuilder::default()
                .quota(quota)
                .period(crate::profile::CPU_PERIOD)
                .build()?,
        );
    }
    if let Some(pids) = limits.pids {
        resources = resources.pids(LinuxPidsBuilder::default().limit(pids).build()?);
    }
    let mut linux = LinuxBuilder::default()
        .namespaces(namespaces)
        .cgroups_path(format!("/{}/{}", defaults::CGROUP_PARENT, req.id))
        .resources(resources.build()?);
    if !profile.privileged {
        linux = linux
            .masked_paths(defaults::MASKED_PATHS.map(str::to_owned).to_vec())
            .readonly_paths(defaults::READONLY_PATHS.map(str::to_owned).to_vec());
    }
    let devices = profile.linux_devices()?;
    if !devices.is_empty() {
        linux = linux.devices(devices);
    }
    let linux = linux.build()?;

    let mut mounts = Vec::new();
    for mut m in container_mounts(req, bundle) {
        // Privileged containers get a writable /sys and cgroup tree.
        if profile.privileged && matches!(m.destination.as_str(), "/sys" | "/sys/fs/cgroup") {
            m.options.retain(|o| o != "ro");
            m.options.push("rw".to_owned());
        }
        let mut b = MountBuilder::default()
            .destination(&m.destination)
            .typ(&m.kind)
            .source(&m.source);
        if !m.options.is_empty() {
            b = b.options(m.options);
        }
        mounts.push(b.build()?);
    }
    let root = RootBuilder::default()
        .path(Path::new(crate::bundle::ROOTFS))
        .readonly(req.readonly_rootfs)
        .build()?;
    let mut spec = SpecBuilder::default()
        .version(OCI_VERSION)
        .root(root)
        .process(process)
        .hostname(req.hostname)
        .mounts(mounts)
        .linux(linux)
        .build()?;
    spec.set_annotations(None);
    Ok(spec)
}

/// The runtime spec's `process` for `p`.
fn oci_process(
    p: &crate::request::Process,
    terminal: bool,
    caps: Capabilities,
    no_new_privileges: bool,
) -> Result<oci_spec::runtime::Process, oci_spec::OciSpecError> {
    let mut user = UserBuilder::default().uid(p.uid).gid(p.gid);
    if !p.additional_gids.is_empty() {
        user = user.additional_gids(p.additional_gids.clone());
    }
    let mut capabilities = LinuxCapabilitiesBuilder::default()
        .bounding(caps.clone())
        .effective(caps.clone())
        .permitted(caps)
        .build()?;
    // Unset fields would get youki's defaults; Docker sets neither.
    capabilities.set_inheritable(None);
    capabilities.set_ambient(None);
    let mut process = ProcessBuilder::default()
        .terminal(terminal)
        .user(user.build()?)
        .args(p.args.clone())
        .env(p.env.clone())
        .cwd(&p.cwd)
        .capabilities(capabilities)
        .no_new_privileges(no_new_privileges)
        .build()?;
    // The builder's defaults are youki's (an rlimit of 1024 files); RUN
    // inherits runc's limits, like Docker, and never asks to raise one.
    process.set_rlimits(None);
    process.set_apparmor_profile(None);
    process.set_selinux_label(None);
    Ok(process)
}

/// The `process.json` of `runc exec`: the process as a container's, with
/// the exec's terminal, capabilities and privileges.
pub(crate) fn exec_process(
    exec: &crate::shim::ExecSpec,
) -> Result<oci_spec::runtime::Process, oci_spec::OciSpecError> {
    let caps: Capabilities = exec
        .capabilities
        .iter()
        .filter_map(|c| crate::caps::to_oci(c))
        .collect();
    oci_process(&exec.process, exec.tty, caps, exec.no_new_privileges)
}

/// The bytes of `config.json`: pretty JSON with sorted keys and sorted
/// capability lists (oci-spec keeps capabilities in a `HashSet`, whose
/// order changes from run to run).
pub(crate) fn to_json(spec: &Spec, id: &str) -> Result<Vec<u8>> {
    let mut value = serde_json::to_value(spec).map_err(|e| Error::Spec {
        id: id.to_owned(),
        source: e.into(),
    })?;
    if let Some(caps) = value
        .pointer_mut("/process/capabilities")
        .and_then(|c| c.as_object_mut())
    {
        for list in caps.values_mut() {
            if let Some(list) = list.as_array_mut() {
                list.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
        }
    }
    let mut out = serde_json::to_vec_pretty(&value).map_err(|e| Error::Spec {
        id: id.to_owned(),
        source: e.into(),
    })?;
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
