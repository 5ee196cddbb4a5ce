"""What may be stored as a document's file, and stores that never show a half-written one.

``check_pdf`` says why a downloaded body is not the document (cut short,
not what the source describes, not a PDF, no end), or None when it may be
stored. ``AtomicFSFilesStore`` is Scrapy's folder store writing to a
temporary name first, and S3 shows an object only once its one PUT is
complete (``ArchiveS3FilesStore``): a crash or kill while writing leaves the
final name absent (or holding the previous complete file), never a partial
one. Their ``stat_file`` also reports the stored file's ``size`` (and, for a
folder, ``sha1``) so that a stored file can be compared with what the source
says it is; their ``remove_litter`` removes, when a crawl starts, the
temporary copies that dead crawls left.
"""
from __future__ import annotations

import fcntl
import glob
import hashlib
import os
import re
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Optional

from scrapy.pipelines.files import FSFilesStore, S3FilesStore
from scrapy.utils.asyncio import run_in_thread
from scrapy.utils.defer import deferred_from_coro

# The PDF header may follow a little junk (PDF 1.7 Annex H: within the first
# 1024 bytes; court files with a stray CRLF first exist and read fine).
HEAD_WINDOW = 1024
# the trailer's startxref stands shortly before its %%EOF
TAIL_WINDOW = 1024
_STARTXREF = re.compile(rb"startxref\s+(\d+)")
_XREF_AT = re.compile(rb"\s*(xref|\d+\s+\d+\s+obj)")
# What begins an incremental update: after the last %%EOF it means the file
# was cut inside one. Anything else there is padding that readers skip (ACMS
# pads its downloads with kilobytes of NULs; other files end in whitespace or
# a stray byte or two).
_UPDATE = re.compile(rb"\d+\s+\d+\s+obj\b|xref\s|trailer\s*<<")
# a linearized file says its own length (/L) in its first object
_LINEARIZED = re.compile(rb"<<[^>]{0,512}?/Linearized\b[^>]{0,512}?>>", re.S)
_LENGTH = re.compile(rb"/L\s+(\d+)")


def check_pdf(body: bytes, *, content_length: Optional[int] = None,
              file_size: Optional[int] = None, sha1: Optional[str] = None) -> Optional[str]:
    """Why ``body`` may not be stored as the document's PDF, or None.

    ``content_length``: what the server announced; ``file_size``/``sha1``: what
    the source's metadata says the file is. These prove a file whole where the
    source gives them. The structure is checked too, as leniently as PDF
    readers read it: a file is refused only when it is cut short (no %%EOF, a
    linearized file shorter than it says, an update after the last %%EOF that
    stops half-way), corrupted (its last startxref points at no
    cross-reference section) or not a PDF. Bytes after %%EOF that begin no
    update (NUL padding, whitespace, junk) are accepted, as readers accept
    them. Cheap: no parsing beyond the header, the linearization dictionary,
    the trailer's ``startxref`` and what it points at.
    """
    size = len(body)
    if not size:
        return "the server sent an empty file (0 bytes)"
    if content_length is not None and size != content_length:
        return (f"incomplete download: {size} of the {content_length} bytes the server "
                "announced (Content-Length)")
    head = body[:HEAD_WINDOW]
    start = head.find(b"%PDF-")
    if start < 0:
        if re.match(rb"\s*<", head) and re.search(rb"(?i)<(!doctype|html|head|body|title)", head):
            return "the server sent a web page instead of the PDF (login page or error)"
        return f"not a PDF: starts with {body[:16]!r}"
    if file_size is not None and file_size > 0 and size != file_size:
        return f"wrong or incomplete file: {size} bytes, the source says {file_size}"
    if sha1:
        got = hashlib.sha1(body).hexdigest()
        if got != sha1.strip().lower():
            return f"corrupted download: SHA-1 {got} is not the source's {sha1.strip().lower()}"
    end = body.rfind(b"%%EOF")
    if end < 0:
        return f"truncated PDF: no %%EOF in its {size} bytes"
    linearized = _LINEARIZED.search(body, start, start + HEAD_WINDOW)
    length = linearized and _LENGTH.search(linearized.group(0))
    if length and size < int(length.group(1)) - start:
        return (f"truncated PDF: {size} bytes of the {int(length.group(1))} its "
                "linearization dictionary gives")
    found = list(_STARTXREF.finditer(body, max(0, end - TAIL_WINDOW - 64)))
    if not found:
        return "damaged PDF: no startxref before %%EOF"
    last = found[-1]
    # an update after the last %%EOF is read when it is whole up to its
    # startxref (real files lose their last few bytes: "...startxref 184509 %%E");
    # one that begins after the last startxref stops half-way
    if _UPDATE.search(body, max(end + 5, last.end())):
        return (f"truncated PDF: the update after its last %%EOF (byte {end}) is cut short "
                f"in its {size} bytes")
    offset = int(last.group(1))
    # offsets count from the header, so a file with junk before %PDF is shifted
    if not any(0 < at < size and _XREF_AT.match(body, at) for at in (offset, offset + start)):
        return (f"damaged PDF: startxref {offset} does not point at a cross-reference "
                f"table in its {size} bytes")
    return None


