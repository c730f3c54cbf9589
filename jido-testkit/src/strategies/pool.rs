//! [`ProjectPool`]: a temporary directory of projects, some with aliases,
//! and the [`SessionSpec`]s of sessions drawn from it.

use std::io;
use std::path::{Path, PathBuf};

use jido_supervisor::session::{ProjectPath, ValidationErrors};
use jido_supervisor::{Session, SessionConfig};
use proptest::prelude::*;
use tempfile::TempDir;

use super::{valid_config, valid_name};

/// A fixture: a temporary directory holding `N` project directories, some
/// of which also have a symlink alias, so that two different paths name one
/// project. Removed when dropped.
///
/// Projects are numbered `0..len()`. [`path`](Self::path) is the direct
/// spelling; [`spelling`](Self::spelling)`(i, true)` another one: the
/// symlink for the first `symlinked` projects, `<root>/<dir>/../<dir>` for
/// the others. Every spelling of project `i` canonicalizes to
/// [`project_path`](Self::project_path)`(i)`. Directory names hold spaces
/// and multibyte characters for odd `i`.
///
/// ```
/// use jido_testkit::strategies::ProjectPool;
///
/// let pool = ProjectPool::new(3, 1).unwrap();
/// assert_eq!(pool.len(), 3);
/// assert!(pool.alias(0).is_some() && pool.alias(1).is_none());
/// assert_ne!(pool.spelling(0, true), pool.spelling(0, false));
/// let via_alias = jido_supervisor::Session::new(pool.spelling(0, true)).unwrap();
/// assert_eq!(via_alias.project_path(), &pool.project_path(0));
/// ```
#[derive(Debug)]
pub struct ProjectPool {
    dir: TempDir,
    projects: Vec<PathBuf>,
    aliases: Vec<Option<PathBuf>>,
    canonical: Vec<ProjectPath>,
}

impl ProjectPool {
    /// Creates `projects` directories, and a symlink alias for the first
    /// `symlinked` of them (at most `projects`).
    ///
    /// # Errors
    ///
    /// Any I/O error creating the directories or symlinks.
    pub fn new(projects: usize, symlinked: usize) -> io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("jido-pool-").tempdir()?;
        let mut paths = Vec::with_capacity(projects);
        let mut aliases = Vec::with_capacity(projects);
        let mut canonical = Vec::with_capacity(projects);
        for i in 0..projects {
            let name = if i % 2 == 0 {
                format!("project-{i}")
            } else {
                format!("projét {i} 日本")
            };
            let path = dir.path().join(name);
            std::fs::create_dir(&path)?;
            let alias = if i < symlinked {
                let alias = dir.path().join(format!("alias-{i}"));
                symlink_dir(&path, &alias)?;
                Some(alias)
            } else {
                None
            };
            canonical.push(ProjectPath::new(&path).map_err(io::Error::other)?);
            paths.push(path);
            aliases.push(alias);
        }
        Ok(ProjectPool {
            dir,
            projects: paths,
            aliases,
            canonical,
        })
    }

    /// How many projects the pool holds.
    pub fn len(&self) -> usize {
        self.projects.len()
    }

    /// `true` if the pool holds no project.
    pub fn is_empty(&self) -> bool {
        self.projects.is_empty()
    }

    /// The temporary directory holding the projects.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The direct path of project `project`.
    ///
    /// # Panics
    ///
    /// If `project >= len()`.
    pub fn path(&self, project: usize) -> &Path {
        &self.projects[project]
    }

    /// The symlink aliasing project `project`, if it has one.
    ///
    /// # Panics
    ///
    /// If `project >= len()`.
    pub fn alias(&self, project: usize) -> Option<&Path> {
        self.aliases[project].as_deref()
    }

    /// A path naming project `project`: the direct one, or (`alias`) a
    /// different one: its symlink, or `<root>/<dir>/../<dir>` if it has none.
    ///
    /// # Panics
    ///
    /// If `project >= len()`.
    pub fn spelling(&self, project: usize, alias: bool) -> PathBuf {
        match (alias, self.alias(project)) {
            (false, _) => self.path(project).to_path_buf(),
            (true, Some(link)) => link.to_path_buf(),
            (true, None) => {
                let name = self.path(project).file_name().unwrap_or_default();
                self.path(project).join("..").join(name)
            }
        }
    }

    /// The canonical path every spelling of project `project` resolves to.
    ///
    /// # Panics
    ///
    /// If `project >= len()`.
    pub fn project_path(&self, project: usize) -> ProjectPath {
        self.canonical[project].clone()
    }

    /// The project whose canonical path is `path`, if it is in the pool.
    pub fn project_of(&self, path: &ProjectPath) -> Option<usize> {
        self.canonical.iter().position(|p| p == path)
    }

    /// Builds the session `spec` describes (with a new random id).
    ///
    /// # Errors
    ///
    /// What [`SessionBuilder::build`](jido_session::SessionBuilder::build)
    /// returns for the spec's name and config.
    ///
    /// # Panics
    ///
    /// If `spec.project >= len()`.
    pub fn session(&self, spec: &SessionSpec) -> Result<Session, ValidationErrors> {
        let mut builder = Session::builder(self.spelling(spec.project, spec.alias));
        if let Some(name) = &spec.name {
            builder = builder.name(name.clone());
        }
        if let Some(config) = &spec.config {
            builder = builder.config(config.clone());
        }
        builder.build()
    }
}

#[cfg(unix)]
fn symlink_dir(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(windows)]
fn symlink_dir(target: &Path, link: &Path) -> io::Result<()> {
    std::os::windows::fs::symlink_dir(target, link)
}

/// What a session drawn from a [`ProjectPool`] looks like; turned into a
/// [`Session`] by [`ProjectPool::session`].
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSpec {
    /// Which project of the pool.
    pub project: usize,
    /// Whether to open it through its alias spelling.
    pub alias: bool,
    /// The name; the folder name when `None`.
    pub name: Option<String>,
    /// The config; the default when `None`.
    pub config: Option<SessionConfig>,
}

/// A valid [`SessionSpec`] for a pool of `projects` projects (valid name and
/// config, or the defaults).
///
/// # Panics
///
/// If `projects` is 0.
pub fn session_spec(projects: usize) -> impl Strategy<Value = SessionSpec> {
    assert!(projects > 0, "a pool needs at least one project");
    (
        0..projects,
        any::<bool>(),
        proptest::option::of(valid_name()),
        proptest::option::of(valid_config()),
    )
        .prop_map(|(project, alias, name, config)| SessionSpec {
            project,
            alias,
            name,
            config,
        })
}
