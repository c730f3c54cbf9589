//! Benchmark filters for the targets that do not use criterion's harness.

/// Whether the target `name` should run, given the arguments cargo passes
/// after `--`: yes when no filter is given, or when a filter is part of
/// `name` (so `cargo bench -p jido-bench -- start_stop` skips the scale run,
/// and `-- scale` runs it). Flags (`--bench`, ...) are ignored.
pub fn selected(name: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    filters.is_empty() || filters.iter().any(|filter| name.contains(filter.as_str()))
}

/// Whether the target runs as a benchmark (`cargo bench` passes `--bench`),
/// rather than as a smoke test (`cargo test --benches` / `--all-targets`
/// passes no such flag).
pub fn bench_mode() -> bool {
    std::env::args().skip(1).any(|arg| arg == "--bench")
}
