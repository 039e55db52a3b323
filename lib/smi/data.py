"""Where the project's data lives, and fetching it from its origin with SHA256 checks.

Two public releases are used, each pinned to one commit of its GitHub repository:

* ``smi-release``: the paper's counts, accuracies and prompts;
* ``pararel``: ParaRel's T-REx facts and paraphrase patterns.

The list of files and their SHA256 hashes (``resources/manifest.csv``) is part of
this package. :func:`fetch` copies each file from a local mirror when one is
available, otherwise downloads it from ``raw.githubusercontent.com``, writes it
under a temporary name and renames it into place only after its hash matches.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from smi.errors import ParameterValueError, SmiError
from smi.files import atomic_output, path_inside
from smi.hashing import file_sha256

#: GitHub repository and pinned commit of every release.
ORIGINS = {
    "smi-release": ("yuhui1038/SMI", "af616cb209b4352a7399eddb38b76b8cfabe36a8"),
    "pararel": ("yanaiela/pararel", "cb5554678457beb5ac163d888f1ce8cf174b3f0b"),
}
RAW_URL = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"
MIRROR_ENV = "SMI_DATA_MIRROR"
DATA_DIR_ENV = "SMI_DATA_DIR"


@dataclass(frozen=True)
class ManifestEntry:
    """One released file: which release, its path inside the release, its SHA256."""

    release: str
    path: str
    sha256: str

    @property
    def url(self) -> str:
        repo, commit = ORIGINS[self.release]
        return RAW_URL.format(repo=repo, commit=commit, path=self.path)


def read_manifest() -> list[ManifestEntry]:
    """The files the project needs, read from the packaged ``manifest.csv``.

    Returns
    -------
    list of ManifestEntry
        One entry per file: release, path and SHA-256.
    """
    text = resources.files("smi.resources").joinpath("manifest.csv").read_text()
    return [ManifestEntry(**row) for row in csv.DictReader(text.splitlines())]


def project_root(start: Path | None = None) -> Path:
    """The nearest folder above ``start`` (default: the working directory) holding ``lib/smi``.

    Falls back to ``start`` itself when the package is used outside a checkout.

    Parameters
    ----------
    start : Path or None
        Where to start looking.

    Returns
    -------
    Path
        The project folder.
    """
    start = Path(start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "lib" / "smi").is_dir() and (folder / "pyproject.toml").is_file():
            return folder
    return start


def external_dir() -> Path:
    """Where fetched releases live: ``$SMI_DATA_DIR`` or ``<project>/data/external``.

    Returns
    -------
    Path
        The folder.
    """
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV])
    return project_root() / "data" / "external"


def release_dir() -> Path:
    """The fetched SMI release (``data/external/smi-release``).

    Returns
    -------
    Path
        The folder.
    """
    return external_dir() / "smi-release"


def pararel_dir() -> Path:
    """The fetched ParaRel release (``data/external/pararel``).

    Returns
    -------
    Path
        The folder.
    """
    return external_dir() / "pararel"


def default_mirror() -> Path | None:
    """A local copy of the releases: ``$SMI_DATA_MIRROR``, else ``../shared/data`` if present.

    Returns
    -------
    Path or None
        The mirror folder, or None when there is none.
    """
    if os.environ.get(MIRROR_ENV):
        return Path(os.environ[MIRROR_ENV])
    candidate = project_root().parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


def sha256_of(path: Path) -> str:
    """Hex SHA256 digest of a file (:func:`smi.hashing.file_sha256`).

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    str
        The hex digest.
    """
    return file_sha256(path)


def _copy_from_source(entry: ManifestEntry, mirror: Path | None, target: Path) -> None:
    """Write the entry's bytes to ``target`` from the mirror or the origin URL."""
    if mirror is not None:
        source = mirror / entry.release / entry.path
        if not source.is_file():
            raise SmiError(f"{source}: missing from the mirror {mirror}")
        shutil.copyfile(source, target)
        return
    try:
        with urllib.request.urlopen(entry.url, timeout=60) as response, open(target, "wb") as out:
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, OSError) as error:
        raise SmiError(f"{entry.url}: download failed ({error})") from None


