"""Content-addressed results in the cache folder (default ``.txlint_cache/`` at the project root).

An entry is keyed by the file's bytes, its path, txlint's version and code, and the effective
configuration; it also records the other project files its analysis read (path, size, mtime and a
hash of their bytes) and is only trusted while they are unchanged (a fresh checkout that only
changed their mtimes, as in CI after restoring the cache, still reuses it).

A cache is the user's own.  A cache folder that is a symlink, or whose files are tracked by git (a
repository could ship entries whose findings were emptied), is not used at all, and the caller
warns.  Nothing is ever written through a symlink: folders are opened relative to each other with
``O_NOFOLLOW`` and files are created with ``O_EXCL`` under unique temporary names, then renamed
into place, so that two runs sharing a cache never see half an entry.  Corrupt, half-written or
mismatching entries are ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import uuid

from txlint import __version__
from txlint.diagnostics import Diagnostic, FileResult

CACHE_DIR = ".txlint_cache"
ENV_VAR = "TXLINT_CACHE_DIR"
TAG_NAME = "CACHEDIR.TAG"
TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
       "# This file is a cache directory tag created by txlint.\n"
       "# For information about cache directory tags see https://bford.info/cachedir/\n")
GITIGNORE = "# created by txlint\n*\n"

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW | _CLOEXEC
#: folders opened relative to their parent's descriptor, so that no path is followed twice
_USE_FDS = (hasattr(os, "O_NOFOLLOW") and hasattr(os, "O_DIRECTORY") and os.open in os.supports_dir_fd
            and os.mkdir in os.supports_dir_fd and os.rename in os.supports_dir_fd)

_CODE_STAMP: str | None = None


def code_stamp() -> str:
    """Size and mtime of txlint's own modules and rules: a development checkout or an upgrade
    that keeps the version number still never reuses results of other code."""
    global _CODE_STAMP
    if _CODE_STAMP is None:
        import txlint
        import txlint.rules

        parts = []
        for folder in {os.path.dirname(txlint.__file__), *txlint.rules.__path__}:
            for root, _, names in os.walk(folder):
                for name in sorted(names):
                    if name.endswith(".py"):
                        st = os.stat(os.path.join(root, name))
                        parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
        _CODE_STAMP = hashlib.sha256("|".join(sorted(parts)).encode()).hexdigest()[:16]
    return _CODE_STAMP


def cache_location(root: str, option: str | None = None, environ=None) -> str:
    """The cache folder: ``--cache-dir``, else ``$TXLINT_CACHE_DIR``, else ``.txlint_cache`` at the
    project root (relative paths are relative to the current directory)."""
    environ = os.environ if environ is None else environ
    chosen = option or environ.get(ENV_VAR) or os.path.join(root, CACHE_DIR)
    return os.path.abspath(os.path.expanduser(chosen))


def open_cache(root: str, config_fingerprint: str, option: str | None = None) -> tuple[Cache | None, str | None]:
    """``(cache, None)``, or ``(None, why)`` when the cache folder must not be used."""
    base = cache_location(root, option)
    why = distrust_reason(base)
    if why:
        return None, f"not using the cache folder {base}: {why}; results are computed without it"
    return Cache(base, config_fingerprint), None


def distrust_reason(base: str) -> str | None:
    """Why the cache folder ``base`` is not the user's own (None when it may be used)."""
    try:
        st = os.lstat(base)
    except FileNotFoundError:
        return None  # created on first write
    except OSError as exc:
        return f"cannot read it ({exc.strerror})"
    import stat

    if stat.S_ISLNK(st.st_mode):
        return "it is a symlink (a cache is never written or read through a link)"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a folder"
    if os.path.islink(os.path.join(base, __version__)):
        return "it holds a symlink (a cache is never written or read through a link)"
    tracked = tracked_by_git(base)
    if tracked is None:
        return "it lies in a git work tree and txlint cannot tell whether git tracks its files"
    if tracked:
        return "its files are tracked by git (a cache shipped with the code could hide findings)"
    return None


