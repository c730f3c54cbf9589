//! [`TempPostgres`]: a throwaway PostgreSQL server for tests and benches —
//! `initdb` and `pg_ctl` into a temporary directory, on a free local port,
//! stopped and deleted when dropped.

use std::fmt;
use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// The user the server's superuser is named (trust authentication, local
/// connections only).
pub const TEMP_POSTGRES_USER: &str = "jido";

/// A PostgreSQL server of its own, in a temporary directory, listening on
/// `127.0.0.1` on a free port. Dropping it stops the server (immediate
/// shutdown) and deletes its files.
///
/// The binaries are looked for in `$JIDO_PG_BIN`, then on `PATH`, then in
/// Debian's `/usr/lib/postgresql/<version>/bin` (newest first). Run as root
/// (as CI does), the server runs as the `postgres` user, since PostgreSQL
/// refuses to run as root.
///
/// ```no_run
/// use jido_testkit::TempPostgres;
///
/// let Some(server) = TempPostgres::start_or_skip("this example") else { return };
/// println!("connect with {}", server.url());
/// ```
pub struct TempPostgres {
    dir: TempDir,
    bin: PathBuf,
    run_as: Option<String>,
    port: u16,
}

impl fmt::Debug for TempPostgres {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TempPostgres")
            .field("dir", &self.dir.path())
            .field("port", &self.port)
            .finish()
    }
}

/// Why a [`TempPostgres`] did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TempPostgresError {
    /// No `initdb`/`pg_ctl` was found.
    #[error(
        "PostgreSQL binaries not found (set JIDO_PG_BIN, or install Debian's `postgresql` package)"
    )]
    NotInstalled,
    /// A command failed.
    #[error("{command} failed: {output}")]
    Command {
        /// What was run.
        command: String,
        /// What it printed.
        output: String,
    },
    /// An I/O error (temporary directory, a free port, running a command).
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl TempPostgres {
    /// Initializes and starts a server. Fails with
    /// [`TempPostgresError::NotInstalled`] when the binaries are absent.
    ///
    /// # Errors
    ///
    /// See [`TempPostgresError`].
    pub fn start() -> Result<Self, TempPostgresError> {
        let bin = find_binaries().ok_or(TempPostgresError::NotInstalled)?;
        let run_as = running_as_root().then(|| "postgres".to_string());
        let dir = tempfile::Builder::new().prefix("jido-pg").tempdir()?;
        if let Some(user) = &run_as {
            let (uid, gid) = ids_of(user)?;
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))?;
        }
        let mut server = TempPostgres {
            dir,
            bin,
            run_as,
            port: 0,
        };
        let data = server.data_dir();
        server.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                TEMP_POSTGRES_USER.as_ref(),
                "--auth=trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        // A free port can be taken between the probe and the start: retry.
        let mut last = None;
        for _ in 0..5 {
            server.port = free_port()?;
            match server.pg_ctl_start() {
                Ok(()) => return Ok(server),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or(TempPostgresError::NotInstalled))
    }

    /// [`start`](Self::start), or `None` with a message on stderr when the
    /// binaries are absent — unless `CI` is set, where a missing server is a
    /// failure, not a skip. Panics on any other failure (for tests).
    #[allow(clippy::panic)]
    pub fn start_or_skip(what: &str) -> Option<Self> {
        match Self::start() {
            Ok(server) => Some(server),
            Err(TempPostgresError::NotInstalled) if std::env::var_os("CI").is_none() => {
                eprintln!(
                    "skipping {what}: PostgreSQL binaries not found (install Debian's `postgresql`, or set JIDO_PG_BIN)"
                );
                None
            }
            Err(error) => panic!("could not start a PostgreSQL server for {what}: {error}"),
        }
    }

    /// The connection string: `host=127.0.0.1 port=… user=jido dbname=postgres`.
    pub fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user={TEMP_POSTGRES_USER} dbname=postgres",
            self.port
        )
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server at once (immediate shutdown), keeping its files:
    /// for tests of an unreachable database.
    ///
    /// # Errors
    ///
    /// If `pg_ctl stop` fails.
    pub fn stop(&self) -> Result<(), TempPostgresError> {
        let data = self.data_dir();
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                "immediate".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        )
        .map(drop)
    }

    /// Starts the server again after [`stop`](Self::stop), on the same
    /// port, with its data.
    ///
    /// # Errors
    ///
    /// If `pg_ctl start` fails.
    pub fn restart(&self) -> Result<(), TempPostgresError> {
        self.pg_ctl_start()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn pg_ctl_start(&self) -> Result<(), TempPostgresError> {
        let data = self.data_dir();
        let log = self.dir.path().join("server.log");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-w".as_ref(),
                "start".as_ref(),
            ],
        )
        .map(drop)
    }

    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<Output, TempPostgresError> {
        let path = self.bin.join(program);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(&path);
                command
            }
            None => Command::new(&path),
        };
        command.args(args).current_dir(self.dir.path());
        let output = command.output()?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(TempPostgresError::Command {
                command: format!("{program} {args:?}"),
                output: format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ),
            })
        }
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        if self.port != 0 {
            let _ = self.stop();
        }
    }
}

fn find_binaries() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("JIDO_PG_BIN").map(PathBuf::from) {
        return has_both(&dir).then_some(dir);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_both(&dir) {
                // Debian links some of them into PATH: use the real
                // directory, where `postgres` is too.
                let real = dir.join("initdb").canonicalize().ok()?;
                return real.parent().map(Path::to_path_buf);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            has_both(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

fn ids_of(user: &str) -> io::Result<(u32, u32)> {
    let id = |flag: &str| -> io::Result<u32> {
        let output = Command::new("id").args([flag, user]).output()?;
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .map_err(|_| io::Error::other(format!("no user {user} to run PostgreSQL as")))
    };
    Ok((id("-u")?, id("-g")?))
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
