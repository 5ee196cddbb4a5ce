"""python -m archive: commands that read an archive never make an empty one by mistake."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import PROJECT


def test_summary_of_a_missing_archive_is_an_error(tmp_path):
    missing = tmp_path / "missing.db"
    proc = subprocess.run([sys.executable, "-m", "archive", "summary", "--db", str(missing)],
                          cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr
    assert not missing.exists()