# ---- is the cache folder tracked by git? -------------------------------------------------------

def _git_dir(worktree: str) -> str | None:
    dotgit = os.path.join(worktree, ".git")
    if os.path.isdir(dotgit):
        return dotgit
    try:  # a worktree or submodule: ".git" is a file naming the real git dir
        with open(dotgit, encoding="utf-8") as handle:
            line = handle.readline().strip()
    except (OSError, UnicodeDecodeError):
        return None
    if line.startswith("gitdir:"):
        return os.path.normpath(os.path.join(worktree, line[len("gitdir:"):].strip()))
    return None


def find_work_tree(path: str) -> str | None:
    """The nearest folder at or above ``path`` that holds ``.git``."""
    directory = os.path.abspath(path)
    while True:
        if os.path.lexists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def tracked_by_git(base: str) -> bool | None:
    """Whether git tracks any file under ``base``: True / False, None when it cannot be told.

    Reads the index of the enclosing work tree directly (no git process on the common path); only
    an index this reader does not understand is handed to ``git ls-files``."""
    worktree = find_work_tree(base)
    if worktree is None:
        return False
    rel = os.path.relpath(base, worktree)
    if rel == ".":
        prefix = b""
    else:
        prefix = os.fsencode(rel.replace(os.sep, "/")) + b"/"
    git_dir = _git_dir(worktree)
    if git_dir is None:
        return _ls_files(worktree, rel)
    index = os.path.join(git_dir, "index")
    try:
        with open(index, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return False  # nothing was ever added
    except OSError:
        return _ls_files(worktree, rel)
    found = index_has_prefix(data, prefix)
    if found is None:
        return _ls_files(worktree, rel)
    if not found and b"link" in data:
        # split index: most entries live in a shared index beside it; any of them counts
        try:
            shared = [n for n in os.listdir(git_dir) if n.startswith("sharedindex.")]
        except OSError:
            shared = []
        for name in shared:
            try:
                with open(os.path.join(git_dir, name), "rb") as handle:
                    found = index_has_prefix(handle.read(), prefix)
            except OSError:
                found = None
            if found is None:
                return _ls_files(worktree, rel)
            if found:
                return True
    return found


def index_has_prefix(data: bytes, prefix: bytes) -> bool | None:
    """Whether a git index (versions 2-4) holds an entry whose path starts with ``prefix``;
    None when ``data`` is not an index this reader understands."""
    if len(data) < 12 or data[:4] != b"DIRC":
        return None
    version, count = struct.unpack(">II", data[4:12])
    if version not in (2, 3, 4):
        return None
    if count == 0:
        return False
    if version in (2, 3) and prefix not in data:
        return False  # v2/v3 store every path in full
    for oid_len in (20, 32):  # SHA-1 or SHA-256 repositories
        found = _scan_entries(data, prefix, version, count, oid_len)
        if found is not None:
            return found
    return None


def _scan_entries(data: bytes, prefix: bytes, version: int, count: int, oid_len: int) -> bool | None:
    pos = 12
    previous = b""
    flags_at = 40 + oid_len  # ctime, mtime, dev, ino, mode, uid, gid, size: 40 bytes, then the object id
    size = len(data)
    try:
        for _ in range(count):
            start = pos
            (flags,) = struct.unpack_from(">H", data, start + flags_at)
            pos = start + flags_at + 2
            if version >= 3 and flags & 0x4000:
                pos += 2
            if version == 4:
                # the path is the previous one minus N trailing bytes, plus a NUL-terminated suffix
                c = data[pos]
                pos += 1
                strip = c & 127
                while c & 128:
                    c = data[pos]
                    pos += 1
                    strip = ((strip + 1) << 7) | (c & 127)
                end = data.index(b"\0", pos)
                if strip > len(previous):
                    return None
                path = previous[: len(previous) - strip] + data[pos:end]
                pos = end + 1
                previous = path
            else:
                name_len = flags & 0xFFF
                end = data.index(b"\0", pos) if name_len == 0xFFF else pos + name_len
                if end >= size or data[end] != 0:
                    return None
                path = data[pos:end]
                entry_len = end - start
                pos = start + ((entry_len + 8) & ~7)  # 1 to 8 NUL bytes pad the entry
            if pos > size:
                return None
            if path.startswith(prefix):
                return True
            if path > prefix:
                return False  # entries are sorted by path: none further on can start with prefix
    except (struct.error, ValueError, IndexError):
        return None
    return False


def _ls_files(worktree: str, rel: str) -> bool | None:
    """Fallback: ask git itself (with no fsmonitor hook: nothing from the repository runs)."""
    try:
        proc = subprocess.run(["git", "-c", "core.fsmonitor=false", "ls-files", "-z", "--", rel],
                              cwd=worktree, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return bool(proc.stdout.strip(b"\0"))


# ---- the stamps of the other files an analysis read --------------------------------------------

class _Stamps:
    """Stamps of dependency files: ``[abspath, size, mtime_ns, sha256[:16]]``; hashes computed at
    most once per run and file."""

    def __init__(self):
        self._hashes: dict[tuple, str] = {}

    def _hash(self, path: str, st) -> str:
        memo = (path, st.st_size, st.st_mtime_ns)
        found = self._hashes.get(memo)
        if found is None:
            try:
                with open(path, "rb") as handle:
                    found = hashlib.sha256(handle.read()).hexdigest()[:16]
            except OSError:
                found = ""
            self._hashes[memo] = found
        return found

    def stamp(self, path: str) -> list:
        path = os.path.abspath(path)
        try:
            st = os.stat(path)
        except OSError:
            return [path, -1, -1, ""]
        return [path, st.st_size, st.st_mtime_ns, self._hash(path, st)]

    def unchanged(self, stamp) -> bool:
        if not isinstance(stamp, list) or len(stamp) != 4 or not isinstance(stamp[0], str):
            return False
        path, size, mtime, digest = stamp
        try:
            st = os.stat(path)
        except OSError:
            return size == -1
        if st.st_size != size:
            return False
        if st.st_mtime_ns == mtime:
            return True
        return bool(digest) and self._hash(path, st) == digest


def file_stamp(path: str) -> list:
    return _Stamps().stamp(path)


# ---- the cache ------------------------------------------------------------------------------------

class Cache:
    def __init__(self, base: str, config_fingerprint: str):
        self.base = os.path.abspath(base)
        self.dir = os.path.join(self.base, __version__)
        self.config = config_fingerprint
        self._stamps = _Stamps()
        self._version_handle = None  # fd (POSIX) or path of the version folder, once known to exist
        self._unwritable = False

    def key(self, path: str, data: bytes) -> str:
        h = hashlib.sha256()
        for part in (__version__, code_stamp(), self.config, os.path.abspath(path)):
            h.update(part.encode("utf-8", "surrogatepass") + b"\0")
        h.update(data)
        return h.hexdigest()

    def get(self, key: str, display: str) -> FileResult | None:
        try:
            handle = self._version(create=False)
            if handle is None:
                return None
            raw = _read_file(handle, key[:2], key + ".json")
            if raw is None:
                return None
            entry = json.loads(raw)
            if not isinstance(entry, dict) or entry.get("key") != key:
                return None
            deps = entry.get("deps", [])
            if not isinstance(deps, list) or not all(self._stamps.unchanged(s) for s in deps):
                return None
            diags = entry["diagnostics"]
            if not isinstance(diags, list):
                return None
            return FileResult(display, [Diagnostic.from_cache(d).with_path(display) for d in diags])
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None

    def put(self, key: str, result: FileResult, deps: list[str]) -> None:
        try:
            entry = {"key": key, "deps": [self._stamps.stamp(d) for d in deps],
                     "diagnostics": [d.to_cache() for d in result.diagnostics]}
            try:
                handle = self._version(create=True)
            except OSError:
                self._unwritable = True  # read-only or not ours: do not retry for every file
                return
            if handle is not None:
                _write_file(handle, key[:2], key + ".json", json.dumps(entry).encode("utf-8"))
        except (OSError, ValueError, TypeError):
            pass  # a read-only project still gets its results, just not cached

    def close(self) -> None:
        if isinstance(self._version_handle, int):
            try:
                os.close(self._version_handle)
            except OSError:
                pass
        self._version_handle = None

    def __del__(self):  # pragma: no cover - best effort
        self.close()

    # the base folder, its tag and the version folder, created on first write
    def _version(self, create: bool):
        if self._version_handle is not None:
            return self._version_handle
        created = False
        if create:
            if self._unwritable:
                return None
            try:
                os.makedirs(os.path.dirname(self.base), exist_ok=True)
                os.mkdir(self.base)
                created = True
            except FileExistsError:
                pass
        try:
            base = _open_dir(None, self.base)
        except FileNotFoundError:
            if create:
                raise
            return None
        try:
            if create:
                self._tag(base, created)
                _mkdir(base, __version__)
            try:
                self._version_handle = _open_dir(base, __version__)
            except FileNotFoundError:
                if create:
                    raise
                return None
        finally:
            _close(base)
        return self._version_handle

    @staticmethod
    def _tag(base, created: bool) -> None:
        """CACHEDIR.TAG (backup tools skip the folder) and a .gitignore of ``*`` (never committed),
        only in a folder that is txlint's: one it created, an empty one, or one already tagged."""
        names = _list(base)
        if TAG_NAME in names:
            return
        if not created and names:
            return
        _write_file(base, None, TAG_NAME, TAG.encode())
        _write_file(base, None, ".gitignore", GITIGNORE.encode())


# ---- file operations that never follow a symlink --------------------------------------------------
# A "handle" is a folder's descriptor where the platform has openat() (POSIX), else its path.

def _open_dir(parent, name: str):
    if _USE_FDS:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    path = name if parent is None else os.path.join(parent, name)
    if os.path.islink(path):
        raise OSError(f"{path} is a symlink")
    if not os.path.isdir(path):
        raise FileNotFoundError(path)
    return path


def _close(handle) -> None:
    if isinstance(handle, int):
        os.close(handle)


def _mkdir(parent, name: str) -> None:
    try:
        if _USE_FDS:
            os.mkdir(name, dir_fd=parent)
        else:
            os.mkdir(os.path.join(parent, name))
    except FileExistsError:
        pass


def _list(handle) -> list[str]:
    if isinstance(handle, int):
        fd = os.dup(handle)
        try:
            return os.listdir(fd)
        finally:
            os.close(fd)
    return os.listdir(handle)


def _read_file(parent, sub: str, name: str) -> bytes | None:
    try:
        folder = _open_dir(parent, sub)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        if _USE_FDS:
            fd = os.open(name, os.O_RDONLY | _NOFOLLOW | _CLOEXEC, dir_fd=folder)
        else:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                return None
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    finally:
        _close(folder)


def _write_file(parent, sub: str | None, name: str, data: bytes) -> None:
    """Write ``name`` atomically: a new file under a unique name (``O_EXCL``: never an existing
    file or link), then renamed over the old entry (a rename replaces a link, never writes through)."""
    if sub is not None:
        _mkdir(parent, sub)
        folder = _open_dir(parent, sub)
    else:
        folder = parent
    tmp = f".{name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | getattr(os, "O_BINARY", 0)
    try:
        if _USE_FDS:
            fd = os.open(tmp, flags, 0o666, dir_fd=folder)
        else:
            fd = os.open(os.path.join(folder, tmp), flags, 0o666)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            if _USE_FDS:
                os.rename(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
            else:
                os.replace(os.path.join(folder, tmp), os.path.join(folder, name))
        except BaseException:
            try:
                if _USE_FDS:
                    os.unlink(tmp, dir_fd=folder)
                else:
                    os.unlink(os.path.join(folder, tmp))
            except OSError:
                pass
            raise
    finally:
        if sub is not None:
            _close(folder)
