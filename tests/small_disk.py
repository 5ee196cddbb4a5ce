"""A small disk of its own for tests that must meet a full one: a tmpfs
mounted in a private mount namespace (``unshare -rm``, no root needed where
user namespaces are allowed), at a folder only the processes started in it
(``command``) see. The test reads, fills and frees it through the holder
process's view (``/proc/<pid>/root``, ``path``).

    with SmallDisk(tmp_path / "disk", size_mb=20) as disk:
        disk.fill(leave=700 * 1024)              # 700 KB free
        subprocess.run(disk.command([...]))      # a crawl whose archive is on it
        disk.path("dockets.db")                   # the archive, seen from here
        disk.free()                               # the filler removed

Tests using it skip, saying why, where the machine does not allow it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


class SmallDisk:
    FILLER = ".filler"

    def __init__(self, mount_point: Path, size_mb: int = 20):
        self.mount_point = Path(mount_point).resolve()
        self.size_mb = size_mb
        self.holder: subprocess.Popen | None = None

    def __enter__(self) -> "SmallDisk":
        for tool in ("unshare", "nsenter"):
            if not shutil.which(tool):
                pytest.skip(f"{tool} (util-linux) is not installed: no small disk for this test")
        self.mount_point.mkdir(parents=True, exist_ok=True)
        script = (f"mount -t tmpfs -o size={self.size_mb}m tmpfs '{self.mount_point}' "
                  "&& echo ready && exec sleep 3600")
        self.holder = subprocess.Popen(["unshare", "-rm", "sh", "-c", script],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.holder.stdout.readline().strip()
        if line != "ready":
            error = self.holder.stderr.read().strip()
            self.holder.wait()
            pytest.skip(f"this machine does not allow a private tmpfs (unshare -rm, then mount): "
                        f"{error or 'no answer'}")
        return self

    def __exit__(self, *exc) -> None:
        if self.holder is not None:
            self.holder.kill()
            self.holder.wait()
            self.holder = None

    def command(self, cmd: list[str], cwd=None) -> list[str]:
        """``cmd`` run where the small disk is mounted, in ``cwd`` (default: this one's)."""
        return ["nsenter", "-t", str(self.holder.pid), "-U", "-m",
                f"--wd={cwd or os.getcwd()}", "--", *cmd]

    def path(self, *parts) -> Path:
        """A path on the small disk, as this process can open it."""
        return Path(f"/proc/{self.holder.pid}/root", str(self.mount_point).lstrip("/"), *parts)

    def copy_of(self, name: str, to: Path) -> Path:
        """A copy of the SQLite file ``name`` (and its WAL) on the small disk, in folder
        ``to``: SQLite opens a file by its real path, and /proc/<pid>/root/... is not one."""
        to = Path(to)
        to.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal"):
            source = self.path(name + suffix)
            (to / (Path(name).name + "-shm")).unlink(missing_ok=True)
            if source.exists():
                shutil.copyfile(source, to / (Path(name).name + suffix))
            else:
                (to / (Path(name).name + suffix)).unlink(missing_ok=True)
        return to / Path(name).name

    def available(self) -> int:
        st = os.statvfs(self.path())
        return st.f_bavail * st.f_frsize

    def fill(self, leave: int) -> None:
        """Take the disk's free space but ``leave`` bytes."""
        filler = self.path(self.FILLER)
        with open(filler, "ab") as fh:
            while self.available() > leave:
                try:
                    fh.write(b"\0" * min(1 << 20, max(4096, self.available() - leave)))
                    fh.flush()
                except OSError:  # full
                    break

    def free(self) -> None:
        """Give the filler's space back."""
        try:
            os.remove(self.path(self.FILLER))
        except FileNotFoundError:
            pass
