"""A file opened read-only on first use, shared by the threads that read its chunks."""

from __future__ import annotations

import threading


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