class AtomicFSFilesStore(FSFilesStore):
    """A folder store that writes ``.<name>.<random>.part`` beside the file,
    fsyncs it and renames it into place (``os.replace``, atomic on POSIX).

    A ``.part`` is held under an exclusive ``flock`` by the process writing
    it, from its creation to its rename; the kernel lets go of the lock when
    that process dies, however it dies. So a ``.part`` nobody holds is
    litter of a dead crawl, whatever its age: ``remove_litter`` (at the start
    of every crawl) and each write of the same file remove it, and never
    touch one that a live crawl is writing."""

    def persist_file(self, path, buf, info, meta=None, headers=None):
        final = self._get_filesystem_path(path)
        self._mkdir(final.parent, info)
        data = buf.getvalue()
        return deferred_from_coro(run_in_thread(write_atomically, final, data))

    def stat_file(self, path, info):
        absolute_path = self._get_filesystem_path(path)
        try:
            st = absolute_path.stat()
        except OSError:
            return {}
        md5, sha1 = hashlib.md5(), hashlib.sha1()  # noqa: S324 - identities, not security
        with absolute_path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                md5.update(block)
                sha1.update(block)
        return {"last_modified": st.st_mtime, "checksum": md5.hexdigest(),
                "size": st.st_size, "sha1": sha1.hexdigest()}

    def remove_litter(self) -> int:
        """Remove the ``.part`` files dead crawls left anywhere in the store; how many."""
        return remove_parts(str(self.basedir))


# what write_atomically names its temporary copies
_PART = re.compile(r"^\..+\.part$")


def remove_parts(root: str) -> int:
    """Remove the ``.part`` files under ``root`` that no live process is writing; how many."""
    removed = 0
    for folder, _, names in os.walk(root):
        for name in names:
            if _PART.match(name) and _remove_if_unheld(os.path.join(folder, name)):
                removed += 1
    return removed


def write_atomically(final, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` as the file ``final``, whole or not at all: through a
    ``.<name>.<random>.part`` beside it, held (flock) while it is written,
    fsynced and renamed into place, the folder fsynced; a full disk or a kill
    leaves the previous file (or none), and a ``.part`` that the next write,
    or ``remove_litter``, removes. The one way docket_spider writes a file:
    the files store, the PACER spool, a job folder's state, the update's result."""
    final = Path(final)
    _remove_dead_parts(final)
    fd, tmp = _held_part(final)
    try:
        with os.fdopen(fd, "wb") as fh:  # closing it lets go of the lock, after the rename
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            os.replace(tmp, final)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    with suppress(OSError):  # the rename itself survives a power cut
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _held_part(final) -> tuple[int, str]:
    """A new ``.part`` beside ``final``, created and locked by this process: (fd, path).
    Between its creation and the lock another crawl's sweep could take it for
    litter and remove it; then it is made again."""
    while True:
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.stat(tmp).st_ino == os.fstat(fd).st_ino:
                return fd, tmp
        except FileNotFoundError:
            pass
        os.close(fd)


def _remove_if_unheld(path: str) -> bool:
    """Remove a ``.part`` that no live process holds (see AtomicFSFilesStore)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a live crawl is writing it
            return False
        try:
            if os.stat(path).st_ino != os.fstat(fd).st_ino:
                return False  # renamed or replaced since it was opened
            os.unlink(path)
            return True
        except OSError:
            return False
    finally:
        os.close(fd)


def _remove_dead_parts(final) -> None:
    """Temporary copies of this file that a dead crawl left behind."""
    for part in final.parent.glob(f".{glob.escape(final.name)}.*.part"):
        _remove_if_unheld(str(part))


class ArchiveS3FilesStore(S3FilesStore):
    """Scrapy's S3 store (one PUT per file: S3 shows an object only once its
    upload is complete, so the final key never holds half a file), whose
    ``stat_file`` also reports the stored object's ``size``.

    Earlier versions uploaded to ``<prefix>.partial/`` first and copied from
    there; ``remove_litter`` deletes what killed crawls left under it."""

    LEGACY_TEMP_DIR = ".partial/"

    def stat_file(self, path, info):
        def found(boto_key):
            return {**self._onsuccess(boto_key), "size": boto_key.get("ContentLength")}

        return self._get_boto_key(path).addCallback(found)

    def remove_litter(self) -> int:
        removed = 0
        pages = self.s3_client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}{self.LEGACY_TEMP_DIR}")
        for page in pages:
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if keys:
                self.s3_client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys,
                                                                          "Quiet": True})
                removed += len(keys)
        return removed
