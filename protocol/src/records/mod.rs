//! Record batches (in progress).
