//! `.dockerignore` matching (in progress).
