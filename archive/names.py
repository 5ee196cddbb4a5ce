"""Names made from what sources say (a docket number, a court, a document's
number): safe as one path segment of a file or a lock, whatever the source
sent, and distinct for distinct texts."""
from __future__ import annotations

import hashlib
import re

NAME_MAX = 100  # characters of one name from a source in a file name
SEGMENT_MAX = 200  # characters of one path segment (filesystems allow 255 bytes)
_PATH_LIKE = re.compile(r"[/\\\x00-\x1f\x7f]|\.\.")


def digest(text: str, n: int) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:n]


def safe_name(text, limit: int = NAME_MAX) -> str:
    """A name from a source (court id, case id, docket or document number...)
    made safe as part of one path segment: only letters, digits, ``.``, ``_``
    and ``-``, never empty, ``.`` or ``..``, at most ``limit`` characters.

    An ordinary name keeps the name it always had (``3:20-cv-05910`` ->
    ``3_20-cv-05910``). One that looks like a path (a separator, ``..``, NUL
    or another control character, a leading ``.`` or ``-``) also gets a hash of
    what was sent, and a long one is cut and gets one, so that two different
    names never end up as the same file.
    """
    text = "" if text is None else str(text)
    if not text:
        return "unknown"
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")
    if _PATH_LIKE.search(text) or not safe.strip(".") or safe[0] in ".-":
        safe = re.sub(r"\.{2,}", ".", safe).strip("._-") or "x"
        safe = f"{safe[:limit - 13]}-{digest(text, 12)}"
    if len(safe) > limit:
        safe = f"{safe[:limit - 17]}-{digest(text, 16)}"
    return safe


def capped(segment: str, suffix: str = "") -> str:
    """``segment`` (ending in ``suffix``) cut to SEGMENT_MAX characters, with a hash."""
    if len(segment) <= SEGMENT_MAX:
        return segment
    return f"{segment[:SEGMENT_MAX - 17 - len(suffix)]}-{digest(segment, 16)}{suffix}"
