"""A local zarr store that reads regular files only.

A FIFO in place of a chunk or a ``zarr.json`` would block a read forever, a link to
``/dev/zero`` would never end one. Each key is checked as it is read, so opening a tree of a
million chunks does not walk them all first; the error names the file.
"""

from __future__ import annotations

from collections.abc import Iterable

from zarr.abc.store import ByteRequest
from zarr.core.buffer import Buffer, BufferPrototype
from zarr.storage import LocalStore

from .files import check_regular


class RegularFileStore(LocalStore):
    """`zarr.storage.LocalStore`, refusing any key that is a FIFO, device or socket."""

    def _check(self, key: str) -> None:
        try:
            check_regular(self.root / key, folder_ok=True)
        except FileNotFoundError:
            pass  # absent: the store says so (a missing chunk is fill value)

    async def get(self, key: str, prototype: BufferPrototype | None = None,
                  byte_range: ByteRequest | None = None) -> Buffer | None:
        """The value of `key`, if it is a regular file (see `LocalStore.get`)."""
        self._check(key)
        return await super().get(key, prototype, byte_range)

    async def get_partial_values(
        self, prototype: BufferPrototype,
        key_ranges: Iterable[tuple[str, ByteRequest | None]],
    ) -> list[Buffer | None]:
        """Parts of values, each key a regular file (see `LocalStore.get_partial_values`)."""
        key_ranges = list(key_ranges)
        for key, _ in key_ranges:
            self._check(key)
        return await super().get_partial_values(prototype, key_ranges)
