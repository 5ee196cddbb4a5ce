"""EXTRACT_CACHE_DIR: extraction results kept by the file's SHA-256, for any
archive on this machine (the same bytes give the same text)."""
from __future__ import annotations

import hashlib
import json
import os
import re

from archive.atomic import write_atomically

__all__ = ["ResultCache"]


class ResultCache:
    """EXTRACT_CACHE_DIR: extraction results kept by the file's SHA-256, the
    extractor version, OCR on or off and the limits, for any archive on this
    machine (the same bytes give the same text). Only results that are the
    file's text (``ok``, ``ocr``, ``empty``) are kept; an error is tried again."""

    KEPT = frozenset({"ok", "ocr", "empty"})

    def __init__(self, folder: str, version, ocr: bool, limits=None):
        self.folder = os.path.abspath(folder)
        # tighter limits may make another result
        bounds = hashlib.sha256(repr(limits).encode("utf-8", "surrogatepass")).hexdigest()[:10]
        self.suffix = f"{version or 'unknown'}.{'ocr' if ocr else 'text'}.{bounds}.json"

    def _path(self, sha256: str) -> str:
        return os.path.join(self.folder, sha256[:2], f"{sha256}.{self.suffix}")

    def get(self, sha256):
        if not sha256 or not re.fullmatch(r"[0-9a-f]{64}", sha256):
            return None
        try:
            with open(self._path(sha256), encoding="utf-8") as fh:
                return json.load(fh)
        except (OSError, ValueError):
            return None

    def put(self, sha256, result: dict) -> None:
        if not sha256 or not re.fullmatch(r"[0-9a-f]{64}", sha256) \
                or result.get("status") not in self.KEPT:
            return
        path = self._path(sha256)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # the text of court filings, withheld ones too: this user's only
        write_atomically(path, json.dumps(result, default=str), mode=0o600)
