"""Cross-filtering the map by its per-image values (issue #34, linked views).

A :class:`Filters` holds one term per column of the per-image :class:`Table`: a numeric column keeps
the images whose value lies in a closed :class:`Range`, a categorical column those whose category is
:class:`Among` the chosen ones; the terms are ANDed (:func:`mask`). Each column's chart shows all
images beside those that pass the *other* terms (``mask(..., skip=name)``), so that a brushed chart
still shows what lies outside its own brush: :func:`histogram` (shared edges) and :func:`category_counts`.

In a link the state is one short text (:func:`dump`, :func:`parse`)::

    kl:0.5..2;class:1,7;recon:..40;sigma:0.2..

A range's missing end is open; a category is its number (a class's index). A value that cannot be
read raises :class:`FilterError` naming the part at fault and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..i18n import N_, Text

BINS = 24  # a numeric column's histogram: bins between its smallest and largest finite value
DIGITS = 4  # significant digits a range's ends keep (a brush's ends are rounded so; the link writes them)
TERM, PART, RANGE, LIST = ";", ":", "..", ","  # the link's separators
MAX_TEXT = 2000  # characters a link's filter may have


class FilterError(ValueError):
    """A filter's text cannot be read (an unknown column, a value that is not a number, an empty
    range); the message names the part at fault and the fix."""


@dataclass(frozen=True)
class Range:
    """A numeric column's term: lo <= value <= hi (an open end is ±inf; NaN never passes)."""

    lo: float = -math.inf  # the smallest value kept
    hi: float = math.inf  # the largest value kept

    def test(self, values: np.ndarray) -> np.ndarray:
        """(N,) bool: which ``values`` (N,) lie in the range."""
        with np.errstate(invalid="ignore"):
            return (values >= self.lo) & (values <= self.hi)


@dataclass(frozen=True)
class Among:
    """A categorical column's term: the category codes kept."""

    codes: frozenset[int] = frozenset()  # the categories kept (their numbers)

    def test(self, values: np.ndarray) -> np.ndarray:
        """(N,) bool: which category codes ``values`` (N,) are kept (a look-up table: codes are small)."""
        values = np.asarray(values, np.int64)
        top = max(max(self.codes, default=0), int(values.max(initial=0))) + 1
        lut = np.zeros(top, bool)
        lut[[c for c in self.codes if c >= 0]] = True
        ok = values >= 0
        return np.where(ok, lut[np.where(ok, values, 0)], False)


Term = Range | Among


@dataclass(frozen=True)
class Column:
    """One per-image column: its values (N,) and, for a categorical one, its categories' names
    (``values`` are then codes 0..len(categories)-1); ``categories`` None: numeric."""

    values: np.ndarray
    categories: tuple[str, ...] | None = None

    @property
    def numeric(self) -> bool:
        return self.categories is None


@dataclass(frozen=True)
class Table:
    """The per-image values the map can be filtered by: column name -> :class:`Column`, all of length n."""

    columns: Mapping[str, Column]
    n: int = field(init=False)

    def __post_init__(self) -> None:
        lengths = {len(c.values) for c in self.columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"the columns have different lengths: {sorted(lengths)}")
        object.__setattr__(self, "n", lengths.pop() if lengths else 0)


@dataclass(frozen=True)
class Filters:
    """The terms in force, at most one per column, in the order they were set."""

    terms: tuple[tuple[str, Term], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.terms)

    def get(self, name: str) -> Term | None:
        return dict(self.terms).get(name)

    def with_term(self, name: str, term: Term | None) -> Filters:
        """These filters with ``name``'s term replaced (None: removed); a term that keeps nothing
        (an empty :class:`Among`) is removed too."""
        kept = [(n, t) for n, t in self.terms if n != name]
        if term is not None and not (isinstance(term, Among) and not term.codes):
            kept.append((name, term))
        return Filters(tuple(kept))

    def only(self, names) -> Filters:
        """The terms on the columns ``names``, in their order."""
        names = set(names)
        return Filters(tuple((n, t) for n, t in self.terms if n in names))


def rounded(lo: float, hi: float, digits: int = DIGITS) -> Range:
    """A brush's range, its ends rounded outwards to ``digits`` significant digits (what a link keeps)."""
    return Range(_round(lo, digits, math.floor), _round(hi, digits, math.ceil))


def _round(x: float, digits: int, how) -> float:
    if not math.isfinite(x) or x == 0:
        return float(x)
    scale = 10.0 ** (digits - 1 - math.floor(math.log10(abs(x))))
    return float(f"{how(x * scale) / scale:.{digits}g}")