def fetch_entry(entry: ManifestEntry, dest: Path, mirror: Path | None) -> bool:
    """Make ``dest/<release>/<path>`` hold the verified file; return True if it was written.

    A file already present with the right hash is left alone. A new copy goes to a
    temporary name beside the target and is renamed only after its hash matches.

    Parameters
    ----------
    entry : ManifestEntry
        The file to fetch.
    dest : Path
        The data folder.
    mirror : Path or None
        A local copy to take the file from; it is downloaded when None.

    Returns
    -------
    bool
        True when the file was written, False when a verified copy was already there.

    Raises
    ------
    SmiError
        When the entry's path leaves ``dest`` (``..``, absolute), the target cannot be written or the
        fetched file's hash differs from the manifest's.
    """
    target = path_inside(path_inside(Path(dest), entry.release, "manifest release"), entry.path, "manifest entry")
    if target.is_file() and sha256_of(target) == entry.sha256:
        return False
    with atomic_output(target) as temporary:
        try:
            _copy_from_source(entry, mirror, temporary)
        except OSError as error:  # a full disk, a file removed under us
            raise SmiError(f"{target}: cannot write ({error.strerror or error})") from None
        got = sha256_of(temporary)
        if got != entry.sha256:
            where = mirror / entry.release / entry.path if mirror else entry.url
            raise SmiError(f"{where}: SHA256 mismatch (expected {entry.sha256[:12]}…, got {got[:12]}…)")
    return True


def check_dest(dest: Path) -> Path:
    """Refuse, before anything is fetched, a destination folder that cannot be written.

    The folder is created when missing. Raises :class:`SmiError` naming ``dest`` when it
    is a file, when a parent of it is a file, or when no file can be created in it
    (read-only, full disk).

    Parameters
    ----------
    dest : Path
        The data folder.

    Returns
    -------
    Path
        ``dest`` itself.

    Raises
    ------
    SmiError
        When ``dest`` cannot hold the fetched files.
    """
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise ParameterValueError("dest", "is a file, not a folder", dest)
    try:
        dest.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".smi-write-check.", dir=dest)
    except (FileExistsError, NotADirectoryError):
        raise SmiError(f"{dest}: cannot create the data folder: a parent of it is a file") from None
    except OSError as error:
        raise SmiError(f"{dest}: cannot write into the data folder ({error.strerror or error})") from None
    os.close(fd)
    os.unlink(probe)
    return dest


def fetch(dest: Path | None = None, mirror: Path | None = None, progress: bool = True) -> dict[str, int]:
    """Fetch and verify every file of the manifest; return counts of written and kept files.

    ``mirror`` defaults to :func:`default_mirror`; without one, files are downloaded
    from their origin at the pinned commit.

    Parameters
    ----------
    dest : Path or None
        The data folder; :func:`external_dir` when None.
    mirror : Path or None
        A local copy of the releases.
    progress : bool
        Show a progress bar.

    Returns
    -------
    dict of str to int
        ``written`` and ``kept`` file counts.

    Raises
    ------
    SmiError
        When the mirror is missing, a file cannot be written, or a hash differs.
    """
    from tqdm.auto import tqdm

    dest = Path(dest or external_dir())
    mirror = Path(mirror) if mirror else default_mirror()
    if mirror is not None and not mirror.is_dir():
        raise SmiError(f"{mirror}: mirror directory does not exist")
    check_dest(dest)
    counts = {"written": 0, "kept": 0}
    entries = read_manifest()
    for entry in tqdm(entries, desc="fetch", unit="file", disable=not progress):
        counts["written" if fetch_entry(entry, dest, mirror) else "kept"] += 1
    return counts
