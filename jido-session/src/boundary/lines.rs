//! [`read_lines`]: lines of a file, read in chunks, keeping only the lines
//! asked for, each cut at [`MAX_LINE_BYTES`]: memory bounded by what is
//! returned, whatever the file holds.

use std::io::{self, Read};

use super::files::MAX_LINE_CHARS;

/// The most bytes kept of one line: enough for [`MAX_LINE_CHARS`]
/// characters of four bytes each, and one more character, so that a line
/// cut here is cut again at exactly [`MAX_LINE_CHARS`] characters.
pub(crate) const MAX_LINE_BYTES: usize = (MAX_LINE_CHARS + 1) * 4;

/// How much is read at a time.
const CHUNK: usize = 64 * 1024;

/// The lines read.
#[derive(Debug, Default)]
pub(crate) struct Lines {
    pub(crate) lines: Vec<String>,
    pub(crate) cut_lines: usize,
    pub(crate) has_more: bool,
}

/// Reads `limit` lines from line `offset` (from 1) of `reader`. Lines
/// before `offset` are skipped without being kept, as is everything of a
/// line past [`MAX_LINE_BYTES`]; after the last line returned, one more
/// byte is read to tell whether the file goes on. `gave_up` is asked
/// between chunks: once it says so, the read stops (`Ok(None)`).
pub(crate) fn read_lines(
    reader: &mut impl Read,
    offset: usize,
    limit: usize,
    gave_up: &dyn Fn() -> bool,
) -> io::Result<Option<Lines>> {
    let mut read = Lines::default();
    let mut chunk = vec![0; CHUNK];
    // The number of the line being read, and what is kept of it.
    let mut number = 1usize;
    let mut line: Vec<u8> = Vec::new();
    let mut line_has_bytes = false;
    loop {
        if gave_up() {
            return Ok(None);
        }
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        let mut rest = &chunk[..n];
        while !rest.is_empty() {
            if read.lines.len() == limit {
                // A byte after the last line returned: there is more.
                read.has_more = true;
                return Ok(Some(read));
            }
            let end = rest.iter().position(|&byte| byte == b'\n');
            let (part, after) = match end {
                Some(end) => (&rest[..end], &rest[end + 1..]),
                None => (rest, &[][..]),
            };
            line_has_bytes = true;
            if number >= offset {
                let room = MAX_LINE_BYTES.saturating_sub(line.len());
                line.extend_from_slice(&part[..part.len().min(room)]);
            }
            if end.is_some() {
                if number >= offset {
                    finish(&mut read, &line);
                }
                line.clear();
                line_has_bytes = false;
                number += 1;
            }
            rest = after;
        }
    }
    // A last line without a line end.
    if line_has_bytes && number >= offset && read.lines.len() < limit {
        finish(&mut read, &line);
    }
    Ok(Some(read))
}

/// Keeps `line` (its bytes, without the `\n`): `\r` at its end dropped,
/// invalid UTF-8 replaced, cut at [`MAX_LINE_CHARS`] characters.
fn finish(read: &mut Lines, line: &[u8]) {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\n', '\r']);
    match text.char_indices().nth(MAX_LINE_CHARS) {
        Some((end, _)) => {
            read.lines.push(text[..end].to_owned());
            read.cut_lines += 1;
        }
        None => read.lines.push(text.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(bytes: &[u8], offset: usize, limit: usize) -> (Vec<String>, usize, bool) {
        let read = read_lines(&mut &bytes[..], offset, limit, &|| false)
            .unwrap()
            .unwrap();
        (read.lines, read.cut_lines, read.has_more)
    }

    #[test]
    fn lines_are_read_as_a_line_reader_reads_them() {
        let s = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(lines(b"a\nb\nc\n", 1, 10), (s(&["a", "b", "c"]), 0, false));
        assert_eq!(lines(b"a\nb\nc", 1, 10), (s(&["a", "b", "c"]), 0, false));
        assert_eq!(lines(b"a\nb\nc\n", 2, 1), (s(&["b"]), 0, true));
        assert_eq!(lines(b"a\nb\n", 2, 1), (s(&["b"]), 0, false));
        assert_eq!(lines(b"a\r\n\nb", 1, 10), (s(&["a", "", "b"]), 0, false));
        assert_eq!(lines(b"", 1, 10), (s(&[]), 0, false));
        assert_eq!(lines(b"a\n", 5, 10), (s(&[]), 0, false));
        assert_eq!(lines(b"a\nb", 1, 0), (s(&[]), 0, true));
        let long = "é".repeat(MAX_LINE_CHARS + 10);
        let (got, cut, _) = lines(long.as_bytes(), 1, 1);
        assert_eq!(got[0].chars().count(), MAX_LINE_CHARS);
        assert_eq!(cut, 1);
    }

    #[test]
    fn a_reader_that_gave_up_stops() {
        let read = read_lines(&mut &b"a\nb\n"[..], 1, 10, &|| true).unwrap();
        assert!(read.is_none());
    }
}
