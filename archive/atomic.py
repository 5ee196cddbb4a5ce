"""Files written whole or not at all: the one way the project replaces a file
a reader or a restart may read (a release's JSON, the followed cases'
calendar, an extraction result kept in the cache)."""
from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Optional, Union

# the permissions a new file gets (open()'s 0o666 under the umask), read once at import
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def write_atomically(path: str, data: Union[bytes, str], *, replace: bool = True,
                     mode: Optional[int] = None) -> None:
    """Write ``data`` (text is UTF-8) at ``path`` whole or not at all.

    It goes to a temporary file beside ``path`` (``.tmp-<random>-<name>``),
    is flushed to disk, then renamed over ``path`` (``replace``), or linked
    to it (``replace=False``: a file that is never overwritten; it raises
    FileExistsError when the name is taken). A reader sees the old file or
    the new one, never half of one; a crash leaves at most the temporary
    file. ``mode``: the file's permissions (default: a new file's, under the
    umask)."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=f"-{os.path.basename(path)}", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), (0o666 & ~_UMASK) if mode is None else mode)
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
