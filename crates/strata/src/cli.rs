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
    /// Run a command in a new container (foreground; its writable layer is removed afterwards).
    Run(RunArgs),
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
    /// Automatically remove the container when it exits (always, for now).
    #[arg(long)]
    pub(crate) rm: bool,
    /// Set environment variables.
    #[arg(short, long = "env", value_name = "K=V")]
    pub(crate) env: Vec<String>,
    /// Working directory inside the container.
    #[arg(short, long)]
    pub(crate) workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>]).
    #[arg(short, long)]
    pub(crate) user: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image.
    #[arg(long)]
    pub(crate) entrypoint: Option<String>,
    /// Network: host or none.
    #[arg(long, default_value = "host", value_parser = ["host", "none", "default"])]
    pub(crate) network: String,
    /// Container host name.
    #[arg(long)]
    pub(crate) hostname: Option<String>,
    /// Mount the container's root filesystem as read only.
    #[arg(long)]
    pub(crate) read_only: bool,
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
