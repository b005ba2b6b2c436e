//! Command-line arguments, with Docker's command names and flags. The doc
//! comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// strata: build, store, ship, run and scan container images.
#[derive(Debug, Parser)]
#[command(name = "strata", version, disable_help_subcommand = true)]
pub(crate) struct Cli {
    /// Store root (default /var/lib/strata for root, else $XDG_DATA_HOME/strata).
    #[arg(long, global = true, env = crate::env::STRATA_ROOT, value_name = "DIR")]
    pub(crate) root: Option<PathBuf>,
    /// Print debug logs on stderr.
    #[arg(short = 'D', long, global = true)]
    pub(crate) debug: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List images.
    Images(ImagesArgs),
    /// Manage images.
    Image {
        #[command(subcommand)]
        command: ImageCommand,
    },
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE.
    Tag(TagArgs),
    /// Remove one or more images.
    Rmi(RmiArgs),
    /// Show the history of an image.
    History(HistoryArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default).
    Save(SaveArgs),
    /// Load images from a tar archive or STDIN.
    Load(LoadArgs),
    /// Import the contents from a tarball to create a filesystem image.
    Import(ImportArgs),
    /// Return low-level information on images.
    Inspect(InspectArgs),
    /// Build an image from a Dockerfile.
    Build(BuildArgs),
    /// Create and run a new container from an image.
    Run(RunArgs),
    /// Create a new container.
    Create(RunArgs),
    /// Start one or more stopped containers.
    Start(StartArgs),
    /// Stop one or more running containers.
    Stop(StopArgs),
    /// Kill one or more running containers.
    Kill(KillArgs),
    /// Restart one or more containers.
    Restart(StopArgs),
    /// Remove one or more containers.
    Rm(RmArgs),
    /// List containers.
    Ps(PsArgs),
    /// Fetch the logs of a container.
    Logs(LogsArgs),
    /// Execute a command in a running container.
    Exec(ExecArgs),
    /// Block until one or more containers stop, then print their exit codes.
    Wait(ContainersArgs),
    /// Inspect changes to files or directories on a container's filesystem.
    Diff(DiffArgs),
    /// Create a new image from a container's changes.
    Commit(CommitArgs),
    /// Copy files/folders between a container and the local filesystem.
    Cp(CpArgs),
    /// Manage containers.
    Container {
        #[command(subcommand)]
        command: ContainerCommand,
    },
    /// Manage volumes.
    Volume {
        #[command(subcommand)]
        command: VolumeCommand,
    },
    /// Supervise one container (internal: started by run and start).
    #[command(name = "__shim", hide = true)]
    Shim(ShimArgs),
    /// Download an image from a registry.
    Pull(PullArgs),
    /// Upload an image to a registry.
    Push(PushArgs),
    /// Copy an image between registries, OCI layouts, docker archives and the store (like skopeo copy).
    Copy(CopyArgs),
    /// Authenticate to a registry.
    Login(LoginArgs),
    /// Log out from a registry.
    Logout(LogoutArgs),
    /// Show each layer's size and command, wasted space and efficiency (like dive).
    Analyze(AnalyzeArgs),
    /// Scan an image for vulnerabilities (or, with --secrets, for secrets).
    Scan(ScanArgs),
    /// Sign an image in a registry with a cosign key.
    Sign(SignArgs),
    /// Verify an image's cosign signatures with a public key.
    Verify(VerifyArgs),
    /// Manage cosign-compatible signing keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Manage the local vulnerability database.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// List the packages in an image (OS and language packages) with the layer that added each.
    Sbom(SbomArgs),
    /// Lint a Dockerfile (hadolint's and BuildKit's rules, on the builder's parser).
    Lint(LintArgs),
    /// Run or maintain an OCI registry server over the store.
    Registry {
        #[command(subcommand)]
        command: RegistryCommand,
    },
    /// Manage the build cache.
    Builder {
        #[command(subcommand)]
        command: BuilderCommand,
    },
    /// Manage strata.
    System {
        #[command(subcommand)]
        command: SystemCommand,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ImageCommand {
    /// List images.
    #[command(visible_alias = "list")]
    Ls(ImagesArgs),
    /// Display detailed information on one or more images.
    Inspect(InspectArgs),
    /// Remove unused images.
    Prune(PruneArgs),
    /// Remove one or more images.
    #[command(visible_alias = "remove")]
    Rm(RmiArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE.
    Tag(TagArgs),
    /// Show the history of an image.
    History(HistoryArgs),
    /// Save one or more images to a tar archive.
    Save(SaveArgs),
    /// Load an image from a tar archive or STDIN.
    Load(LoadArgs),
    /// Import the contents from a tarball to create a filesystem image.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Run container in background and print container ID.
    #[arg(short, long)]
    pub(crate) detach: bool,
    /// Automatically remove the container and its anonymous volumes when it exits.
    #[arg(long)]
    pub(crate) rm: bool,
    /// Assign a name to the container.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Set environment variables.
    #[arg(short, long = "env", value_name = "K=V")]
    pub(crate) env: Vec<String>,
    /// Read in a file of environment variables.
    #[arg(long, value_name = "FILE")]
    pub(crate) env_file: Vec<PathBuf>,
    /// Bind mount a volume (HOST:CTR[:OPTS], NAME:CTR[:OPTS] or CTR).
    #[arg(short, long = "volume", value_name = "VOLUME")]
    pub(crate) volume: Vec<String>,
    /// Attach a filesystem mount to the container (type=bind|volume|tmpfs,...).
    #[arg(long, value_name = "MOUNT")]
    pub(crate) mount: Vec<String>,
    /// Mount a tmpfs directory (PATH[:OPTIONS]).
    #[arg(long, value_name = "TMPFS")]
    pub(crate) tmpfs: Vec<String>,
    /// Working directory inside the container.
    #[arg(short, long)]
    pub(crate) workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>]).
    #[arg(short, long)]
    pub(crate) user: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image.
    #[arg(long)]
    pub(crate) entrypoint: Option<String>,
    /// Network: host (the default: the host's network) or none.
    #[arg(long, alias = "net", default_value = "host")]
    pub(crate) network: String,
    /// Container host name.
    #[arg(long)]
    pub(crate) hostname: Option<String>,
    /// Keep STDIN open even if not attached.
    #[arg(short, long)]
    pub(crate) interactive: bool,
    /// Allocate a pseudo-TTY.
    #[arg(short, long)]
    pub(crate) tty: bool,
    /// Run an init inside the container that forwards signals and reaps processes.
    #[arg(long)]
    pub(crate) init: bool,
    /// Mount the container's root filesystem as read only.
    #[arg(long)]
    pub(crate) read_only: bool,
    /// Memory limit.
    #[arg(short, long, value_name = "BYTES")]
    pub(crate) memory: Option<String>,
    /// Swap limit equal to memory plus swap: -1 to enable unlimited swap.
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true)]
    pub(crate) memory_swap: Option<String>,
    /// Number of CPUs.
    #[arg(long)]
    pub(crate) cpus: Option<String>,
    /// Tune container pids limit (set -1 for unlimited).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) pids_limit: Option<i64>,
    /// Add Linux capabilities.
    #[arg(long)]
    pub(crate) cap_add: Vec<String>,
    /// Drop Linux capabilities.
    #[arg(long)]
    pub(crate) cap_drop: Vec<String>,
    /// Give extended privileges to this container.
    #[arg(long)]
    pub(crate) privileged: bool,
    /// Security options (no-new-privileges=false turns off the default no_new_privs).
    #[arg(long)]
    pub(crate) security_opt: Vec<String>,
    /// Set meta data on a container.
    #[arg(short, long)]
    pub(crate) label: Vec<String>,
    /// Signal to stop the container.
    #[arg(long)]
    pub(crate) stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container.
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) stop_timeout: Option<i64>,
    /// Restart policy to apply when a container exits (no, always,
    /// on-failure[:max-retries], unless-stopped).
    #[arg(long, default_value = "no")]
    pub(crate) restart: String,
    /// OCI runtime.
    #[arg(long, default_value = "runc")]
    pub(crate) runtime: String,
    /// The image.
    pub(crate) image: String,
    /// The command and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub(crate) command: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ContainerCommand {
    /// Create and run a new container from an image.
    Run(RunArgs),
    /// Create a new container.
    Create(RunArgs),
    /// Start one or more stopped containers.
    Start(StartArgs),
    /// Stop one or more running containers.
    Stop(StopArgs),
    /// Kill one or more running containers.
    Kill(KillArgs),
    /// Restart one or more containers.
    Restart(StopArgs),
    /// Remove one or more containers.
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// List containers.
    #[command(visible_aliases = ["ls", "list"])]
    Ps(PsArgs),
    /// Fetch the logs of a container.
    Logs(LogsArgs),
    /// Execute a command in a running container.
    Exec(ExecArgs),
    /// Block until one or more containers stop, then print their exit codes.
    Wait(ContainersArgs),
    /// Display detailed information on one or more containers.
    Inspect(ContainerInspectArgs),
    /// Inspect changes to files or directories on a container's filesystem.
    Diff(DiffArgs),
    /// Create a new image from a container's changes.
    Commit(CommitArgs),
    /// Copy files/folders between a container and the local filesystem.
    Cp(CpArgs),
    /// Remove all stopped containers.
    Prune(ForceArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum VolumeCommand {
    /// Create a volume.
    Create(VolumeCreateArgs),
    /// List volumes.
    #[command(visible_alias = "list")]
    Ls(VolumeLsArgs),
    /// Display detailed information on one or more volumes.
    Inspect(VolumeInspectArgs),
    /// Remove one or more volumes.
    #[command(visible_alias = "remove")]
    Rm(VolumeRmArgs),
    /// Remove unused local volumes.
    Prune(VolumePruneArgs),
}

#[derive(Debug, Args)]
pub(crate) struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals.
    #[arg(short, long)]
    pub(crate) attach: bool,
    /// Attach container's STDIN.
    #[arg(short, long)]
    pub(crate) interactive: bool,
    /// Containers.
    #[arg(required = true, value_name = "CONTAINER")]
    pub(crate) containers: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct StopArgs {
    /// Signal to send to the container.
    #[arg(short, long)]
    pub(crate) signal: Option<String>,
    /// Seconds to wait before killing the container.
    #[arg(short, long, alias = "time", allow_hyphen_values = true)]
    pub(crate) timeout: Option<i64>,
    /// Containers.
    #[arg(required = true, value_name = "CONTAINER")]
    pub(crate) containers: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct KillArgs {
    /// Signal to send to the container.
    #[arg(short, long, default_value = "KILL")]
    pub(crate) signal: String,
    /// Containers.
    #[arg(required = true, value_name = "CONTAINER")]
    pub(crate) containers: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL).
    #[arg(short, long)]
    pub(crate) force: bool,
    /// Remove anonymous volumes associated with the container.
    #[arg(short, long)]
    pub(crate) volumes: bool,
    /// Containers.
    #[arg(required = true, value_name = "CONTAINER")]
    pub(crate) containers: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct PsArgs {
    /// Show all containers (default shows just running).
    #[arg(short, long)]
    pub(crate) all: bool,
    /// Only display container IDs.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// Don't truncate output.
    #[arg(long)]
    pub(crate) no_trunc: bool,
    /// Show the latest created container.
    #[arg(short, long)]
    pub(crate) latest: bool,
    /// Show n last created containers.
    #[arg(short = 'n', long, default_value_t = -1, allow_hyphen_values = true)]
    pub(crate) last: i64,
    /// Display total file sizes.
    #[arg(short, long)]
    pub(crate) size: bool,
    /// Filter output based on conditions provided.
    #[arg(short, long = "filter", value_name = "FILTER")]
    pub(crate) filter: Vec<String>,
    /// Format output using a custom template.
    #[arg(long)]
    pub(crate) format: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// Follow log output.
    #[arg(short, long)]
    pub(crate) follow: bool,
    /// Number of lines to show from the end of the logs.
    #[arg(short = 'n', long, default_value = "all")]
    pub(crate) tail: String,
    /// Show timestamps.
    #[arg(short, long)]
    pub(crate) timestamps: bool,
    /// The container.
    pub(crate) container: String,
}

#[derive(Debug, Args)]
pub(crate) struct ExecArgs {
    /// Detached mode: run command in the background.
    #[arg(short, long)]
    pub(crate) detach: bool,
    /// Keep STDIN open even if not attached.
    #[arg(short, long)]
    pub(crate) interactive: bool,
    /// Allocate a pseudo-TTY.
    #[arg(short, long)]
    pub(crate) tty: bool,
    /// Set environment variables.
    #[arg(short, long = "env")]
    pub(crate) env: Vec<String>,
    /// Read in a file of environment variables.
    #[arg(long, value_name = "FILE")]
    pub(crate) env_file: Vec<PathBuf>,
    /// Username or UID (format: "<name|uid>[:<group|gid>]").
    #[arg(short, long)]
    pub(crate) user: Option<String>,
    /// Working directory inside the container.
    #[arg(short, long)]
    pub(crate) workdir: Option<String>,
    /// Give extended privileges to the command.
    #[arg(long)]
    pub(crate) privileged: bool,
    /// The container.
    pub(crate) container: String,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub(crate) command: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ContainersArgs {
    /// Containers.
    #[arg(required = true, value_name = "CONTAINER")]
    pub(crate) containers: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ContainerInspectArgs {
    /// Format output using a custom template.
    #[arg(short, long)]
    pub(crate) format: Option<String>,
    /// Display total file sizes.
    #[arg(short, long)]
    pub(crate) size: bool,
    /// Containers.
    #[arg(required = true, value_name = "CONTAINER")]
    pub(crate) containers: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// The container.
    pub(crate) container: String,
}

#[derive(Debug, Args)]
pub(crate) struct CommitArgs {
    /// Author (e.g., "John Hannibal Smith <hannibal@a-team.com>").
    #[arg(short, long)]
    pub(crate) author: Option<String>,
    /// Apply Dockerfile instruction to the created image.
    #[arg(short, long)]
    pub(crate) change: Vec<String>,
    /// Commit message.
    #[arg(short, long)]
    pub(crate) message: Option<String>,
    /// Pause container during commit (accepted; strata reads the layer in place).
    #[arg(short, long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub(crate) pause: bool,
    /// The container.
    pub(crate) container: String,
    /// REPOSITORY[:TAG]
    pub(crate) reference: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct CpArgs {
    /// Archive mode (copy all uid/gid information).
    #[arg(short, long)]
    pub(crate) archive: bool,
    /// Always follow symbol link in SRC_PATH.
    #[arg(short = 'L', long)]
    pub(crate) follow_link: bool,
    /// Suppress progress output during copy.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// CONTAINER:SRC_PATH, SRC_PATH or -.
    pub(crate) source: String,
    /// CONTAINER:DEST_PATH, DEST_PATH or -.
    pub(crate) destination: String,
}

#[derive(Debug, Args)]
pub(crate) struct ForceArgs {
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    pub(crate) force: bool,
    /// Provide filter values (e.g. "until=<timestamp>").
    #[arg(long = "filter")]
    pub(crate) filter: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct VolumeCreateArgs {
    /// Specify volume driver name (only local).
    #[arg(short, long, default_value = "local")]
    pub(crate) driver: String,
    /// Set metadata for a volume.
    #[arg(long)]
    pub(crate) label: Vec<String>,
    /// The volume's name.
    pub(crate) name: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct VolumeLsArgs {
    /// Only display volume names.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// Provide filter values (e.g. "dangling=true").
    #[arg(short, long = "filter")]
    pub(crate) filter: Vec<String>,
    /// Format output using a custom template.
    #[arg(long)]
    pub(crate) format: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct VolumeInspectArgs {
    /// Format output using a custom template.
    #[arg(short, long)]
    pub(crate) format: Option<String>,
    /// Volumes.
    #[arg(required = true, value_name = "VOLUME")]
    pub(crate) volumes: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct VolumeRmArgs {
    /// Force the removal of one or more volumes.
    #[arg(short, long)]
    pub(crate) force: bool,
    /// Volumes.
    #[arg(required = true, value_name = "VOLUME")]
    pub(crate) volumes: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct VolumePruneArgs {
    /// Remove all unused volumes, not just anonymous ones.
    #[arg(short, long)]
    pub(crate) all: bool,
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    pub(crate) force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PullArgs {
    /// Download all tagged images in the repository.
    #[arg(short, long)]
    pub(crate) all_tags: bool,
    /// Set platform if server is multi-platform capable (os/arch[/variant]).
    #[arg(long)]
    pub(crate) platform: Option<String>,
    /// Suppress verbose output.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// Downloads at once.
    #[arg(long, default_value_t = 3)]
    pub(crate) max_concurrent_downloads: usize,
    /// NAME[:TAG|@DIGEST]
    pub(crate) name: String,
}

#[derive(Debug, Args)]
pub(crate) struct PushArgs {
    /// Push all tags of an image to the repository.
    #[arg(short, long)]
    pub(crate) all_tags: bool,
    /// Suppress verbose output.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// Uploads at once.
    #[arg(long, default_value_t = 5)]
    pub(crate) max_concurrent_uploads: usize,
    /// Upload each blob in chunks of this size (e.g. 5MB) instead of in one request.
    #[arg(long, value_name = "SIZE", value_parser = chunk_size)]
    pub(crate) chunk_size: Option<u64>,
    /// NAME[:TAG]
    pub(crate) name: String,
}

#[derive(Debug, Args)]
pub(crate) struct CopyArgs {
    /// Copy a whole image index with every image in it (else one platform's image).
    #[arg(short, long)]
    pub(crate) all: bool,
    /// The platform to take from an index (os/arch[/variant]; default: this host's).
    #[arg(long)]
    pub(crate) platform: Option<String>,
    /// Suppress output.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// docker://HOST/REPO[:TAG|@DIGEST], oci:DIR[:NAME], docker-archive:FILE[:REF] or strata:REF
    pub(crate) source: String,
    /// The destination, in the same forms.
    pub(crate) destination: String,
}

#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    /// Username.
    #[arg(short, long)]
    pub(crate) username: Option<String>,
    /// Password (prefer --password-stdin).
    #[arg(short, long)]
    pub(crate) password: Option<String>,
    /// Take the password from stdin.
    #[arg(long)]
    pub(crate) password_stdin: bool,
    /// The registry (default: Docker Hub).
    pub(crate) server: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct LogoutArgs {
    /// The registry (default: Docker Hub).
    pub(crate) server: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ShimArgs {
    /// The container ID.
    pub(crate) id: String,
    /// Copy output to our standard streams.
    #[arg(long)]
    pub(crate) attach: bool,
    /// Give the container our standard input.
    #[arg(long)]
    pub(crate) stdin: bool,
    /// The terminal's size at start: ROWS,COLS.
    #[arg(long)]
    pub(crate) console_size: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    /// The Dockerfile (- for stdin).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
    /// Output format.
    #[arg(long, default_value = "text", value_parser = ["text", "json", "sarif"])]
    pub(crate) format: String,
    /// Switch a rule off (id or alias); repeatable.
    #[arg(long, value_name = "RULE")]
    pub(crate) ignore: Vec<String>,
    /// Exit 1 when a finding is at this level or worse: error, warning, info (default), style or none.
    #[arg(long, value_name = "LEVEL")]
    pub(crate) failure_threshold: Option<String>,
    /// A TOML config (default .strata-lint.toml beside the Dockerfile): ignore = [...], [levels], failure-threshold.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// The Dockerfile, as hadolint takes it (instead of -f).
    pub(crate) path: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct SbomArgs {
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "spdx-json", "cyclonedx-json", "json"])]
    pub(crate) format: String,
    /// The image.
    pub(crate) image: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Write a new key pair (PREFIX.key, encrypted with $COSIGN_PASSWORD, and PREFIX.pub).
    Generate(KeyGenerateArgs),
    /// Print the public key of a private key.
    PublicKey(KeyPublicArgs),
}

#[derive(Debug, Args)]
pub(crate) struct KeyGenerateArgs {
    /// File name prefix of the key pair.
    #[arg(long, default_value = "cosign", value_name = "PREFIX")]
    pub(crate) output_key_prefix: String,
}

#[derive(Debug, Args)]
pub(crate) struct KeyPublicArgs {
    /// The private key file.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The private key file (cosign format; password in $COSIGN_PASSWORD).
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// The image in its registry (tag or digest).
    pub(crate) image: String,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The public key file.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// The image in its registry (tag or digest).
    pub(crate) image: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Import OSV advisories from JSON files, OSV export zips or directories of them.
    Import(DbImportArgs),
    /// Download OSV export zips and import them (default: Debian's and Alpine's).
    Update(DbUpdateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DbUpdateArgs {
    /// An OSV export zip (or JSON) to download; repeatable.
    #[arg(long, value_name = "URL")]
    pub(crate) url: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DbImportArgs {
    /// A file or directory of OSV JSON documents.
    pub(crate) path: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// Look for private keys, credentials and tokens in files (deleted ones too), Env and history.
    #[arg(long)]
    pub(crate) secrets: bool,
    /// Only these severities (comma-separated: CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN).
    #[arg(long, value_name = "LIST")]
    pub(crate) severity: Option<String>,
    /// Exit 1 when a vulnerability at this severity or above is found.
    #[arg(long, value_name = "SEVERITY")]
    pub(crate) fail_on: Option<String>,
    /// Leave out vulnerabilities without a fixed version.
    #[arg(long)]
    pub(crate) ignore_unfixed: bool,
    /// An OpenVEX document: vulnerabilities it marks not_affected or fixed are left out.
    #[arg(long, value_name = "FILE")]
    pub(crate) vex: Vec<PathBuf>,
    /// Output format (sarif for vulnerabilities only).
    #[arg(long, default_value = "table", value_parser = ["table", "json", "sarif"])]
    pub(crate) format: String,
    /// The image.
    pub(crate) image: String,
}

#[derive(Debug, Args)]
pub(crate) struct AnalyzeArgs {
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub(crate) format: String,
    /// How many wasted paths and largest files to list.
    #[arg(long, default_value_t = 10)]
    pub(crate) top: usize,
    /// Check the rules below and exit 1 if one fails (dive's CI mode).
    #[arg(long)]
    pub(crate) ci: bool,
    /// Lowest efficiency allowed, a ratio (0-1) or "disabled".
    #[arg(long, default_value = "0.9", value_name = "RATIO")]
    pub(crate) lowest_efficiency: String,
    /// Most wasted bytes allowed (e.g. 20MB) or "disabled".
    #[arg(long, default_value = "disabled", value_name = "SIZE")]
    pub(crate) highest_wasted_bytes: String,
    /// Most wasted bytes allowed relative to the bytes layers after the base add, a ratio or "disabled".
    #[arg(long, default_value = "0.1", value_name = "RATIO")]
    pub(crate) highest_user_wasted_percent: String,
    /// The image.
    pub(crate) image: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RegistryCommand {
    /// Serve the OCI distribution API from the store.
    Serve(RegistryServeArgs),
    /// Delete blobs no manifest refers to and report what that frees.
    Gc(RegistryGcArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RegistryServeArgs {
    /// Address to listen on (default 127.0.0.1:5000; port 0 picks a free one).
    #[arg(long, value_name = "ADDR")]
    pub(crate) addr: Option<String>,
    /// A TOML config file (see ARCHITECTURE.md).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Log lines (access log included) as text or as JSON objects.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub(crate) log_format: String,
}

#[derive(Debug, Args)]
pub(crate) struct RegistryGcArgs {
    /// Report what would be deleted without deleting it.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// The registry's TOML config file (for `gc.grace` and `root`).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum BuilderCommand {
    /// Remove build cache.
    Prune(BuilderPruneArgs),
}

#[derive(Debug, Args)]
pub(crate) struct BuilderPruneArgs {
    /// Remove all unused build cache, not just dangling ones.
    #[arg(short, long)]
    pub(crate) all: bool,
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    pub(crate) force: bool,
    /// Amount of disk space to keep for cache (e.g. 500MB, 2GiB).
    #[arg(long, value_name = "SIZE")]
    pub(crate) keep_storage: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct BuildArgs {
    /// Name and optionally a tag in the 'name:tag' format.
    #[arg(short, long = "tag", value_name = "REF")]
    pub(crate) tag: Vec<String>,
    /// Name of the Dockerfile (default: PATH/Dockerfile; - for STDIN).
    #[arg(short, long, value_name = "FILE")]
    pub(crate) file: Option<String>,
    /// Set build-time variables.
    #[arg(long = "build-arg", value_name = "K=V")]
    pub(crate) build_arg: Vec<String>,
    /// Set the target build stage to build.
    #[arg(long)]
    pub(crate) target: Option<String>,
    /// Do not use cache when building the image.
    #[arg(long)]
    pub(crate) no_cache: bool,
    /// Set metadata for an image.
    #[arg(long, value_name = "K=V")]
    pub(crate) label: Vec<String>,
    /// Type of progress output (auto, plain, tty, quiet).
    #[arg(long, default_value = "auto", value_parser = ["auto", "plain", "tty", "quiet", "rawjson"])]
    pub(crate) progress: String,
    /// Networking mode for RUN instructions during build (default, none, host).
    #[arg(long, default_value = "default", value_parser = ["default", "none", "host"])]
    pub(crate) network: String,
    /// Secret to expose to the build: id=ID,src=PATH (or env=VAR).
    #[arg(long, value_name = "SPEC")]
    pub(crate) secret: Vec<String>,
    /// Timestamp for file times and `created` (default: SOURCE_DATE_EPOCH, else 0).
    #[arg(long, value_name = "N")]
    pub(crate) source_date_epoch: Option<i64>,
    /// Write the image ID to the file.
    #[arg(long, value_name = "FILE")]
    pub(crate) iidfile: Option<std::path::PathBuf>,
    /// Suppress the build output and print image ID on success.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// OCI runtime for RUN instructions.
    #[arg(long, default_value = "runc")]
    pub(crate) runtime: String,
    /// Build context: a directory, or - for a tarball (or Dockerfile) on STDIN.
    pub(crate) context: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SystemCommand {
    /// Show disk usage.
    Df(DfArgs),
    /// Remove unused data: dangling images (all unused with -a), then collect blobs.
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ImagesArgs {
    /// Show all images (default hides intermediate images).
    #[arg(short, long)]
    pub(crate) all: bool,
    /// Only show image IDs.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// Show digests.
    #[arg(long)]
    pub(crate) digests: bool,
    /// Don't truncate output.
    #[arg(long)]
    pub(crate) no_trunc: bool,
    /// Filter output based on conditions provided (dangling=, reference=, before=, since=, label=).
    #[arg(short, long = "filter", value_name = "FILTER")]
    pub(crate) filter: Vec<String>,
    /// Format output using a custom template ('table', 'table TEMPLATE', 'json', or a Go template).
    #[arg(long)]
    pub(crate) format: Option<String>,
    /// Only images matching REPOSITORY[:TAG].
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub(crate) reference: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct TagArgs {
    /// SOURCE_IMAGE[:TAG]
    pub(crate) source: String,
    /// TARGET_IMAGE[:TAG]
    pub(crate) target: String,
}

#[derive(Debug, Args)]
pub(crate) struct RmiArgs {
    /// Force removal of the image.
    #[arg(short, long)]
    pub(crate) force: bool,
    /// Do not delete untagged parents (accepted for compatibility).
    #[arg(long)]
    pub(crate) no_prune: bool,
    /// Images to remove.
    #[arg(required = true, value_name = "IMAGE")]
    pub(crate) images: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct PruneArgs {
    /// Remove all unused images, not just dangling ones.
    #[arg(short, long)]
    pub(crate) all: bool,
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    pub(crate) force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// Print sizes and dates in human readable format.
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub(crate) human: bool,
    /// Don't truncate output.
    #[arg(long)]
    pub(crate) no_trunc: bool,
    /// Only show image IDs.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// Format output using a custom template.
    #[arg(long)]
    pub(crate) format: Option<String>,
    /// The image.
    pub(crate) image: String,
}

#[derive(Debug, Args)]
pub(crate) struct SaveArgs {
    /// Write to a file, instead of STDOUT.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Archive format: docker (docker-archive, also an OCI layout) or oci.
    #[arg(long, default_value = "docker", value_parser = ["docker", "oci", "docker-archive", "oci-archive"])]
    pub(crate) format: String,
    /// Images to save.
    #[arg(required = true, value_name = "IMAGE")]
    pub(crate) images: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct LoadArgs {
    /// Read from tar archive file, instead of STDIN.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) input: Option<PathBuf>,
    /// Suppress the load output.
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// Apply Dockerfile instruction to the created image.
    #[arg(short, long = "change", value_name = "INSTRUCTION")]
    pub(crate) change: Vec<String>,
    /// Set commit message for imported image.
    #[arg(short, long)]
    pub(crate) message: Option<String>,
    /// Set platform if server is multi-platform capable.
    #[arg(long)]
    pub(crate) platform: Option<String>,
    /// FILE, or - for STDIN.
    pub(crate) file: String,
    /// REPOSITORY[:TAG]
    pub(crate) reference: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// Format output using a custom template.
    #[arg(short, long)]
    pub(crate) format: Option<String>,
    /// Images to inspect.
    #[arg(required = true, value_name = "IMAGE")]
    pub(crate) images: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DfArgs {
    /// Show detailed information on space usage.
    #[arg(short, long)]
    pub(crate) verbose: bool,
    /// Format output using a custom template.
    #[arg(long)]
    pub(crate) format: Option<String>,
}

/// `--chunk-size`: a go-units size, at least one byte.
fn chunk_size(s: &str) -> Result<u64, String> {
    match crate::commands::builder_prune::parse_size(s) {
        Ok(0) => Err("must be at least 1 byte".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}
