"""A file opened read-only on first use, shared by the threads that read its chunks."""

from __future__ import annotations

import threading
from typing import Any


class LazyHandle:
    """Opens `path` with `_open()` when first used; pickles as its path (for dask workers).

    Readers whose library is not thread-safe read inside `with handle.lock`.
    """

    def __init__(self, path: str):
        self.path = path
        self._opened = None
        self.lock = threading.RLock()

    def _open(self):
        raise NotImplementedError

    @property
    def opened(self):
        with self.lock:
            if self._opened is None:
                self._opened = self._open()
            return self._opened

    def close(self) -> None:
        with self.lock:
            if self._opened is not None:
                self._opened.close()
                self._opened = None

    def __getstate__(self):
        return {"path": self.path}

    def __setstate__(self, state):
        self.__init__(state["path"])

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class Held:
    """A file a reader holds open for the source's life, closed with it.

    It pickles as nothing to close: unpickled arrays open their files themselves.
    """

    def __init__(self, file: Any) -> None:
        self.file = file

    def close(self) -> None:
        """Close the file (once)."""
        if self.file is not None:
            self.file.close()
            self.file = None

    def __reduce__(self) -> tuple[type[Held], tuple[None]]:
        """Pickle as an empty holder."""
        return (Held, (None,))
