"""Directories and files that only their user may write: the ground the disk caches stand on.

The CPU backend's cache holds machine code that symcomp loads and runs (object code, linked
shared objects, a copy of NumPy's OpenBLAS), and the CUDA backend's holds PTX it loads on the
GPU.  Whoever can write those files can make every later process of the user run their code,
so symcomp only uses a cache directory that is

* owned by the user running symcomp (a symbolic link to it, too, if it is one), and
* writable by no one else (no group or other write bit).

It creates its directories 0700 and its files 0600, whatever the umask.  A directory that fails
the check is not used: the caller runs without the disk cache, and says why once (a
``RuntimeWarning``).  Only the directory itself is checked, not its parents: a user whose home
directory others can write has lost more than a cache.  docs/robustness.md ("Threat model")
says what is trusted and what is checked.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Optional

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_private_dir(d: Path) -> None:
    """Create ``d`` and its missing parents with mode 0700, whatever the umask.

    Directories that exist already are left as they are (:func:`untrusted_reason` judges them).

    Raises:
        OSError: if a directory cannot be created.
    """
    d = Path(d)
    missing = []
    p = d
    while not p.exists() and not p.is_symlink():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for p in reversed(missing):
        try:
            os.mkdir(p, DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(p, DIR_MODE)  # the umask may have cleared bits of 0700 (umask only clears)


def untrusted_reason(d: Path, uid: Optional[int] = None) -> Optional[str]:
    """Why the directory ``d`` must not hold code symcomp runs, or None if it may.

    Args:
        d: an existing directory.
        uid: the user that must own it (default: ``os.getuid()``).

    Returns:
        None when ``d`` is a directory owned by ``uid`` that neither its group nor others can
        write (and, if ``d`` is a symbolic link, the link is the user's or root's); else a
        sentence naming the directory and what is wrong.
    """
    uid = os.getuid() if uid is None else uid
    try:
        link = os.lstat(d)
        st = os.stat(d)
    except OSError as exc:
        return f"{d} cannot be examined ({exc.strerror or exc})"
    if stat.S_ISLNK(link.st_mode) and link.st_uid not in (uid, 0):
        return f"{d} is a symbolic link owned by uid {link.st_uid}, not by this user (uid {uid})"
    if not stat.S_ISDIR(st.st_mode):
        return f"{d} is not a directory"
    if st.st_uid != uid:
        return f"{d} is owned by uid {st.st_uid}, not by this user (uid {uid})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (f"{d} is writable by its group or by others (mode {stat.S_IMODE(st.st_mode):04o}; "
                f"`chmod 700 {d}` makes it private)")
    return None


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file in the same directory, mode 0600,
    then ``os.replace``), so that a reader sees the old file or the new one, never a part.

    Raises:
        OSError: if it cannot be written (the temporary file is removed).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:16]}.", suffix=".tmp")  # 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
