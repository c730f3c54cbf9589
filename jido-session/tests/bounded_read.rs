//! Issue 21, item 4: `read_file`'s memory is bounded by what it returns,
//! whatever the file holds — a 64 MiB second line, or a file that is one
//! 64 MiB line — counted by dhat as the test's allocator (one test: dhat's
//! profiler is process-wide).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use jido_session::{MAX_LINE_CHARS, ProjectBoundary, ProjectPath};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const HUGE: u64 = 64 * 1024 * 1024;

#[test]
fn a_read_keeps_only_what_it_returns_whatever_the_file_holds() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().canonicalize().unwrap();
    // "first\n" then a 64 MiB line of NULs; and a file that is one line.
    let mut second = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(project.join("second.txt"))
        .unwrap();
    second.write_all(b"first\n").unwrap();
    second.set_len(6 + HUGE).unwrap();
    let one = fs::File::create(project.join("one.txt")).unwrap();
    one.set_len(HUGE).unwrap();
    let boundary = ProjectBoundary::new(ProjectPath::new(&project).unwrap());

    let _profiler = dhat::Profiler::builder().testing().build();
    let first = boundary.read_file(Path::new("second.txt"), 1, 1).unwrap();
    assert_eq!(first.lines, ["first"]);
    assert!(first.has_more);
    let long = boundary.read_file(Path::new("one.txt"), 1, 10).unwrap();
    assert_eq!(long.lines.len(), 1);
    assert_eq!(long.lines[0].chars().count(), MAX_LINE_CHARS);
    assert_eq!(long.cut_lines, 1);
    let skipped = boundary.read_file(Path::new("second.txt"), 3, 10).unwrap();
    assert!(skipped.lines.is_empty());

    let stats = dhat::HeapStats::get();
    eprintln!(
        "peak heap {} bytes for reads of 64 MiB files",
        stats.max_bytes
    );
    dhat::assert!(
        stats.max_bytes < 512 * 1024,
        "peak {} bytes",
        stats.max_bytes
    );
}
