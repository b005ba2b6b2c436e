//! Docker-compatible output formatting (work in progress).
