//! Dockerfile parsing (in progress).

pub mod dockerignore;
