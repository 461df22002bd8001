"""Files kept under the key of what they were made from: one entry per name.

The renderer keeps each page's executed notebook, its HTML (what pandoc
made of it) and its screenshot, each under a SHA-256 of its inputs
(:func:`digest_files` feeds the files among them into the digest), so that
a page whose inputs did not change is not made again. An entry is
``<name>-<first 16 hex digits of the key><suffix>``; keeping a new entry
for a name removes that name's older entries, and an entry appears whole
or not at all.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path


def _entry(store: Path, name: str, key: str, suffix: str) -> Path:
    """Where the entry of ``name`` made from inputs with ``key`` is kept.

    Parameters
    ----------
    store : Path
        Folder of the entries.
    name : str
        What the entry is of, e.g. a page's stem.
    key : str
        Hex digest of its inputs.
    suffix : str
        File suffix with its dot, e.g. ``".html"``.

    Returns
    -------
    Path
        It may not exist.
    """
    return store / f"{name}-{key[:16]}{suffix}"


def find(store: Path, name: str, key: str, suffix: str) -> Path | None:
    """The kept entry of ``name`` for ``key``, or None when there is none.

    Parameters
    ----------
    store, name, key, suffix
        As for :func:`_entry`.

    Returns
    -------
    Path or None
    """
    path = _entry(store, name, key, suffix)
    return path if path.is_file() else None


def restore(store: Path, name: str, key: str, suffix: str, target: Path) -> bool:
    """Copy the kept entry of ``name`` for ``key`` to ``target``, when there is one.

    Parameters
    ----------
    store, name, key, suffix
        As for :func:`_entry`.
    target : Path
        Where the entry's copy goes.

    Returns
    -------
    bool
        Whether there was an entry to copy.
    """
    made = find(store, name, key, suffix)
    if made:
        shutil.copyfile(made, target)
    return made is not None


def keep(store: Path, name: str, key: str, suffix: str, data: bytes) -> Path:
    """Keep ``data`` as the entry of ``name`` for ``key``, replacing the name's older entries.

    Parameters
    ----------
    store : Path
        Created if needed.
    name, key, suffix
        As for :func:`_entry`.
    data : bytes
        The entry's content.

    Returns
    -------
    Path
        The entry.
    """
    store.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=store, prefix=f".{name}-", suffix=suffix, delete=False) as handle:
        handle.write(data)
    own = re.compile(rf"{re.escape(name)}-[0-9a-f]{{16}}{re.escape(suffix)}")
    for old in store.iterdir():  # not another name that starts with this one
        if own.fullmatch(old.name):
            old.unlink()
    path = _entry(store, name, key, suffix)
    os.replace(handle.name, path)
    return path


def digest_files(digest, files: list[Path]) -> None:
    """Feed each file's name and SHA-256 (or ``missing``) into a running digest.

    Parameters
    ----------
    digest : hashlib object
        Updated in place.
    files : list of Path
    """
    for path in files:
        content = file_digest(path) if path.is_file() else "missing"
        digest.update(f"{path.name}\0{content}\0".encode())


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes.

    Parameters
    ----------
    path : Path

    Returns
    -------
    str
        64 hex digits.
    """
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
