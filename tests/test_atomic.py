"""archive.atomic.write_atomically: the one way a file is replaced whole."""
from __future__ import annotations

import os
import stat

import pytest

from archive.atomic import write_atomically


def test_a_file_is_replaced_whole_or_linked_once_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "latest.json"
    write_atomically(str(path), "{}\n")
    write_atomically(str(path), b'{"db": "dockets-2026-01-02.db"}\n')
    assert path.read_text() == '{"db": "dockets-2026-01-02.db"}\n'
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask  # as open() makes a file
    kept = tmp_path / "dockets-2026-01-02.manifest.json"
    write_atomically(str(kept), "first", replace=False)
    with pytest.raises(FileExistsError):
        write_atomically(str(kept), "second", replace=False)
    assert kept.read_text() == "first"
    private = tmp_path / "cache.json"
    write_atomically(str(private), "text of a filing", mode=0o600)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cache.json", "dockets-2026-01-02.manifest.json", "latest.json"]


def test_a_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "calendar.ics"
    write_atomically(str(path), "BEGIN:VCALENDAR\r\n")
    with pytest.raises(TypeError):
        write_atomically(str(path), 12345)  # not bytes or text: nothing written
    assert path.read_bytes() == b"BEGIN:VCALENDAR\r\n"
    assert [p.name for p in tmp_path.iterdir()] == ["calendar.ics"]
