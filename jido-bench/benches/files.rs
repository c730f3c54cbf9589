//! `files` — what the race-free file operations of issue 21 cost: the
//! Manager's `read_file` (20 lines) and `write_file` (1 KiB, atomic) of a
//! small file through `ProjectBoundary` (every path opened beneath the
//! project's directory; files opened without blocking and checked regular)
//! against the path before it (`validate`, then the same work by path, as
//! the boundary did before issue 21) and against plain `std::fs` on the
//! same file (no check at all). The contenders take turns within one run.
//! `cargo bench -p jido-bench --bench files`.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jido_session::{ProjectBoundary, ProjectPath};

const LINES: usize = 20;

/// The read before issue 21: check, then open by the checked path.
fn read_by_path(boundary: &ProjectBoundary, path: &Path) -> Vec<String> {
    let resolved = boundary.validate(path).unwrap();
    let reader = BufReader::new(fs::File::open(resolved).unwrap());
    reader.lines().take(LINES).map(Result::unwrap).collect()
}

/// The write before issue 21: check, then a temporary file, a rename and a
/// flush of the directory, all by path.
fn write_by_path(boundary: &ProjectBoundary, path: &Path, contents: &[u8]) {
    let resolved = boundary.validate(path).unwrap();
    let parent = resolved.parent().unwrap();
    let temporary = parent.join(".bench.tmp");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)
        .unwrap();
    file.write_all(contents).unwrap();
    file.sync_all().unwrap();
    fs::rename(&temporary, &resolved).unwrap();
    fs::File::open(parent).unwrap().sync_all().unwrap();
}

/// Plain `std::fs`: the same write, atomic, no check.
fn write_plain(path: &Path, contents: &[u8]) {
    let temporary = path.with_extension("plain.tmp");
    let mut file = fs::File::create(&temporary).unwrap();
    file.write_all(contents).unwrap();
    file.sync_all().unwrap();
    fs::rename(&temporary, path).unwrap();
    fs::File::open(path.parent().unwrap())
        .unwrap()
        .sync_all()
        .unwrap();
}

fn files(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().canonicalize().unwrap();
    fs::create_dir(project.join("src")).unwrap();
    let text: String = (0..LINES)
        .map(|n| format!("line {n} of the file\n"))
        .collect();
    fs::write(project.join("src/read.rs"), &text).unwrap();
    let boundary = ProjectBoundary::new(ProjectPath::new(&project).unwrap());
    let (read, write) = (Path::new("src/read.rs"), Path::new("src/write.rs"));
    let absolute = project.join(read);
    let contents = vec![b'x'; 1024];

    let mut group = c.benchmark_group("files");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    group.bench_function("read_beneath", |b| {
        b.iter(|| boundary.read_file(read, 1, LINES).unwrap())
    });
    group.bench_function("read_by_path", |b| b.iter(|| read_by_path(&boundary, read)));
    group.bench_function("read_plain", |b| {
        b.iter(|| {
            let reader = BufReader::new(fs::File::open(&absolute).unwrap());
            reader
                .lines()
                .take(LINES)
                .map(Result::unwrap)
                .collect::<Vec<_>>()
        })
    });
    group.bench_function("write_beneath", |b| {
        b.iter(|| boundary.write_file(write, &contents).unwrap())
    });
    group.bench_function("write_by_path", |b| {
        b.iter(|| write_by_path(&boundary, write, &contents))
    });
    let plain = project.join(write);
    group.bench_function("write_plain", |b| b.iter(|| write_plain(&plain, &contents)));
    group.finish();
}

criterion_group!(benches, files);
criterion_main!(benches);
