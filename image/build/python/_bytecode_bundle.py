"""Serve modules' bytecode from one pre-built file (installed by synapse-image).

The image's builder collected the bytecode of the modules its program imports
at start into one bundle file next to this module. Importing thousands of
modules otherwise opens and reads thousands of .pyc files and looks each one
up several times (stat, listdir), which is slow on overlay file systems
(fuse-overlayfs above all: every look-up is a round trip to its daemon). A
.pth file installs the hook at interpreter start:

- A finder on sys.meta_path (unless its own variable turns it off) answers for the bundled modules from the
  bundle's index, without looking the files up, when the normal search
  would find the same file: the directory holding it is unchanged since
  the build (its modification time, checked once per process: adding,
  removing or replacing a file there changes it), no earlier sys.path entry
  has the name (a wheel in /usr/local, checked by listing those entries
  once), and the parent package's __path__ is the bundled one.
- Otherwise a path hook serves the bytecode of modules found at the very
  path the bundle was built from, with the same size and modification time;
  anything else (a wheel, a package installed or upgraded later, an edited
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
from importlib._bootstrap_external import MAGIC_NUMBER, spec_from_file_location

MAGIC = b"PYBNDL02"
BUNDLE = os.path.join(os.path.dirname(__file__), "_bytecode_bundle.dat")

_fd = -1
# source path -> (offset, length, source size, source mtime)
_files = {}


def _read(path):
    """The code object bundled for path, or None."""
    entry = _files.get(path)
    if entry is None:
        return None
    offset, length, _, _ = entry
    data = os.pread(_fd, length, offset)
    if len(data) != length:
        return None
    code = marshal.loads(data)
    _fix_co_filename(code, path)
    return code


class BundleLoader(SourceFileLoader):
    """A SourceFileLoader whose get_code reads the bundle when it can.

    via says how the module was found: "index" (the meta path finder, which
    checked the module's directory) or "path" (the path hook, which checks
    the file itself).
    """

    from_bundle = False
    via = "path"

    def get_code(self, fullname):
        try:
            code = None
            if self.via == "index":
                code = _read(self.path)
            elif self.path in _files:
                _, _, size, mtime = _files[self.path]
                st = os.stat(self.path)
                if st.st_size == size and int(st.st_mtime) == mtime:
                    code = _read(self.path)
            if code is not None:
                self.from_bundle = True
                return code
        except Exception:
            pass
        return super().get_code(fullname)


def _source_loader(fullname, path):
    if path in _files:
        return BundleLoader(fullname, path)
    return SourceFileLoader(fullname, path)


def _fix_co_filename(code, path):
    import _imp

    _imp._fix_co_filename(code, path)


class BundleFinder:
    """Finds bundled modules from the bundle's index, without a file look-up.

    It answers only when the normal search would find the very file it
    names (see the module's doc); for anything else it returns None and the
    path finders search as usual.
    """

    def __init__(self, modules, dirs):
        # name -> (source path, is a package, sys.path entry of a top-level module)
        self._modules = modules
        # directory -> its modification time at build time
        self._dirs = dirs
        self._dir_ok = {}
        self._listings = {}

    def invalidate_caches(self):
        self._dir_ok.clear()
        self._listings.clear()

    def _unchanged(self, d):
        ok = self._dir_ok.get(d)
        if ok is None:
            try:
                ok = int(os.stat(d).st_mtime) == self._dirs[d]
            except (OSError, KeyError):
                ok = False
            self._dir_ok[d] = ok
        return ok

    def _names(self, entry):
        """The module names an earlier sys.path entry may provide, or None
        when it cannot tell (an entry that is not a plain directory)."""
        names = self._listings.get(entry, False)
        if names is False:
            if not isinstance(entry, str) or not os.path.isabs(entry):
                names = None
            else:
                try:
                    names = {n.partition(".")[0] for n in os.listdir(entry)}
                except (FileNotFoundError, NotADirectoryError) as err:
                    # Missing: provides nothing; a file (a zip): unknown.
                    names = set() if isinstance(err, FileNotFoundError) else None
                except OSError:
                    names = None
            self._listings[entry] = names
        return names

    def find_spec(self, fullname, path=None, target=None):
        m = self._modules.get(fullname)
        if m is None:
            return None
        src, is_pkg, entry = m
        try:
            here = os.path.dirname(src)
            parent = os.path.dirname(here) if is_pkg else here
            if path is None:
                # Top level: no earlier sys.path entry may have the name.
                name = fullname
                for e in sys.path:
                    if e == entry:
                        break
                    names = self._names(e)
                    if names is None or name in names:
                        return None
                else:
                    return None
            elif type(path) is not list or path != [parent]:
                return None
            if not self._unchanged(here):
                return None
            loader = BundleLoader(fullname, src)
            loader.via = "index"
            return spec_from_file_location(fullname, src, loader=loader, submodule_search_locations=[here] if is_pkg else None)
        except Exception:
            return None


def _disabled(var):
    return os.environ.get(var, "").strip().lower() in ("0", "off", "false", "no")


def install(var, finder_var=""):
    """Install the path hook and the finder unless var turns them off or the
    bundle is unusable (the finder only when finder_var names a variable
    that does not turn it off)."""
    global _fd, _files
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
        files, modules, dirs = index["files"], index["modules"], index["dirs"]
        if not isinstance(files, dict) or not isinstance(modules, dict) or not isinstance(dirs, dict):
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
        if finder_var and not _disabled(finder_var):
            # Before the path finder, after the built-in and frozen importers.
            at = len(sys.meta_path)
            for i, f in enumerate(sys.meta_path):
                if getattr(f, "__name__", "") == "PathFinder":
                    at = i
                    break
            sys.meta_path.insert(at, BundleFinder(modules, dirs))
    except Exception:
        os.close(fd)
        return
    _fd, _files = fd, files
