//! Benchmark support: the baselines jido-supervisor is measured against.
#![forbid(unsafe_code)]
