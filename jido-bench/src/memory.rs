//! Resident memory and page faults of this process.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::sync::OnceLock;

/// Bytes of this process's resident memory (the second field of
/// `/proc/self/statm`, in pages, times the page size), or `None` where
/// `/proc` is not available.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

/// The page size: the first `KernelPageSize` line of `/proc/self/smaps`
/// (read up to that line only), else 4 KiB. Read once.
fn page_size() -> u64 {
    static PAGE_SIZE: OnceLock<u64> = OnceLock::new();
    *PAGE_SIZE.get_or_init(|| {
        let Ok(smaps) = File::open("/proc/self/smaps") else {
            return 4096;
        };
        BufReader::new(smaps)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| {
                let kib = line.strip_prefix("KernelPageSize:")?;
                kib.trim().trim_end_matches("kB").trim().parse::<u64>().ok()
            })
            .map_or(4096, |kib| kib * 1024)
    })
}

/// This process's minor page faults so far (field 10 of `/proc/self/stat`),
/// or `None` where `/proc` is not available. A page touched for the first
/// time costs one.
pub fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may contain spaces; it ends at the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(7)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touching_new_memory_raises_resident_bytes_and_minor_faults() {
        let (rss, faults) = (resident_bytes().unwrap(), minor_faults().unwrap());
        let block = vec![1u8; 64 << 20];
        let (rss_after, faults_after) = (resident_bytes().unwrap(), minor_faults().unwrap());
        assert!(rss_after >= rss + (32 << 20), "{rss} -> {rss_after}");
        assert!(faults_after > faults, "{faults} -> {faults_after}");
        drop(block);
    }
}