def mask(table: Table, filters: Filters, skip: str | None = None) -> np.ndarray:
    """(N,) bool: the images that pass every term (AND) but ``skip``'s; a term on a column the table
    lacks is ignored (the columns of another explore set, or ones since removed)."""
    return Masks.of(table, filters).without(skip)


@dataclass(frozen=True)
class Masks:
    """Each term's (N,) mask, computed once: what passes them all, or all but one column's (a chart's
    coloured part), is then a few ANDs."""

    n: int
    terms: dict[str, np.ndarray]  # column name -> (N,) the images its term keeps

    @staticmethod
    def of(table: Table, filters: Filters) -> Masks:
        terms = {}
        for name, term in filters.terms:
            col = table.columns.get(name)
            if col is not None and isinstance(term, Range) == col.numeric:
                terms[name] = term.test(col.values)
        return Masks(table.n, terms)

    def without(self, skip: str | None = None) -> np.ndarray:
        """(N,) bool: the images that pass every term but ``skip``'s (None: every term)."""
        keep = np.ones(self.n, bool)
        for name, m in self.terms.items():
            if name != skip:
                keep &= m
        return keep


@dataclass(frozen=True)
class Bins:
    """A numeric column's histogram: ``edges`` (B+1,), the counts of all images (B,) and of those kept (B,)."""

    edges: np.ndarray
    all: np.ndarray
    kept: np.ndarray


def histogram(values: np.ndarray, keep: np.ndarray, bins: int = BINS) -> Bins:
    """Counts of the finite ``values`` (N,) in ``bins`` equal bins from their smallest to their largest,
    of all images and of those ``keep`` (N,) marks, on the same edges (NaN and ±inf are left out)."""
    finite = np.isfinite(values)
    v = values[finite]
    if not len(v):
        return Bins(np.array([0.0, 1.0]), np.zeros(1, np.int64), np.zeros(1, np.int64))
    lo, hi = float(v.min()), float(v.max())
    span = (lo, hi if hi > lo else lo + 1.0)  # equal bins on a range: numpy's fast path, the same edges twice
    all_counts, edges = np.histogram(v, bins, span)
    kept_counts, _ = np.histogram(values[finite & keep], bins, span)
    return Bins(edges, all_counts, kept_counts)


