"""Text exports in another encoding (GBK/GB18030, UTF-16) copied as UTF-8 for DuckDB, and what
keeps DuckDB's CSV reader from giving a file's rows as they are (`RowHazards`).

Decoding is most of the cost of staging a GBK export, and Python's CJK codecs hold the GIL: a
large GB18030 file is decoded in two halves at once, the second by a child process
(`python -m fupan.intake.transcoding`). Only the standard library is imported here, so the child
starts in a tenth of a second.
"""

from __future__ import annotations

import codecs
import itertools
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("mkdocs.plugins.fupan")

CHUNK = 1 << 20
# Below this a second process costs more than it saves; GB18030 only: a line-feed byte never
# occurs inside one of its characters, so a file cut after one decodes as two independent halves.
SPLIT_BYTES = 64 << 20
_SPLITTABLE = ("gb18030",)
# Codecs whose multi-byte characters hold no quote or line-end byte: their bytes answer for
# their text in `RowHazards`.
_ASCII_SAFE = ("gb18030", "utf-8", "utf-8-sig")


class BadBytes(Exception):
    """Where a file stops decoding: byte offset, line (1-based) and the bytes there."""

    def __init__(self, offset: int, line: int, sample: bytes):
        super().__init__(offset)
        self.offset, self.line, self.sample = offset, line, sample

    def where(self) -> str:
        shown = " ".join(f"0x{b:02X}" for b in self.sample)
        return f"byte offset {self.offset} (line {self.line}, bytes {shown})"


def decoded(path: Path, codec: str, size: int | None = None, observe: Callable[[bytes], None] | None = None,
            start: int = 0, end: int | None = None) -> Iterator[str]:
    """The text of the file's bytes [start, end), streamed in chunks of `size` bytes (`CHUNK`
    by default; each also given to `observe` as read); `BadBytes` at the first byte the codec
    rejects (offset and line counted from `start`)."""
    size = size or CHUNK  # read at each call, so a test can make the chunks small
    decoder = codecs.getincrementaldecoder(codec)("strict")
    fed = lines = 0
    left = None if end is None else end - start
    with path.open("rb") as fh:
        fh.seek(start)
        while True:
            chunk = fh.read(size if left is None else min(size, left - fed))
            if observe is not None:
                observe(chunk)
            pending = decoder.getstate()[0]
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                # exc.object is the decoder's pending bytes followed by this chunk.
                data = bytes(exc.object)
                line = lines - pending.count(b"\n") + data[: exc.start].count(b"\n") + 1
                raise BadBytes(fed - len(pending) + exc.start, line, data[exc.start: exc.start + 4]) from None
            if text:
                yield text
            if not chunk:
                return
            fed += len(chunk)
            lines += chunk.count(b"\n")


def first_bad_bytes(path: Path, codec: str, chunks: int | None = None) -> BadBytes | None:
    """Where the file (or its first `chunks` chunks) stops decoding as `codec`; None if it does not."""
    try:
        for _ in itertools.islice(decoded(path, codec), chunks):
            pass
    except BadBytes as bad:
        return bad
    return None


class RowHazards:
    """What keeps DuckDB's reader from giving a file's rows as they are, from its bytes fed in
    order: it skips empty lines (which would shift every later row's number) and, reading
    serially, drops a value whose quote is never closed without a word; an odd number of quote
    characters betrays the latter. Any encoding whose multi-byte characters hold no quote or
    line-end byte (UTF-8, GB18030) gives the same answer as its text. With no quote at all,
    no value holds a line break, and DuckDB may read the file in parallel (`quoted`)."""

    BLANKS = (b"\n\n", b"\n\r\n", b"\r\r")

    def __init__(self, tail: bytes = b"") -> None:
        self.quotes = 0
        self.tail = tail  # the end of what came before, so a blank line across two blocks is seen
        self.blank_at_end = False  # an empty line ends what was fed so far
        self.blank_inside = False  # an empty line with more after it
        self.fed = False

    def feed(self, block: bytes) -> None:
        if not block:
            return
        self.fed = True
        self.blank_inside = self.blank_inside or self.blank_at_end
        self.quotes += block.count(b'"')
        text = self.tail + block
        # A carriage return is a byte search (memchr) away; without one only `\n\n` can occur,
        # and each pattern's search costs as much as decoding a fifth of the text.
        blanks = self.BLANKS if b"\r" in text else self.BLANKS[:1]
        for blank in () if self.blank_inside else blanks:
            at = text.find(blank)
            if at >= 0 and at + len(blank) < len(text):
                self.blank_inside = True
                break
            self.blank_at_end = self.blank_at_end or at >= 0
        self.tail = block[-2:]

    def then(self, later: RowHazards) -> RowHazards:
        """These hazards followed by those of the bytes right after (fed with this one's tail)."""
        both = RowHazards(later.tail)
        both.quotes = self.quotes + later.quotes
        both.blank_inside = self.blank_inside or later.blank_inside or (self.blank_at_end and later.fed)
        both.blank_at_end = later.blank_at_end
        both.fed = self.fed or later.fed
        return both

    @property
    def fine(self) -> bool:
        return not self.blank_inside and self.quotes % 2 == 0

    @property
    def quoted(self) -> bool:
        return self.quotes > 0

    def state(self) -> dict:
        return {"quotes": self.quotes, "tail": self.tail.hex(), "blank_at_end": self.blank_at_end,
                "blank_inside": self.blank_inside, "fed": self.fed}

    @classmethod
    def from_state(cls, state: dict) -> RowHazards:
        hazards = cls(bytes.fromhex(state["tail"]))
        hazards.quotes, hazards.blank_at_end = state["quotes"], state["blank_at_end"]
        hazards.blank_inside, hazards.fed = state["blank_inside"], state["fed"]
        return hazards


