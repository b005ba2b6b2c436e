//! Docker's json-file log: one JSON object per chunk of output,
//! `{"log":"...","stream":"stdout","time":"RFC 3339 nanos"}`, appended by
//! the shim and read by `logs`.

use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Duration;

use fs_err as fs;
use serde::{Deserialize, Serialize};
use strata_core::Timestamp;
use strata_runtime::Stream;

use crate::error::Result;

/// One log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The bytes (lossily UTF-8, as Docker's json-file driver stores them).
    pub log: String,
    /// `stdout` or `stderr`.
    pub stream: String,
    /// When it was read, RFC 3339 with nanoseconds.
    pub time: String,
}

/// Appends a container's output to its log, a line at a time as Docker's
/// driver does (a partial line waits for its end, or for the next flush).
pub struct LogWriter {
    file: Option<fs::File>,
    pending: [Vec<u8>; 2],
}

impl LogWriter {
    /// Opens (creates) the log at `path` for appending.
    pub fn open(path: &Path) -> Result<LogWriter> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(LogWriter {
            file: Some(file),
            pending: [Vec::new(), Vec::new()],
        })
    }

    /// Records `data` from `stream`. Errors are logged, never returned:
    /// a full disk must not stop the container.
    pub fn write(&mut self, stream: Stream, data: &[u8]) {
        let idx = usize::from(stream == Stream::Stderr);
        self.pending[idx].extend_from_slice(data);
        while let Some(end) = self.pending[idx].iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending[idx].drain(..=end).collect();
            self.emit(stream, &line);
        }
        if self.pending[idx].len() > 16 * 1024 {
            let rest = std::mem::take(&mut self.pending[idx]);
            self.emit(stream, &rest);
        }
    }

    fn emit(&mut self, stream: Stream, bytes: &[u8]) {
        let Some(file) = self.file.as_mut() else {
            return;
        };
        let entry = Entry {
            log: String::from_utf8_lossy(bytes).into_owned(),
            stream: match stream {
                Stream::Stdout => "stdout".into(),
                Stream::Stderr => "stderr".into(),
            },
            time: now().to_string(),
        };
        let mut line = serde_json::to_vec(&entry).expect("an entry serializes");
        line.push(b'\n');
        if let Err(e) = file.write_all(&line) {
            tracing::warn!(error = %e, "writing the container log failed; output is dropped");
            self.file = None;
        }
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        for (idx, stream) in [(0, Stream::Stdout), (1, Stream::Stderr)] {
            let rest = std::mem::take(&mut self.pending[idx]);
            if !rest.is_empty() {
                self.emit(stream, &rest);
            }
        }
    }
}

fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_unix(d.as_secs() as i64, d.subsec_nanos())
}

/// `logs` options.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOptions {
    /// `--tail N`: only the last N entries.
    pub tail: Option<usize>,
    /// `-f`: keep reading while `running()` says so.
    pub follow: bool,
}

/// Reads the log at `path`, passing each entry to `emit`; with `follow`,
/// keeps reading new entries until `running()` is false and the log is
/// drained.
pub fn read(
    path: &Path,
    opts: ReadOptions,
    running: &mut dyn FnMut() -> bool,
    emit: &mut dyn FnMut(&Entry) -> std::io::Result<()>,
) -> Result<()> {
    let file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let mut reader = BufReader::new(file);
    let mut entries = Vec::new();
    let mut line = String::new();
    let mut offset = 0u64;
    loop {
        line.clear();
        let n = reader.read_line(&mut line)?;
        if n == 0 || !line.ends_with('\n') {
            break;
        }
        offset += n as u64;
        if let Ok(e) = serde_json::from_str::<Entry>(&line) {
            entries.push(e);
        }
    }
    let skip = opts.tail.map_or(0, |t| entries.len().saturating_sub(t));
    for e in &entries[skip..] {
        emit(e)?;
    }
    if !opts.follow {
        return Ok(());
    }
    loop {
        let alive = running();
        reader.seek(SeekFrom::Start(offset))?;
        loop {
            line.clear();
            let n = reader.read_line(&mut line)?;
            if n == 0 || !line.ends_with('\n') {
                break;
            }
            offset += n as u64;
            if let Ok(e) = serde_json::from_str::<Entry>(&line) {
                emit(&e)?;
            }
        }
        if !alive {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_entries_and_tail_takes_the_last() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("c-json.log");
        {
            let mut w = LogWriter::open(&path).unwrap();
            w.write(Stream::Stdout, b"one\ntw");
            w.write(Stream::Stderr, b"err\n");
            w.write(Stream::Stdout, b"o\nthree");
        }
        let mut got = Vec::new();
        let opts = ReadOptions::default();
        read(&path, opts, &mut || false, &mut |e| {
            got.push((e.stream.clone(), e.log.clone()));
            Ok(())
        })
        .unwrap();
        let want = [
            ("stdout", "one\n"),
            ("stderr", "err\n"),
            ("stdout", "two\n"),
            ("stdout", "three"),
        ];
        assert_eq!(
            got,
            want.map(|(s, l)| (s.to_owned(), l.to_owned())).to_vec()
        );
        let mut tail = Vec::new();
        let opts = ReadOptions {
            tail: Some(2),
            follow: false,
        };
        read(&path, opts, &mut || false, &mut |e| {
            tail.push(e.log.clone());
            Ok(())
        })
        .unwrap();
        assert_eq!(tail, ["two\n", "three"]);
        let text = std::fs::read_to_string(&path).unwrap();
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert!(first["time"].as_str().unwrap().ends_with('Z'));
    }
}
