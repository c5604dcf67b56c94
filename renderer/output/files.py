"""Writing files so that a crash, a kill or a reader at the wrong moment never sees half of one."""

from __future__ import annotations

import os
import threading
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike, data: bytes, sync: bool = True) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then rename it over ``path``.

    ``sync=False`` skips the fsync (a few ms each on this machine's disk) for files that can be
    made again, such as previews: a reader still never sees half a file.

    The temporary name starts with a dot and holds the process and thread, so two writers never
    share one, and a reader listing the folder can skip them.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}.{threading.get_ident()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_copy(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    atomic_write_bytes(dst, Path(src).read_bytes())
