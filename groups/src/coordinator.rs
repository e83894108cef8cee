//! Placeholder: written by the coordinator work.
