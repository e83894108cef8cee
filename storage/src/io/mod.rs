//! I/O backends (in progress).
