//! The journal's format: every whole record comes back, a torn last write
//! is dropped and reported, corruption before the end is an error.

use jido_store::journal::{self, FORMAT_VERSION, HEADER_LEN, JournalError, Record, TornTail};
use proptest::prelude::*;

/// A journal of `payloads`, numbered from `first`, and where each record
/// ends.
fn journal_of(first: u64, payloads: &[Vec<u8>]) -> (Vec<u8>, Vec<usize>) {
    let mut bytes = Vec::new();
    let mut ends = Vec::new();
    for (i, payload) in payloads.iter().enumerate() {
        journal::encode(first + i as u64, payload, &mut bytes).unwrap();
        ends.push(bytes.len());
    }
    (bytes, ends)
}

fn records(first: u64, payloads: &[Vec<u8>]) -> Vec<Record> {
    payloads
        .iter()
        .enumerate()
        .map(|(i, payload)| Record {
            seq: first + i as u64,
            payload: payload.clone(),
        })
        .collect()
}

fn sample() -> Vec<Vec<u8>> {
    vec![
        b"{\"op\":\"message\",\"content\":\"hello\"}".to_vec(),
        Vec::new(),
        vec![0xA7; 40], // the magic byte, many times over
        (0..=255).collect(),
    ]
}

#[test]
fn a_journal_cut_at_every_byte_offset_keeps_every_whole_record_and_reports_the_torn_one() {
    let payloads = sample();
    let (bytes, ends) = journal_of(7, &payloads);
    for cut in 0..=bytes.len() {
        let read =
            journal::read(&bytes[..cut]).unwrap_or_else(|error| panic!("cut {cut}: {error}"));
        let whole = ends.iter().filter(|end| **end <= cut).count();
        let end = if whole == 0 { 0 } else { ends[whole - 1] };
        assert_eq!(read.records, records(7, &payloads[..whole]), "cut {cut}");
        assert_eq!(read.end, end as u64, "cut {cut}");
        let torn = (cut > end).then_some(TornTail {
            offset: end as u64,
            len: (cut - end) as u64,
        });
        assert_eq!(read.torn, torn, "cut {cut}");
    }
}

#[test]
fn a_damaged_byte_in_any_record_but_the_last_is_corruption_not_a_shorter_journal() {
    let payloads = sample();
    let (bytes, ends) = journal_of(1, &payloads);
    let last_start = ends[ends.len() - 2];
    for at in 0..last_start {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x5A;
        let record = ends.iter().filter(|end| **end <= at).count();
        match journal::read(&damaged) {
            Err(JournalError::Corrupt { offset, after, .. }) => {
                let start = if record == 0 { 0 } else { ends[record - 1] };
                assert_eq!(offset, start as u64, "byte {at}");
                assert_eq!(after, (record > 0).then_some(record as u64), "byte {at}");
            }
            other => panic!("byte {at}: {other:?}"),
        }
    }
}

#[test]
fn a_damaged_byte_in_the_last_record_drops_it_and_says_so() {
    let payloads = sample();
    let (bytes, ends) = journal_of(1, &payloads);
    let last_start = ends[ends.len() - 2];
    for at in last_start..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x01;
        let read = journal::read(&damaged).unwrap_or_else(|error| panic!("byte {at}: {error}"));
        assert_eq!(
            read.records,
            records(1, &payloads[..payloads.len() - 1]),
            "byte {at}"
        );
        assert_eq!(
            read.torn,
            Some(TornTail {
                offset: last_start as u64,
                len: (bytes.len() - last_start) as u64
            })
        );
    }
}

#[test]
fn records_out_of_sequence_are_refused() {
    let mut bytes = Vec::new();
    journal::encode(1, b"a", &mut bytes).unwrap();
    journal::encode(3, b"b", &mut bytes).unwrap();
    assert_eq!(
        journal::read(&bytes),
        Err(JournalError::SequenceGap {
            offset: (HEADER_LEN + 1) as u64,
            expected: 2,
            found: 3
        })
    );
}

/// Rewrites the header of the record at the start of `bytes` with `edit`,
/// keeping its checksum valid: a record from a newer writer.
fn reheader(bytes: &mut [u8], edit: impl FnOnce(&mut [u8])) {
    edit(&mut bytes[..20]);
    let crc = crc32fast::hash(&bytes[..20]);
    bytes[20..24].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn a_record_of_a_newer_format_is_refused_not_misread() {
    let mut bytes = Vec::new();
    journal::encode(1, b"a", &mut bytes).unwrap();
    reheader(&mut bytes, |header| header[1] = FORMAT_VERSION + 1);
    assert_eq!(
        journal::read(&bytes),
        Err(JournalError::UnsupportedVersion {
            offset: 0,
            version: FORMAT_VERSION + 1
        })
    );
    let mut bytes = Vec::new();
    journal::encode(1, b"a", &mut bytes).unwrap();
    reheader(&mut bytes, |header| header[2] = 1);
    assert_eq!(
        journal::read(&bytes),
        Err(JournalError::UnknownFlags {
            offset: 0,
            flags: 1
        })
    );
}

#[test]
fn a_length_over_the_limit_is_refused_unread() {
    let mut bytes = Vec::new();
    journal::encode(1, b"a", &mut bytes).unwrap();
    reheader(&mut bytes, |header| {
        header[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    });
    bytes.resize(bytes.len() + 64, 0);
    assert_eq!(
        journal::read(&bytes),
        Err(JournalError::TooLarge {
            len: u64::from(u32::MAX)
        })
    );
    let too_large = vec![0u8; journal::MAX_PAYLOAD as usize + 1];
    let mut out = Vec::new();
    assert!(matches!(
        journal::encode(1, &too_large, &mut out),
        Err(JournalError::TooLarge { .. })
    ));
    assert!(out.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|cases| cases.parse().ok()).unwrap_or(64)
    ))]

    /// Any records, cut anywhere: the whole ones come back, in order, and
    /// the rest is reported torn.
    #[test]
    fn any_journal_cut_anywhere_reads_back_its_whole_records(
        first in 1u64..1_000_000,
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..12),
        cut in any::<proptest::sample::Index>(),
    ) {
        let (bytes, ends) = journal_of(first, &payloads);
        let cut = cut.index(bytes.len() + 1);
        let read = journal::read(&bytes[..cut]).unwrap();
        let whole = ends.iter().filter(|end| **end <= cut).count();
        prop_assert_eq!(read.records, records(first, &payloads[..whole]));
        prop_assert_eq!(read.torn.is_some(), ends.get(whole.wrapping_sub(1)).copied().unwrap_or(0) < cut);
    }
}
