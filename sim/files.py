# Ref: project-internal (command-line tools' file handling)
"""Input and output files of the `vgic` tools.

- ``open_text``: read a text file, plain or gzip-compressed (told by its first
  bytes, not its name), with a clear error for a missing or binary file.
- ``check_output``: before any work starts, refuse an output path that cannot
  be written or that names one of the inputs.
- ``AtomicOutput``: write an output through a temporary file beside it and
  rename it into place only when the tool has succeeded, so a failed run never
  leaves a half-written file that looks complete, and never destroys the file
  it would replace. The file gets the mode any new file gets (umask applies).
"""
import gzip
import io
import os
import shutil
import sys
import tempfile

__all__ = ["FileError", "open_text", "check_output", "AtomicOutput"]

GZIP_MAGIC = b"\x1f\x8b"


class FileError(Exception):
    """A file the tool cannot use: str() says which and why."""


def open_text(path):
    """A text stream (UTF-8) of `path`, decompressed when it is gzip. Raises
    FileError when it cannot be opened."""
    try:
        raw = open(path, "rb")
    except OSError as e:
        raise FileError(f"{path}: cannot read: {e.strerror}") from None
    try:
        head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if head == GZIP_MAGIC else raw
        return io.TextIOWrapper(stream, encoding="utf-8", newline=None)
    except BaseException:
        raw.close()
        raise


def check_output(path, inputs=(), option="-o"):
    """Raise FileError unless `path` can be created or replaced and is none of
    `inputs`. Nothing is created."""
    if path is None or path == "-":
        return
    if os.path.isdir(path):
        raise FileError(f"{option} {path}: is a directory")
    for other in inputs:
        try:
            if os.path.exists(path) and os.path.samefile(path, other):
                raise FileError(f"{option} {path}: is the input file; write the output elsewhere")
        except OSError:
            pass
    folder = os.path.dirname(os.path.abspath(path))
    probe = folder
    while not os.path.exists(probe):         # a folder to be made: its first existing parent
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise FileError(f"{option} {path}: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise FileError(f"{option} {path}: cannot write in {probe}")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise FileError(f"{option} {path}: the file is not writable")


class AtomicOutput:
    """A text file written in one piece:

        with AtomicOutput(path) as f:
            f.write(...)
            ...
            f.commit()          # renames into place; without it the file is dropped

    Leaving the block without commit() (an error, Ctrl-C) removes the
    temporary file and leaves `path` as it was. A `path` that exists and is
    not a regular file (/dev/null, a FIFO, a terminal) is written directly:
    it cannot be replaced, only written to. `path` None or "-" means
    standard output: the text is kept in an anonymous temporary file (memory
    stays flat) and copied out by commit(), so a failed run prints nothing.
    `compress`: the file is gzip-compressed (standard output stays plain)."""

    def __init__(self, path, stdout=None, compress=False):
        self.path = None if path in (None, "-") else path
        self._stdout = stdout
        self._tmp = self._file = self._raw = None
        self._compress = compress
        self._direct = self.path is not None and os.path.exists(self.path) \
            and not os.path.isfile(self.path)

    def __enter__(self):
        if self.path is None:
            self._file = tempfile.TemporaryFile("w+", encoding="utf-8")
            return self
        if self._direct:
            try:
                self._file = open(self.path, "w", encoding="utf-8")
            except OSError as e:
                raise FileError(f"{self.path}: cannot write: {e.strerror}") from None
            return self._compressed()
        folder = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as e:
            raise FileError(f"{self.path}: cannot create {folder}: {e.strerror}") from None
        base = os.path.basename(self.path)
        for n in range(1000):
            tmp = os.path.join(folder, f".{base}.{os.getpid()}.{n}.tmp")
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)   # umask applies
                break
            except FileExistsError:
                continue
            except OSError as e:
                raise FileError(f"{self.path}: cannot write: {e.strerror}") from None
        else:
            raise FileError(f"{self.path}: cannot create a temporary file in {folder}")
        self._tmp = tmp
        self._file = os.fdopen(fd, "w", encoding="utf-8")
        return self._compressed()

    def _compressed(self):
        if self._compress:          # text -> gzip -> the file (kept in _raw)
            self._raw = self._file
            gz = gzip.GzipFile(filename="", fileobj=self._raw.buffer, mode="wb", mtime=0)
            self._file = io.TextIOWrapper(gz, encoding="utf-8")
        return self

    def _close(self):
        for f in (self._file, self._raw):       # the gzip trailer first, then the file
            if f is not None and not f.closed:
                f.close()

    def write(self, text):
        self._file.write(text)

    def commit(self):
        if self.path is None:
            out = self._stdout or sys.stdout
            self._file.seek(0)
            shutil.copyfileobj(self._file, out)
            out.flush()
            return
        self._close()
        if self._direct:
            return
        os.replace(self._tmp, self.path)
        self._tmp = None

    def __exit__(self, *exc):
        try:
            self._close()
        except (OSError, ValueError):
            pass
        if self._tmp is not None:
            try:
                os.unlink(self._tmp)
            except OSError:
                pass
            self._tmp = None
        return False
