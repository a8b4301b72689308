"""Atom names inside a residue: element symbol plus a running number per element (C1, C2, H1, ...)."""

from collections import Counter
from typing import Iterable


def atom_names(symbols: Iterable[str]) -> list[str]:
    """Unique atom names for the element ``symbols`` of one residue, in order (at most 4 chars)."""
    seen: Counter[str] = Counter()
    names = []
    for symbol in symbols:
        seen[symbol] += 1
        names.append(f"{symbol.upper()}{seen[symbol]}")
    if any(len(name) > 4 for name in names):
        raise ValueError("a residue has more than 999 atoms of one element; split it")
    return names
