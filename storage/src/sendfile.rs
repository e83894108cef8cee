//! sendfile helper (in progress).
