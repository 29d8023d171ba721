"""The journal's ids and per-worker write counters, in a small file every worker maps.

Ids come from one counter every process increments under a lock, in the order requests are answered
(a worker's batch may reach the journal after a later one's: the ids, not the commits, give the order).

A worker that batches its journal writes claims a slot (its pid) and keeps two counters there:
entries it *appended* (the request answered) and entries it *flushed* (committed to the journal).
A reader takes the appended counts when it starts and waits until every live worker's flushed count
reaches them: it then sees every request answered before it asked, whichever worker served it.

Pure: no web framework, no flavour.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
from typing import BinaryIO

from mockserver.side_files import alive

__all__ = ["SLOTS", "WorkerSlots"]

_HEADER = 8  # the id counter

SLOTS = 64
"""Workers that can batch at once (a worker that finds no free slot writes each entry at once)."""
_SLOT = struct.Struct("qqq")  # pid, appended, flushed
_APPENDED, _FLUSHED = 8, 16


class WorkerSlots:
    """The counters file (``<journal>-slots``), zeroed when made; each process maps it on first use.

    Args:
        path: the file (created, or emptied).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        with open(path, "wb") as file:
            file.write(bytes(_HEADER + _SLOT.size * SLOTS))
        self._map: mmap.mmap | None = None
        self._file: BinaryIO | None = None
        self._pid = -1

    def _mapped(self) -> mmap.mmap:
        if self._map is None or self._pid != os.getpid():
            # NOTE: opened again in each process: a flock taken on a descriptor inherited across
            # fork would be the parent's and every sibling's too, excluding nobody. A file object,
            # not a bare descriptor: it is closed when the journal (its app) is collected.
            self._file = open(self.path, "r+b", buffering=0)  # noqa: SIM115 - lives as long as the map
            self._map = mmap.mmap(self._file.fileno(), _HEADER + _SLOT.size * SLOTS)
            self._pid = os.getpid()
        return self._map

    def next_id(self) -> int:
        """The next journal id (1, 2, 3... across every process of the server)."""
        mapped = self._mapped()
        assert self._file is not None
        fcntl.flock(self._file, fcntl.LOCK_EX)
        try:
            ident: int = struct.unpack_from("q", mapped, 0)[0] + 1
            struct.pack_into("q", mapped, 0, ident)
        finally:
            fcntl.flock(self._file, fcntl.LOCK_UN)
        return ident

    def claim(self, pid: int) -> int | None:
        """A slot for ``pid`` (free, or left by a process that is gone), counters at zero; ``None``: all taken."""
        mapped = self._mapped()
        with open(self.path, "r+b") as file:
            fcntl.flock(file, fcntl.LOCK_EX)  # NOTE: two workers starting together must not take one slot
            try:
                for slot in range(SLOTS):
                    owner = struct.unpack_from("q", mapped, _HEADER + slot * _SLOT.size)[0]
                    if owner == 0 or owner == pid or not alive(owner):
                        _SLOT.pack_into(mapped, _HEADER + slot * _SLOT.size, pid, 0, 0)
                        return slot
            finally:
                fcntl.flock(file, fcntl.LOCK_UN)
        return None

    def appended(self, slot: int, count: int) -> None:
        struct.pack_into("q", self._mapped(), _HEADER + slot * _SLOT.size + _APPENDED, count)

    def flushed(self, slot: int, count: int) -> None:
        struct.pack_into("q", self._mapped(), _HEADER + slot * _SLOT.size + _FLUSHED, count)

    def behind(self, me: int) -> list[tuple[int, int, int]]:
        """``(slot, pid, appended)`` of every other live process that has not flushed all it appended."""
        mapped = self._mapped()
        late = []
        for slot in range(SLOTS):
            pid, appended, flushed = _SLOT.unpack_from(mapped, _HEADER + slot * _SLOT.size)
            if pid and pid != me and flushed < appended and alive(pid):
                late.append((slot, pid, appended))
        return late

    def caught_up(self, slot: int, pid: int, appended: int) -> bool:
        """Whether the process in ``slot`` flushed ``appended`` entries (or is gone, or gave the slot up)."""
        owner, _, flushed = _SLOT.unpack_from(self._mapped(), _HEADER + slot * _SLOT.size)
        return owner != pid or flushed >= appended or not alive(pid)
