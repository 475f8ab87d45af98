"""'Did you mean ...?' for a code or name the workbook does not know.

Why Damerau-Levenshtein and case folding: the typos analysts make are swapped letters ('AGR' for
'ARG'), a letter too many or too few ('AUSS') and the wrong case ('usa'); plain difflib ratios
rank 'GBR' above 'ARG' for 'AGR' and give 'usa' nothing. rapidfuzz computes the distance in C++,
so even a sheet with a million unknown codes gets its suggestions quickly.
"""

from __future__ import annotations

from collections.abc import Iterable


def closest(value: object, known: Iterable[object]) -> str | None:
    """The known code or name nearest to `value`, or None when nothing is close.

    A difference of case alone always matches. Otherwise the edit distance (insertions,
    deletions, substitutions and swaps of two neighbouring letters, case ignored) may be at most
    a third of the value's length, and at least 1. Ties go to the candidate that also matches
    case more closely, then to the first in sorted order, so the answer never depends on order.
    """
    text = str(value)
    candidates = sorted({str(k) for k in known} - {text})
    if not candidates or not text:
        return None
    from rapidfuzz import process  # only when a value is unknown: a valid workbook never loads it
    from rapidfuzz.distance import DamerauLevenshtein

    folded = text.casefold()
    cutoff = max(1, len(text) // 3)
    found = process.extract(folded, candidates, scorer=DamerauLevenshtein.distance, processor=str.casefold,
                            score_cutoff=cutoff, limit=None)
    if not found:
        return None
    best = min(score for _, score, _ in found)
    tied = [choice for choice, score, _ in found if score == best]
    return min(tied, key=lambda c: (DamerauLevenshtein.distance(text, c), c))


def did_you_mean(value: object, known: Iterable[object]) -> str:
    """'; did you mean 'X'?' (with a note when only the case differs), or ''."""
    hint = closest(value, known)
    if hint is None:
        return ""
    if hint.casefold() == str(value).casefold():
        return f"; did you mean '{hint}'? (codes and names are case-sensitive)"
    return f"; did you mean '{hint}'?"
