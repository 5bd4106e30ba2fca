"""Your own columns: per-image attributes read from a CSV file, to colour, search and export the map by.

The file's first row names its columns. One of them is the key: ``index`` (the explore set's image
numbers, 0 to N-1) when the file has it, else ``file`` (the images' file names, for a folder data set:
``class/name.png`` as the set lists them, or the bare name where no two images share it). Every other
column is an attribute: numeric when every non-empty value is a number, else text; a header ending in
``:text`` or ``:number`` says which it is (``size:text``). The columns the export writes itself
(``label``, ``class``, ``z0``, ``z1``, ...) are left out (and named in :meth:`Attributes.left_out`), so
that a downloaded table with a column added reads back. Rows are counted as a spreadsheet counts them: the header is row 1.

Images without a row get an empty value (NaN, or ""). Every other problem stops the reading with an
:class:`vae.errors.AttributesError` that names the row and column at fault and the fix.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from ..errors import AttributesError
from ..i18n import N_, Text

MAX_BYTES = 20 * 1024 * 1024  # the largest file read: 20 MB is ~100 columns of 70,000 images
MAX_COLUMNS = 200  # attribute columns at most
KEYS = ("index", "file")  # the key column's possible names, the first present wins
KIND_SUFFIXES = {":text": "text", ":number": "number"}
#: Cells read as "no value" in a numeric column: pandas' default NA spellings (pandas.read_csv's na_values).
NA_VALUES = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                       "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"})
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|Inf|Infinity)")
_EXPORTED = re.compile(r"label|class|z\d+")  # columns latent_table writes (besides the key)
FIRST_FEW = 5  # keys or images named in a message


@dataclass(frozen=True)
class Attributes:
    """Per-image columns of an explore set of ``n_images`` images.

    ``columns[name]`` is (N,): float64 with NaN where an image has no value (a numeric column), or an
    object array of str with "" (a text column). ``headers[name]`` is the column's header as the file
    had it (``size:text``), written back by :func:`attribute_table`.
    """

    n_images: int
    key: str  # "index" or "file"
    columns: dict[str, np.ndarray]
    headers: dict[str, str]
    rows: int  # rows read (one per image that has a row)
    missing: np.ndarray  # (M,) the images that have no row, ascending
    skipped: tuple[str, ...] = ()  # columns the export writes itself, not read
    source: str = ""  # the file's name

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def is_numeric(self, name: str) -> bool:
        return self.columns[name].dtype.kind == "f"

    @property
    def numeric(self) -> list[str]:
        return [n for n in self.columns if self.is_numeric(n)]

    @property
    def text(self) -> list[str]:
        return [n for n in self.columns if not self.is_numeric(n)]

    def summary(self) -> Text:
        """One line: what was read, and the images without a row (how many, the first few)."""
        kinds = Text(N_("{n} columns ({numeric} numeric, {text} text)"), n=len(self.columns),
                     numeric=len(self.numeric), text=len(self.text))
        if not len(self.missing):
            return Text(N_("{source}: {kinds} for all {n:,} images, keyed by {key}."), source=self.source or "CSV",
                        kinds=kinds, n=self.n_images, key=self.key)
        first = ", ".join(f"#{i}" for i in self.missing[:FIRST_FEW].tolist()) + (
            ", …" if len(self.missing) > FIRST_FEW else "")
        return Text(N_("{source}: {kinds} for {rows:,} of {n:,} images, keyed by {key}; {m:,} images have no row "
                       "({first}) and no value."), source=self.source or "CSV", kinds=kinds, rows=self.rows,
                    n=self.n_images, key=self.key, m=len(self.missing), first=first)

    def left_out(self) -> Text | None:
        """One line naming the columns left out because the export writes them (None: none)."""
        if not self.skipped:
            return None
        cols = ", ".join(self.skipped[:FIRST_FEW]) + (", …" if len(self.skipped) > FIRST_FEW else "")
        return Text(N_("Left out: {cols} (the export writes these columns itself; rename a column of yours to keep "
                       "it)."), cols=cols)

    def subset(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        """The columns' values of the images ``indices``."""
        return {n: v[np.asarray(indices, dtype=np.int64)] for n, v in self.columns.items()}