def hazards_of(path: Path) -> RowHazards:
    """`RowHazards` of a UTF-8 file, read to its end or to the first empty line inside it."""
    hazards = RowHazards()
    with path.open("rb") as fh:
        while not hazards.blank_inside and (block := fh.read(CHUNK * 4)):
            hazards.feed(block)
    return hazards


@dataclass(frozen=True)
class Utf8Text:
    """A text file as UTF-8: its parts in order, each starting with the file's header line (the
    first `header_bytes` bytes of every part after the first repeat it), and its hazards."""

    parts: tuple[Path, ...]
    hazards: RowHazards
    header_bytes: int = 0

    def joined(self) -> Path:
        """The parts as one file (the first, with the others appended, less their header, and
        removed). A single part is given back untouched: it may be the export itself."""
        first = self.parts[0]
        if len(self.parts) == 1:
            return first
        with first.open("ab") as out:
            for part in self.parts[1:]:
                with part.open("rb") as fh:
                    fh.seek(self.header_bytes)
                    while block := fh.read(CHUNK * 4):
                        out.write(block)
                part.unlink()
        return first


def utf8_copy(path: Path, codec: str, folder: Path) -> Utf8Text:
    """The file decoded from `codec` into UTF-8 files in `folder` (the caller removes them).
    Raises `BadBytes` at the first byte that does not decode."""
    first = folder / "part-0.utf8.csv"
    split = _split_point(path, codec)
    header = _header_line(path, codec) if split is not None else None
    if split is None or header is None:
        return Utf8Text((first,), _write_utf8(path, codec, first))
    second = folder / "part-1.utf8.csv"
    tail = _bytes_at(path, split - 2, 2)
    # The child writes the hazards of its half on stdout; it imports this module as the parent
    # did (from its import path), whatever the environment says.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    child = subprocess.Popen([sys.executable, "-m", "fupan.intake.transcoding", str(path), codec, str(split),
                              str(second), tail.hex(), header.hex()], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        head = _write_utf8(path, codec, first, end=split)
        out, _ = child.communicate()
    finally:
        if child.poll() is None:  # the first half did not decode, or we were interrupted
            child.kill()
            child.wait()
    later = _child_hazards(out) if child.returncode == 0 else None
    if later is not None:
        text = Utf8Text((first, second), head.then(later), len(header))
        # A quoted value may hold a line break across the cut: such a file is read serially, whole.
        return Utf8Text((text.joined(),), text.hazards) if text.hazards.quoted else text
    # Bytes that do not decode (or a child that failed otherwise): decoded whole, which names
    # the first bad byte with its offset and line in the file.
    second.unlink(missing_ok=True)
    log.debug("fupan: the child decoding the second half of %s ended with status %s; decoding it whole",
              path, child.returncode)
    return Utf8Text((first,), _write_utf8(path, codec, first))


def _child_hazards(out: bytes) -> RowHazards | None:
    try:
        return RowHazards.from_state(json.loads(out))
    except (ValueError, KeyError, TypeError):
        return None


def _header_line(path: Path, codec: str) -> bytes | None:
    """The file's first line, line feed included, as UTF-8; None where it does not decode or is
    longer than a chunk."""
    start = _bytes_at(path, 0, CHUNK)
    end = start.find(b"\n")
    try:
        return start[:end + 1].decode(codec).encode("utf-8") if end >= 0 else None
    except UnicodeDecodeError:
        return None


def _split_point(path: Path, codec: str) -> int | None:
    """The offset just after the first line feed past the middle of a large file, when it is
    worth decoding it in two halves; else None."""
    size = path.stat().st_size
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if codec not in _SPLITTABLE or size < SPLIT_BYTES or cores < 2:
        return None
    middle = size // 2
    found = _bytes_at(path, middle, CHUNK).find(b"\n")
    if found < 0 or middle + found + 1 >= size:
        return None
    return middle + found + 1


def _bytes_at(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as fh:
        fh.seek(offset)
        return fh.read(size)


def _write_utf8(path: Path, codec: str, target: Path, start: int = 0, end: int | None = None,
                tail: bytes = b"", header: bytes = b"") -> RowHazards:
    hazards = RowHazards(tail)
    on_source = codec in _ASCII_SAFE
    with target.open("wb") as out:
        out.write(header)
        for text in decoded(path, codec, observe=hazards.feed if on_source else None, start=start, end=end):
            data = text.encode("utf-8")
            if not on_source:
                hazards.feed(data)
            out.write(data)
    return hazards


def main(argv: list[str]) -> int:
    """The child's half: SOURCE CODEC START TARGET TAIL_HEX HEADER_HEX → TARGET written (the
    header, then the text from START on), hazards on stdout as JSON; exit status 1 where the
    bytes do not decode."""
    source, codec, start, target, tail, header = argv
    try:
        hazards = _write_utf8(Path(source), codec, Path(target), int(start), tail=bytes.fromhex(tail),
                              header=bytes.fromhex(header))
    except BadBytes:
        return 1
    sys.stdout.write(json.dumps(hazards.state()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
