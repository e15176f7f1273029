"""Serve modules' bytecode from one pre-built file (installed by synapse-image).

The image's builder collected the bytecode of the modules its program imports
at start into one bundle file next to this module. Importing thousands of
modules otherwise opens and reads thousands of .pyc files, which is slow on
overlay file systems (fuse-overlayfs above all). A .pth file installs the
hook at interpreter start:

- Only modules found at the very path the bundle was built from, with the
  same size and modification time, come from the bundle; anything else (a
  wheel in /usr/local, a package installed or upgraded later, an edited
  file) is imported the normal way.
- Modules keep their real __file__, __spec__, package data and tracebacks:
  only the step that reads the .pyc is replaced.
- Any failure (no bundle, another Python version, a short read) falls back
  to the normal import.
- The environment variable named in the .pth file set to 0, off, false or no
  turns the hook off.

The bundle is read with pread, so only the modules used are read, and the
file is never mapped or written.
"""

import marshal
import os
import sys

from importlib.machinery import (
    BYTECODE_SUFFIXES,
    EXTENSION_SUFFIXES,
    SOURCE_SUFFIXES,
    ExtensionFileLoader,
    FileFinder,
    SourceFileLoader,
    SourcelessFileLoader,
)
# importlib.util would import more modules at every interpreter start.
from importlib._bootstrap_external import MAGIC_NUMBER

MAGIC = b"PYBNDL01"
BUNDLE = os.path.join(os.path.dirname(__file__), "_bytecode_bundle.dat")

_fd = -1
_index = {}


class BundleLoader(SourceFileLoader):
    """A SourceFileLoader whose get_code reads the bundle when it can."""

    from_bundle = False

    def get_code(self, fullname):
        entry = _index.get(self.path)
        if entry is not None:
            try:
                offset, length, size, mtime = entry
                st = os.stat(self.path)
                if st.st_size == size and int(st.st_mtime) == mtime:
                    data = os.pread(_fd, length, offset)
                    if len(data) == length:
                        code = marshal.loads(data)
                        _fix_co_filename(code, self.path)
                        self.from_bundle = True
                        return code
            except Exception:
                pass
        return super().get_code(fullname)


def _source_loader(fullname, path):
    if path in _index:
        return BundleLoader(fullname, path)
    return SourceFileLoader(fullname, path)


def _fix_co_filename(code, path):
    import _imp

    _imp._fix_co_filename(code, path)


def _disabled(var):
    return os.environ.get(var, "").strip().lower() in ("0", "off", "false", "no")


def install(var):
    """Install the path hook unless var turns it off or the bundle is unusable."""
    global _fd, _index
    if not var or _disabled(var) or _fd >= 0:
        return
    try:
        fd = os.open(BUNDLE, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return
    try:
        head = os.pread(fd, 24, 0)
        if len(head) != 24 or head[:8] != MAGIC or head[8:12] != MAGIC_NUMBER:
            raise ValueError("not a bundle for this Python")
        n = int.from_bytes(head[12:16], "little")
        raw = os.pread(fd, n, int.from_bytes(head[16:24], "little"))
        if len(raw) != n:
            raise ValueError("short index")
        index = marshal.loads(raw)
        if not isinstance(index, dict):
            raise ValueError("bad index")
        hook = FileFinder.path_hook(
            (ExtensionFileLoader, EXTENSION_SUFFIXES),
            (_source_loader, SOURCE_SUFFIXES),
            (SourcelessFileLoader, BYTECODE_SUFFIXES),
        )
        # Before the default FileFinder hook (the last one); the finders
        # already made for directories on sys.path are made again with it.
        sys.path_hooks.insert(max(len(sys.path_hooks) - 1, 0), hook)
        sys.path_importer_cache.clear()
    except Exception:
        os.close(fd)
        return
    _fd, _index = fd, index
