"""A full disk: telling it from other errors, and a reserve of room kept for
what must still be written once it is full (docket_spider/pacer/purchases.py)."""
from __future__ import annotations

import errno
import os
from typing import Optional

MB = 1024 * 1024

_FULL_WORDS = ("database or disk is full", "no space left on device", "disk quota exceeded")


def is_disk_full(exc) -> bool:
    """Whether ``exc`` (or what caused it) says the disk is full."""
    for _ in range(6):
        if exc is None:
            return False
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(words in str(exc).lower() for words in _FULL_WORDS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def disk_full_reason(exc) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    where = getattr(exc, "filename", None)
    return f"{text}: {where}" if where else text


class DiskReserve:
    """A file that holds room on the spool's disk for what must still be
    written once the disk is full: the ledger, the crawl's row, the answers
    PACER already sent."""

    NAME = ".reserve"

    def __init__(self, folder: str, size: int):
        self.path = os.path.join(folder, self.NAME)
        self.size = max(0, int(size))

    def make(self) -> Optional[OSError]:
        """Make (or keep) the reserve; the error when there is no room for it."""
        if not self.size:
            return None
        try:
            if os.path.getsize(self.path) >= self.size:
                return None
        except OSError:
            pass
        try:
            os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
        except OSError as exc:
            return exc
        try:
            try:
                os.posix_fallocate(fd, 0, self.size)
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                block = b"\0" * MB  # a filesystem without fallocate: written out
                for start in range(0, self.size, MB):
                    os.pwrite(fd, block[:self.size - start], start)
            os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            self.release()
            return exc
        os.close(fd)
        return None

    def release(self) -> int:
        try:
            size = os.path.getsize(self.path)
            os.remove(self.path)
            return size
        except OSError:
            return 0
