"""Writing folders without ever destroying what sftkit did not write.

The rule: sftkit deletes or replaces a folder only when it can tell the folder is its own, by a
marker file it writes into every folder it creates (a run's `sftkit-run.json`, a model's
`sftkit.json`, a checkpoint's `state.pt`, a cache folder's `sftkit-cache.json`). A folder
without its marker is refused with an error, never emptied, renamed or replaced.

Folders are written into a temporary sibling and renamed over the target only when complete:
an interrupted write leaves the previous folder (or nothing), never a half-written one. The
temporary and set-aside siblings carry names no user picks (`.<name>.sftkit-tmp-*`,
`.<name>.sftkit-old`) and a marker of their own, so stale ones are cleared without touching a
user's hidden folders.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

from sftkit.errors import ConfigError

PARTIAL = ".sftkit-partial"  # inside a temporary folder until it is renamed into place
_RESERVED_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
FORBIDDEN_CHARACTERS = set('<>:"/\\|?*')
# Control, format (e.g. right-to-left overrides), surrogate, private and unassigned code points, line separators.
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def check_run_name(name: str) -> str:
    """`name` if it is one plain folder name; else a ConfigError saying what is wrong with it."""
    if not isinstance(name, str) or not name.strip():
        raise ConfigError.about("setting 'run_name' must be a folder name, got an empty one")
    if name in (".", ".."):
        raise ConfigError.about("setting 'run_name' {name!r} is not a folder name", name=name)
    if os.path.isabs(name) or "/" in name or "\\" in name:
        raise ConfigError.about("setting 'run_name' {name!r} holds a path separator: a run name is one folder name "
                                "inside output_dir", name=name)
    if any(unicodedata.category(c) in _INVISIBLE for c in name):
        raise ConfigError.about("setting 'run_name' {name!r} holds control or invisible characters", name=name)
    if any(c in FORBIDDEN_CHARACTERS for c in name):
        raise ConfigError.about("setting 'run_name' {name!r} holds one of {characters}, which file systems or web "
                                "pages treat specially", name=name, characters="".join(sorted(FORBIDDEN_CHARACTERS)))
    if name.startswith("."):
        raise ConfigError.about("setting 'run_name' {name!r} starts with '.', which hides the folder", name=name)
    if name != name.strip() or name.endswith("."):
        raise ConfigError.about("setting 'run_name' {name!r} starts or ends with a space or ends with '.'", name=name)
    if name.split(".")[0].lower() in _RESERVED_NAMES:
        raise ConfigError.about("setting 'run_name' {name!r} is a reserved device name on Windows", name=name)
    if len(name.encode("utf-8")) > 200:
        raise ConfigError.about("setting 'run_name' {name!r} is longer than 200 bytes", name=name)
    return name


def owned(folder: Path, marker: str) -> bool:
    """A real folder (not a link to one elsewhere) holding sftkit's marker file."""
    return folder.is_dir() and not folder.is_symlink() and (folder / marker).is_file()


def refuse_foreign(folder: Path, marker: str, what: str) -> None:
    """Raise unless `folder` is absent or sftkit's own (by its marker)."""
    if folder.is_symlink():
        raise ConfigError(f"{folder} is a symbolic link; sftkit writes only into folders it creates, "
                          f"so it will not write a {what} through it")
    if folder.exists() and not owned(folder, marker):
        raise ConfigError(f"{folder} exists and was not written by sftkit (no {marker} in it); sftkit never "
                          f"replaces or empties such a folder: choose another name for the {what}")


class atomic_folder:
    """Write into a temporary sibling folder; rename it over the target only when all went well.

    `marker` is the file that makes a folder sftkit's own: an existing target without it is refused
    before anything is written, and the finished folder must hold it.
    """

    def __init__(self, target: Path, marker: str, what: str = "folder") -> None:
        self.target, self.marker, self.what = Path(target), marker, what

    def __enter__(self) -> Path:
        parent = self.target.parent
        parent.mkdir(parents=True, exist_ok=True)
        recover_folder(self.target, self.marker)
        refuse_foreign(self.target, self.marker, self.what)
        clear_stale(self.target)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.sftkit-tmp-", dir=parent))
        os.chmod(self.tmp, 0o755)  # mkdtemp makes it private; a run folder is for sharing
        (self.tmp / PARTIAL).touch()
        return self.tmp

    def __exit__(self, kind: Any, *_: Any) -> None:
        if kind is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        if not (self.tmp / self.marker).is_file():
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise RuntimeError(f"{self.target}: the {self.what} was written without its {self.marker}")
        (self.tmp / PARTIAL).unlink()
        refuse_foreign(self.target, self.marker, self.what)  # nothing else took the name meanwhile
        if self.target.exists():
            old = _old_name(self.target)
            if old.exists():
                _remove_owned(old, self.marker)
            os.replace(self.target, old)
            os.replace(self.tmp, self.target)
            shutil.rmtree(old)
        else:
            os.replace(self.tmp, self.target)


def recover_folder(target: Path, marker: str) -> None:
    """A process killed between the two renames of a replacement leaves the previous, complete
    folder under its set-aside name and no target: put it back."""
    old = _old_name(target)
    if not target.exists() and not target.is_symlink() and owned(old, marker):
        os.replace(old, target)


def clear_stale(target: Path) -> None:
    """Remove temporary siblings a killed write left behind: only those sftkit named and marked."""
    for stale in target.parent.glob(f".{target.name}.sftkit-tmp-*"):
        if stale.is_dir() and not stale.is_symlink() and (stale / PARTIAL).is_file():
            shutil.rmtree(stale, ignore_errors=True)


def write_json(path: Path, value: Any) -> None:
    """Write JSON through a temporary file and a rename: a reader never sees half a file."""
    text = json.dumps(value, indent=2, default=_json_default) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.sftkit-tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _old_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.sftkit-old")


def _remove_owned(folder: Path, marker: str) -> None:
    if not owned(folder, marker):
        raise ConfigError(f"{folder} is in the way and was not written by sftkit; move it away")
    shutil.rmtree(folder)


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
