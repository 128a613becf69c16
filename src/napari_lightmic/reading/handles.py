"""A file opened read-only on first use, shared by the threads that read its chunks."""

from __future__ import annotations

import threading
from typing import Generic, Protocol, TypeVar


class Closable(Protocol):
    """An open file of some library: all a handle needs of it is `close`."""

    def close(self) -> None:
        """Close the file."""
        ...


F = TypeVar("F", bound=Closable)


class LazyHandle(Generic[F]):
    """Opens `path` with `_open()` when first used; pickles as its path (for dask workers).

    Readers whose library is not thread-safe read inside `with handle.lock`.
    """

    def __init__(self, path: str) -> None:
        self._set(path)

    def _set(self, path: str) -> None:
        self.path = path
        self._opened: F | None = None
        self.lock = threading.RLock()

    def _open(self) -> F:
        raise NotImplementedError

    @property
    def opened(self) -> F:
        """The open file, opened now if it is not yet."""
        with self.lock:
            if self._opened is None:
                self._opened = self._open()
            return self._opened

    def close(self) -> None:
        """Close the file if it is open; the next use opens it again."""
        with self.lock:
            if self._opened is not None:
                self._opened.close()
                self._opened = None

    def __getstate__(self) -> dict[str, str]:
        """Pickle as the path."""
        return {"path": self.path}

    def __setstate__(self, state: dict[str, str]) -> None:
        """Unpickle unopened, with a lock of its own."""
        self._set(state["path"])

    def __del__(self) -> None:
        """Close the file when the handle is collected."""
        try:
            self.close()
        except Exception:  # noqa: BLE001 - a finalizer must not raise, whatever the library
            pass


class Held:
    """A file a reader holds open for the source's life, closed with it.

    It pickles as nothing to close: unpickled arrays open their files themselves.
    """

    def __init__(self, file: Closable | None) -> None:
        self.file = file

    def close(self) -> None:
        """Close the file (once)."""
        if self.file is not None:
            self.file.close()
            self.file = None

    def __reduce__(self) -> tuple[type[Held], tuple[None]]:
        """Pickle as an empty holder."""
        return (Held, (None,))

