"""Build-time tuning of a root file system's Python (run by synapse-image's
builder with the image's own python3 inside the new root or, for an image of
another architecture, with the same Python version of the build host's
architecture, the image's root then being below the job's "root").

Reads a JSON job from the file named by argv[1] and prints one progress line
per step. Steps, in order:

1. edits: exact text replacements in installed files (each must match once;
   one that does not is reported and leaves its file as installed);
2. invalidation mode: the .py files that Debian byte-compiles (the standard
   library's, the packages' public modules) are compiled in the given PEP 552
   mode. The builder had Debian's py3compile skip them during installation
   (under qemu it is most of the time); Debian's own would be checked-hash
   under SOURCE_DATE_EPOCH, so each import also reads and hashes the .py;
3. bundle: the bytecode of every module that importing the listed modules
   loads goes into one file, served at run time by _bytecode_bundle (the
   list of modules comes from the image's own python3, "python" in the job).
4. checks: code run with the image's own python3; each that passes (status
   0, nothing on standard error) writes a record of the sys.path it ran with
   and the distributions (metadata directories) in each of those
   directories, for the image to tell at run time that the distributions the
   check found are still those it passed with.

Everything here is deterministic: the same installed files give the same
bytes.
"""

import importlib.util
import json
import marshal
import os
import py_compile
import subprocess
import sys

TAG = sys.implementation.cache_tag
# The image's root as this process sees it ("" when it runs in it).
ROOT = ""
# The image's own python3 (the bundle's module list needs its imports).
PYTHON = [sys.executable]
MODES = {
    "timestamp": py_compile.PycInvalidationMode.TIMESTAMP,
    "checked-hash": py_compile.PycInvalidationMode.CHECKED_HASH,
    "unchecked-hash": py_compile.PycInvalidationMode.UNCHECKED_HASH,
}


def log(msg):
    print(msg, flush=True)


def edit_text(text, edits):
    """Apply the edits of one file: each replaces the one line that reads
    edit["line"] (indentation aside) with edit["replace"], indented like it.
    Returns the new text, or an explanation why nothing was changed."""
    lines = text.splitlines(keepends=True)
    for e in edits:
        want = e["line"].strip()
        hits = [i for i, l in enumerate(lines) if l.strip() == want]
        if len(hits) != 1:
            return None, f"the line {want!r} is found {len(hits)} times, expected once"
        i = hits[0]
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
        new = [(indent + l if l.strip() else l) for l in e["replace"].splitlines(keepends=True)]
        if new and not new[-1].endswith("\n"):
            new[-1] += "\n"
        lines[i : i + 1] = new
    return "".join(lines), None


def apply_edits(edits):
    """Edits of one file apply all together or not at all."""
    files = {}
    for e in edits:
        files.setdefault(e["file"], []).append(e)
    for path in sorted(files):
        try:
            with open(host(path), encoding="utf-8") as f:
                text = f.read()
        except OSError as err:
            log(f"edit {path}: not applied ({err.strerror}); left as installed")
            continue
        new, why = edit_text(text, files[path])
        if new is None:
            log(f"edit {path}: not applied ({why}); left as installed")
            continue
        st = os.stat(host(path))
        tmp = host(path) + ".synapse-image-edit"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(new)
        os.chmod(tmp, st.st_mode & 0o7777)
        os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, host(path))
        # Keep the installed time (the layer keeps times older than the build).
        os.utime(host(path), ns=(st.st_atime_ns, st.st_mtime_ns))
        log(f"edit {path}: applied ({len(files[path])} change(s))")


def host(path):
    """Where an image path is for this process: below ROOT when the tool
    runs in another root than the image's (a native Python for another
    architecture's image)."""
    return ROOT + path


# Where Debian byte-compiles: its python3.X postinsts compile the standard
# library, py3compile the packages' public modules and dh-python's own
# /usr/share/python3 (private directories are named on py3compile's command
# line: no package of the image has one).
COMPILED_DIRS = ("/usr/lib/python%d.%d/" % sys.version_info[:2], "/usr/lib/python3/dist-packages/", "/usr/share/python3/")