def read_attributes(source: str | Path | bytes, n_images: int, files: Sequence[str] | None = None,
                    name: str = "") -> Attributes:
    """Read a CSV of per-image attributes for an explore set of ``n_images`` images (``files``: their
    file names, a folder data set's ``ImageDataset.files``). ``source``: a path, or the file's bytes
    (an upload; ``name`` is then its name for the messages). Raises AttributesError."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = name or path.name
        try:
            size = path.stat().st_size
        except OSError as e:
            raise AttributesError(Text(N_("{source}: cannot be read ({why}): pass the path of a CSV file."),
                                       source=str(path), why=e.strerror or type(e).__name__)) from None
        _check_size(size, name)
        raw = path.read_bytes()
    else:
        raw = bytes(source)
        _check_size(len(raw), name or "CSV")
    name = name or "CSV"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        row = raw[: e.start].count(b"\n") + 1
        raise AttributesError(Text(N_("{source}, row {row}: not UTF-8 text (byte {pos}): save the file as CSV "
                                      "UTF-8."), source=name, row=row, pos=e.start)) from None
    return _parse(text, n_images, list(files) if files else None, name)


def _check_size(size: int, name: str) -> None:
    if size > MAX_BYTES:
        raise AttributesError(Text(N_("{source} is {mb:.1f} MB: files of at most {max} MB are read; keep the "
                                      "columns you need."), source=name, mb=size / 1e6, max=MAX_BYTES // 2**20))
    if size == 0:
        raise AttributesError(Text(N_("{source} is empty: the first row names the columns, e.g. "
                                      "“index,weight”, then one row per image."), source=name))


def _parse(text: str, n: int, files: list[str] | None, name: str) -> Attributes:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise AttributesError(Text(N_("{source} is empty: the first row names the columns, e.g. "
                                          "“index,weight”, then one row per image."), source=name))
        header = [h.strip() for h in header]
        cols = _columns(header, name, files)
        key_at = header.index(cols.key)
        width = len(header)
        keys: dict[int, int] = {}  # image -> its row
        cells: list[list[str]] = []
        resolve = _key_resolver(cols.key, n, files)
        for fields in reader:
            row = reader.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line
            if len(fields) != width:
                raise AttributesError(Text(N_("{source}, row {row}: {got} fields where the header has {want} "
                                              "columns: give every row one value per column (an empty one "
                                              "where there is none)."), source=name, row=row, got=len(fields),
                                           want=width))
            key = fields[key_at].strip()
            i = resolve(key, row, name)
            if i in keys:
                raise AttributesError(Text(N_("{source}, row {row}, column “{col}”: “{key}” is also the key of row "
                                              "{first}: give each image one row."), source=name, row=row,
                                           col=cols.key, key=key, first=keys[i]))
            keys[i] = row
            cells.append(fields)
    except csv.Error as e:
        raise AttributesError(Text(N_("{source}, row {row}: {why}: check the quotes in that row."), source=name,
                                   row=reader.line_num, why=str(e))) from None
    if not cells:
        raise AttributesError(Text(N_("{source} has a header but no rows: add one row per image under it."),
                                   source=name))
    order = np.fromiter(keys, dtype=np.int64, count=len(keys))
    rows = list(keys.values())
    columns, headers = {}, {}
    for col, (at, head, kind) in cols.attributes.items():
        values = [c[at].strip() for c in cells]
        columns[col] = _column(values, kind, order, n, rows, col, name)
        headers[col] = head
    missing = np.setdiff1d(np.arange(n, dtype=np.int64), order)
    return Attributes(n, cols.key, columns, headers, len(cells), missing, tuple(cols.skipped), name)


@dataclass
class _Columns:
    key: str
    attributes: dict[str, tuple[int, str, str | None]] = field(default_factory=dict)  # name -> (at, header, kind)
    skipped: list[str] = field(default_factory=list)


def _columns(header: list[str], name: str, files: list[str] | None) -> _Columns:
    """The key column and the attribute columns of a header (each attribute's name, position, kind)."""
    key = next((k for k in KEYS if k in header), None)
    if key is None:
        sep = next((s for s in (";", "\t") if s in header[0]), None)
        if len(header) == 1 and sep:
            raise AttributesError(Text(N_("{source}, row 1: the columns are separated by “{sep}”: separate them "
                                          "with commas."), source=name, sep=sep.replace("\t", "tab")))
        raise AttributesError(Text(N_("{source}, row 1: no key column: name one column “index” (the image "
                                      "numbers, 0 to N-1) or “file” (a folder data set's file names); the "
                                      "header has {cols}."), source=name, cols=", ".join(header[:8])))
    if key == "file" and not files:
        raise AttributesError(Text(N_("{source}, row 1, column “file”: this data set has no file names: key the "
                                      "rows by “index” (the image numbers) instead."), source=name))
    out = _Columns(key)
    seen: dict[str, int] = {}
    for at, head in enumerate(header):
        col, kind = head, None
        for suffix, k in KIND_SUFFIXES.items():
            if head.lower().endswith(suffix):
                col, kind = head[: -len(suffix)].strip(), k
        if not col:
            raise AttributesError(Text(N_("{source}, row 1, column {at}: the column has no name: name every "
                                          "column in the first row."), source=name, at=at + 1))
        if col in seen:
            raise AttributesError(Text(N_("{source}, row 1: the column “{col}” is named twice (columns {a} and "
                                          "{b}): rename or remove one."), source=name, col=col, a=seen[col] + 1,
                                       b=at + 1))
        seen[col] = at
        if col == key:
            continue
        if _EXPORTED.fullmatch(col):
            out.skipped.append(col)  # the export writes them itself
            continue
        out.attributes[col] = (at, head, kind)
    if len(out.attributes) > MAX_COLUMNS:
        raise AttributesError(Text(N_("{source}: {n} columns: at most {max} are read; keep the columns you need."),
                                   source=name, n=len(out.attributes), max=MAX_COLUMNS))
    return out


def _key_resolver(key: str, n: int, files: list[str] | None):
    """key text -> image index, raising an error that names the row."""
    if key == "index":
        def by_index(text: str, row: int, name: str) -> int:
            t = text[1:] if text.startswith("#") else text
            if not t:
                raise AttributesError(Text(N_("{source}, row {row}, column “index”: the key is empty: give the "
                                              "image's number (0 to {last})."), source=name, row=row, last=n - 1))
            if not (t.isascii() and t.isdigit()) or int(t) >= n:
                raise AttributesError(Text(N_("{source}, row {row}, column “index”: “{key}” is not an image of "
                                              "this set: the images are numbered 0 to {last}."), source=name,
                                           row=row, key=text, last=n - 1))
            return int(t)
        return by_index
    assert files is not None
    exact = {f: i for i, f in enumerate(files)}
    base: dict[str, int | None] = {}
    for i, f in enumerate(files):
        b = PurePosixPath(f).name
        base[b] = None if b in base else i  # None: two images share it
    example = files[0]

    def by_file(text: str, row: int, name: str) -> int:
        t = text.replace("\\", "/")
        if not t:
            raise AttributesError(Text(N_("{source}, row {row}, column “file”: the key is empty: give the image's "
                                          "file name as the data set lists it, e.g. “{example}”."), source=name,
                                       row=row, example=example))
        i = exact.get(t, base.get(t))
        if i is None:
            raise AttributesError(Text(N_("{source}, row {row}, column “file”: “{key}” is not a file of this set "
                                          "(or names two): write it as the set lists it, e.g. “{example}”."),
                                       source=name, row=row, key=text, example=example))
        return i
    return by_file


def _is_number(s: str) -> bool:
    return s in NA_VALUES or bool(_NUMBER.fullmatch(s))


def _column(values: list[str], kind: str | None, order: np.ndarray, n: int, rows: list[int], col: str,
            name: str) -> np.ndarray:
    """One column's (N,) array: numeric (float64, NaN where none) or text (str, "" where none)."""
    numbers = [_is_number(v) for v in values]
    if kind is None:
        filled = [ok for ok, v in zip(numbers, values, strict=True) if v]
        # no value at all: numeric (NaN), as pandas reads it; mostly numbers: a typo, or a text column?
        kind = "number" if sum(filled) * 2 > len(filled) or not filled else "text"
    if kind == "text":
        out = np.full(n, "", dtype=object)
        uniq, inverse = np.unique(np.asarray(values, dtype=object), return_inverse=True)
        out[order] = uniq[inverse]  # equal values share one str: a column of a few categories stays small
        return out
    bad = next((k for k, ok in enumerate(numbers) if not ok), None)
    if bad is not None:
        raise AttributesError(Text(N_("{source}, row {row}, column “{col}”: “{value}” is not a number, and the "
                                      "column is numeric: write a number or leave the cell empty, or end the "
                                      "header with “:text” (“{col}:text”) to read the column as text."),
                                   source=name, row=rows[bad], col=col, value=values[bad][:40]))
    out = np.full(n, np.nan)
    out[order] = [math.nan if v in NA_VALUES else float(v) for v in values]
    return out