def category_counts(codes: np.ndarray, n_categories: int, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(C,) counts of each category among all images and among those ``keep`` marks."""
    codes = np.asarray(codes, np.int64)
    ok = (codes >= 0) & (codes < n_categories)
    return (
        np.bincount(codes[ok], minlength=n_categories),
        np.bincount(codes[ok & keep], minlength=n_categories),
    )


# -- the link -------------------------------------------------------------------------------------
def _number(x: float) -> str:
    return "" if math.isinf(x) else f"{x:.{DIGITS + 2}g}"


def dump(filters: Filters, names=None) -> str:
    """The filters as link text (``kl:0.5..2;class:1,7``); ``names``: only the terms on these columns."""
    parts = []
    for name, term in filters.terms:
        if names is not None and name not in names:
            continue
        if isinstance(term, Range):
            parts.append(f"{name}{PART}{_number(term.lo)}{RANGE}{_number(term.hi)}")
        else:
            parts.append(f"{name}{PART}{LIST.join(map(str, sorted(term.codes)))}")
    return TERM.join(parts)


def parse(text: str, table: Table, names=None) -> Filters:
    """Link text -> :class:`Filters`, checked against ``table`` (``names``: the columns a link may name,
    default all). Raises :class:`FilterError` naming the part at fault and the fix."""
    if len(text) > MAX_TEXT:
        raise FilterError(
            Text(N_("the filter is {n} characters long: at most {max} are read"), n=len(text), max=MAX_TEXT)
        )
    allowed = [n for n in table.columns if names is None or n in names]
    filters = Filters()
    for part in (p.strip() for p in text.split(TERM)):
        if not part:
            continue
        name, sep, value = part.rpartition(PART)  # a name may hold ":" (col:NAME); a value never does
        name = name.strip()
        if not sep or name not in allowed:
            raise FilterError(
                Text(
                    N_(
                        "“{part}” names no column: write COLUMN:FROM..TO or COLUMN:A,B with a "
                        "column among {columns}"
                    ),
                    part=part,
                    columns=", ".join(allowed),
                )
            )
        if filters.get(name) is not None:
            raise FilterError(
                Text(N_("the column {name} is filtered twice: keep one term for it"), name=name)
            )
        col = table.columns[name]
        term = _parse_range(name, value) if col.numeric else _parse_codes(name, value, len(col.categories))
        filters = filters.with_term(name, term)
    return filters


def _parse_range(name: str, value: str) -> Range:
    lo_text, sep, hi_text = value.partition(RANGE)
    if not sep:
        raise FilterError(
            Text(
                N_(
                    "{name}:{value} is not a range: write {name}:FROM..TO (either end may be left "
                    "out, e.g. {name}:..2)"
                ),
                name=name,
                value=value,
            )
        )
    ends = []
    for t, open_end in ((lo_text, -math.inf), (hi_text, math.inf)):
        t = t.strip()
        try:
            x = float(t) if t else open_end
        except ValueError:
            x = math.nan
        if math.isnan(x) or (t and math.isinf(x)):
            raise FilterError(
                Text(
                    N_(
                        "{name}: “{value}” is not a number: write {name}:FROM..TO with numbers such as 0.5..2"
                    ),
                    name=name,
                    value=t,
                )
            )
        ends.append(x)
    if ends[0] > ends[1]:
        raise FilterError(
            Text(
                N_("{name}:{value} keeps nothing ({lo} is above {hi}): write the smaller end first"),
                name=name,
                value=value,
                lo=lo_text,
                hi=hi_text,
            )
        )
    return Range(*ends)


def _parse_codes(name: str, value: str, n: int) -> Among:
    codes = set()
    for t in (t.strip() for t in value.split(LIST)):
        if not t.isdigit() or int(t) >= n:
            raise FilterError(
                Text(
                    N_(
                        "{name}: “{value}” is not a category's number: write {name}:A,B with numbers "
                        "from 0 to {last}"
                    ),
                    name=name,
                    value=t,
                    last=n - 1,
                )
            )
        codes.add(int(t))
    return Among(frozenset(codes))


# -- the page's charts (components/map_filter) ----------------------------------------------------
def to_json(filters: Filters) -> list:
    """The terms as the page's charts hold them: ``[[name, {"lo": a, "hi": b}], [name, {"codes": [..]}]]``
    in the order they were set (an open end: None)."""
    out = []
    for name, term in filters.terms:
        if isinstance(term, Range):
            out.append(
                [
                    name,
                    {
                        "lo": None if math.isinf(term.lo) else float(term.lo),
                        "hi": None if math.isinf(term.hi) else float(term.hi),
                    },
                ]
            )
        else:
            out.append([name, {"codes": sorted(int(c) for c in term.codes)}])
    return out


def from_json(items, table: Table) -> Filters:
    """The page's terms (:func:`to_json`'s form) -> :class:`Filters`, checked against ``table``; the ends are
    kept as sent (the page rounded them as :func:`rounded` does: rounding again could move them). Raises
    :class:`FilterError` naming what cannot be read."""
    if not isinstance(items, (list, tuple)):
        raise FilterError(f"the charts' terms are a list of [column, term] pairs: got {type(items).__name__}")
    filters = Filters()
    for item in items:
        if not (isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[1], dict)):
            raise FilterError(f"a chart's term is [column, {{lo, hi}} or {{codes}}]: got {item!r}")
        name, spec = item
        col = table.columns.get(name)
        if col is None:
            raise FilterError(f"the charts name no column {name!r}: one of {', '.join(table.columns)}")
        if col.numeric:
            ends = []
            for key, open_end in (("lo", -math.inf), ("hi", math.inf)):
                v = spec.get(key)
                if v is None:
                    ends.append(open_end)
                elif isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                    ends.append(float(v))
                else:
                    raise FilterError(f"{name}: the range's {key} is {v!r}, not a number")
            if ends[0] > ends[1]:
                raise FilterError(
                    f"{name}: the range {ends[0]}..{ends[1]} keeps nothing: the smaller end first"
                )
            term = Range(*ends)
        else:
            codes = spec.get("codes")
            if not isinstance(codes, (list, tuple)) or not all(
                isinstance(c, int) and not isinstance(c, bool) and 0 <= c < len(col.categories) for c in codes
            ):
                raise FilterError(
                    f"{name}: categories are numbers from 0 to {len(col.categories) - 1}: got {codes!r}"
                )
            term = Among(frozenset(codes))
        filters = filters.with_term(name, term)
    return filters