def package_sources():
    """Every .py file that dpkg's file lists place in COMPILED_DIRS and
    that is there: the files Debian's own byte-compilation covers."""
    info = host("/var/lib/dpkg/info")
    out = set()
    for name in sorted(os.listdir(info)):
        if not name.endswith(".list"):
            continue
        with open(os.path.join(info, name), encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                p = line.rstrip("\n")
                if p.endswith(".py") and p.startswith(COMPILED_DIRS) and os.path.isfile(host(p)):
                    out.add(p)
    return sorted(out)


def compile_files(pairs, mode):
    failed = 0
    for src, pyc in pairs:
        try:
            py_compile.compile(host(src), cfile=host(pyc), dfile=src, doraise=True, invalidation_mode=MODES[mode])
        except Exception as err:
            failed += 1
            print(f"compile {src}: {err}", file=sys.stderr)
    return failed


def compile_all(mode):
    """Byte-compile the packages' sources (package_sources) in mode, one
    worker process per CPU."""
    pairs = [(src, importlib.util.cache_from_source(src)) for src in package_sources()]
    n = max(1, min(os.cpu_count() or 1, 8))
    procs = []
    for i in range(n):
        job = json.dumps({"mode": mode, "pairs": pairs[i::n], "root": ROOT})
        p = subprocess.Popen([sys.executable, "-I", "-B", __file__, "--compile"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        p.stdin.write(job)
        p.stdin.close()
        procs.append(p)
    failed = 0
    for p in procs:
        out = p.stdout.read()
        if p.wait() != 0:
            raise SystemExit(f"compile worker failed with status {p.returncode}")
        failed += int(out.strip() or 0)
    where = f" (natively, by Python {sys.version.split()[0]} of the build host's architecture)" if ROOT else ""
    log(f"bytecode: {len(pairs) - failed} .py files of the packages compiled as {mode}{where}" + (f" ({failed} left without: they do not compile)" if failed else ""))


def check_target_python(python):
    """The bytecode this process writes is for the image's Python only if
    both have the same magic number; exit 3 (the builder then runs the
    whole job with the image's own Python) when they differ."""
    out = subprocess.run([*python, "-I", "-B", "-c", "import importlib.util, sys; print(importlib.util.MAGIC_NUMBER.hex(), sys.version.split()[0])"],
                         stdout=subprocess.PIPE, check=True, text=True, cwd="/").stdout.split()
    if out[0] != importlib.util.MAGIC_NUMBER.hex():
        print(f"the image's Python {out[1]} is not this Python {sys.version.split()[0]} (bytecode magic {out[0]} != {importlib.util.MAGIC_NUMBER.hex()})", file=sys.stderr)
        raise SystemExit(3)


HEADER = 24

LIST_MODULES = r"""
import importlib, json, sys
from importlib.machinery import SourceFileLoader
def origins():
    return sorted({getattr(getattr(m, "__spec__", None), "origin", None) or "" for m in list(sys.modules.values())})
startup = origins()
for m in sys.argv[1:]:
    importlib.import_module(m)
specs = []
for name, m in sorted(sys.modules.items()):
    spec = getattr(m, "__spec__", None)
    if spec is None or spec.name != name or type(spec.loader) is not SourceFileLoader or not spec.origin:
        continue
    specs.append([name, spec.origin, spec.submodule_search_locations is not None and list(spec.submodule_search_locations)])
print(json.dumps({"startup": startup, "all": origins(), "specs": specs, "path": sys.path}))
"""


def module_index(specs, path, files, epoch):
    """The meta path finder's index: {name: (source, is a package, sys.path
    entry or "")} of the bundled modules whose spec is the one a path search
    finds (a package's __path__ is its own directory, a module is in its
    parent's), and {directory: mtime} of their directories."""
    modules, dirs = {}, {}
    # The files' own path objects, so that marshal writes each path once
    # (and the hook holds it once in memory).
    same = {src: src for src in files}
    for name, src, locations in specs:
        if src not in files:
            continue
        src = same[src]
        here = os.path.dirname(src)
        is_pkg = locations is not False
        if is_pkg and (os.path.basename(src) != "__init__.py" or locations != [here]):
            continue
        tail = name.rpartition(".")[2]
        if not is_pkg and os.path.basename(src) != tail + ".py":
            continue
        if is_pkg and os.path.basename(here) != tail:
            continue
        parent = os.path.dirname(here) if is_pkg else here
        entry = ""
        if "." not in name:
            if parent not in path:
                continue
            entry = parent
        if here not in dirs:
            st = os.stat(host(here))
            dirs[here] = min(int(st.st_mtime), epoch)  # the layer clamps times to the epoch
        modules[name] = (src, is_pkg, entry)
    return modules, dirs


def build_bundle(bundle, epoch):
    dest_dir = bundle["dir"]
    env = dict(PATH=os.environ.get("PATH", "/usr/bin:/bin"), LANG="C.UTF-8")
    out = subprocess.run([*PYTHON, "-I", "-B", "-c", LIST_MODULES, *bundle["modules"]],
                         env=env, stdout=subprocess.PIPE, check=True, text=True, cwd="/").stdout
    listed = json.loads(out)
    origins = [o for o in listed["all"] if o.endswith(".py") and o.startswith("/usr/lib/")]
    # Imported before site runs the .pth that installs the hook: these are
    # always read from their own .pyc.
    startup = set(listed["startup"])
    entries = []
    pycs = []
    for src in origins:
        pyc = importlib.util.cache_from_source(src)
        try:
            with open(host(pyc), "rb") as f:
                data = f.read()
            with open(host(src), "rb") as f:
                source = f.read()
        except OSError:
            continue
        flags = int.from_bytes(data[4:8], "little")
        # Only hash-based .pyc files of this Python whose hash matches their
        # source: the bundle then holds exactly what a normal import would run.
        if data[:4] != importlib.util.MAGIC_NUMBER or not flags & 1 or data[8:16] != importlib.util.source_hash(source):
            continue
        st = os.stat(host(src))
        mtime = min(int(st.st_mtime), epoch)  # the layer clamps times to the epoch
        entries.append((src, data[16:], st.st_size, mtime))
        if src not in startup:
            pycs.append(pyc)
    entries.sort()
    # Layout: header (magic, Python's magic number, index length and
    # offset), the code objects, then the index: files {source: (offset,
    # length, source size, source mtime)}, modules and dirs (module_index).
    files = {}
    offset = HEADER
    for src, code, size, mtime in entries:
        files[src] = (offset, len(code), size, mtime)
        offset += len(code)
    # The bundle's own files go into dest_dir now: give it a modification
    # time after the epoch first, so the one recorded (clamped) holds.
    os.utime(host(dest_dir))
    modules, dirs = module_index(listed["specs"], listed["path"], files, epoch)
    raw = marshal.dumps({"files": files, "modules": modules, "dirs": dirs})
    path = os.path.join(dest_dir, "_bytecode_bundle.dat")
    with open(host(path) + ".tmp", "wb") as f:
        f.write(b"PYBNDL02" + importlib.util.MAGIC_NUMBER + len(raw).to_bytes(4, "little") + offset.to_bytes(8, "little"))
        for _, code, _, _ in entries:
            f.write(code)
        f.write(raw)
    os.chmod(host(path) + ".tmp", 0o644)
    os.replace(host(path) + ".tmp", host(path))

    hook = os.path.join(dest_dir, "_bytecode_bundle.py")
    with open(host(hook), "w", encoding="utf-8") as f:
        f.write(bundle["hook"])
    py_compile.compile(host(hook), cfile=host(importlib.util.cache_from_source(hook)), dfile=hook, doraise=True, invalidation_mode=MODES[bundle.get("invalidation-mode") or "unchecked-hash"])
    with open(host(os.path.join(dest_dir, "_bytecode_bundle.pth")), "w", encoding="utf-8") as f:
        f.write("import _bytecode_bundle; _bytecode_bundle.install(%r, %r)\n" % (bundle["env"], bundle.get("finder") or ""))
    log(f"bundle: {len(entries)} of {len(origins)} imported modules, {(offset + len(raw)) / 1e6:.1f} MB, in {path}")
    log(f"bundle: {len(modules)} modules found from its index (in {len(dirs)} directories)")
    if bundle.get("drop-pyc"):
        # The bundle holds exactly these files' code objects (checked
        # above), so the image keeps that bytecode once.
        size = 0
        for pyc in pycs:
            size += os.path.getsize(host(pyc))
            os.remove(host(pyc))
        log(f"bundle: removed the {len(pycs)} bundled modules' own .pyc files ({size / 1e6:.1f} MB)")


METADATA_SUFFIXES = (".dist-info", ".egg-info")

RECORD_PATH = r"""
import json, sys
print(json.dumps(sys.path))
"""


def run_checks(checks):
    for check in checks:
        dest = check["file"]
        env = dict(PATH=os.environ.get("PATH", "/usr/bin:/bin"), LANG="C.UTF-8")
        run = subprocess.run([*PYTHON, "-I", "-B", "-c", check["code"]], env=env, cwd="/",
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if run.returncode != 0 or run.stderr.strip():
            why = (run.stderr.strip().splitlines() or ["status %d" % run.returncode])[-1]
            log(f"check {dest}: failed at build time ({why}); no record, it runs at each start")
            continue
        path = json.loads(subprocess.run([*PYTHON, "-I", "-B", "-c", RECORD_PATH], env=env, cwd="/",
                                         stdout=subprocess.PIPE, check=True, text=True).stdout)
        # What the check found depends on the distributions in these
        # directories: the record keeps the names of their metadata (named
        # with the version). Not the directories' modification times: the
        # layers clamp those to one epoch, the wheels layer's too; nor all
        # their names: the recipe's remove: drops some from the layer.
        dirs = {}
        for d in path:
            try:
                dirs[d] = sorted(n for n in os.listdir(host(d)) if n.endswith(METADATA_SUFFIXES))
            except FileNotFoundError:
                dirs[d] = None  # missing: must stay missing
        with open(host(dest) + ".tmp", "w", encoding="utf-8") as f:
            json.dump({"path": path, "dirs": dirs}, f, sort_keys=True)
        os.chmod(host(dest) + ".tmp", 0o644)
        os.replace(host(dest) + ".tmp", host(dest))
        log(f"check {dest}: passed; recorded with the distributions in {len(path)} directories")


def main():
    global ROOT, PYTHON
    if sys.argv[1:] == ["--compile"]:
        job = json.load(sys.stdin)
        ROOT = job["root"]
        print(compile_files(job["pairs"], job["mode"]))
        return
    with open(sys.argv[1], encoding="utf-8") as f:
        job = json.load(f)
    ROOT = job.get("root") or ""
    PYTHON = job.get("python") or [sys.executable]
    if ROOT:
        check_target_python(PYTHON)
    apply_edits(job.get("edits") or [])
    if job.get("invalidation-mode"):
        compile_all(job["invalidation-mode"])
    if job.get("bundle"):
        build_bundle(job["bundle"], int(job["epoch"]))
    run_checks(job.get("checks") or [])


if __name__ == "__main__":
    main()
