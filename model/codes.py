"""Integer codes for key columns, so the plan's tables join, group and sort on int64 arrays.

Why: on a 80k-flow plan a DataFrame.merge, a MultiIndex or an np.lexsort over Python strings
costs tens of milliseconds each, the same work on codes a millisecond; and turning an object
array of 80k strings into pandas' `str` column costs ~25 ms where taking from its few distinct
values costs ~2 ms. Codes here are *ranks*: code order is the values' sort order (Python's string
order, as sort_values and np.lexsort on the strings), so sorting codes sorts the strings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.formulation.sets import index_codes


def rank_codes(*arrays) -> tuple[list[np.ndarray], np.ndarray]:
    """One shared, sorted vocabulary for several arrays of the same kind of key (e.g. origins and
    destinations): (int64 codes per array, -1 for a missing value; the sorted distinct values).
    An argument may be an already coded array as (codes, its vocabulary): only the vocabulary is
    then merged (what makes memoised flow codes cheap to join with a few rule or recipe keys)."""
    local = [a if isinstance(a, tuple) else pd.factorize(a if isinstance(a, pd.Series) else np.asarray(a, dtype=object))
             for a in arrays]
    parts = [np.asarray(u, dtype=object) for _, u in local]
    vocab = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=object)
    out = []
    for (codes, _), u in zip(local, parts, strict=True):
        rank = np.searchsorted(vocab, u).astype(np.int64) if len(u) else np.zeros(0, dtype=np.int64)
        out.append(np.where(codes >= 0, rank[np.maximum(codes, 0)] if len(rank) else -1, -1).astype(np.int64))
    return out, vocab


def int_codes(*arrays) -> tuple[list[np.ndarray], np.ndarray]:
    """rank_codes for integer keys (periods): codes into the sorted distinct values; an argument
    may be (codes, sorted vocabulary) as for rank_codes."""
    pairs = [a if isinstance(a, tuple) else (None, np.asarray(a, dtype=np.int64)) for a in arrays]
    parts = [np.asarray(v, dtype=np.int64) for _, v in pairs]
    vocab = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
    out = []
    for codes, v in pairs:
        at = np.searchsorted(vocab, np.asarray(v, dtype=np.int64)).astype(np.int64)
        out.append(at if codes is None else at[codes])
    return out, vocab


def text_column(vocab: np.ndarray, codes: np.ndarray,
                values: np.ndarray | None = None) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """vocab[codes] (-1: blank) as the column pandas would infer from that object array, built by
    taking from the few distinct values (pandas' `str` dtype) when every value is a string;
    otherwise `values` (the column as it is) or vocab[codes], for pandas to infer as before."""
    vocab = np.asarray(vocab, dtype=object)
    if len(codes) and len(vocab) and all(isinstance(v, str) for v in vocab):
        return pd.array(vocab, dtype="str").take(np.asarray(codes, dtype=np.int64), allow_fill=True)
    if values is not None:
        return values
    return vocab[codes] if len(vocab) else np.full(len(codes), None, dtype=object)


@dataclass(frozen=True)
class FlowCodes:
    """The flows' keys as rank codes: origin and destination share one vocabulary (countries)."""

    origin: np.ndarray
    destination: np.ndarray
    commodity: np.ndarray
    period: np.ndarray
    countries: np.ndarray
    commodities: np.ndarray
    periods: np.ndarray

    def country_pair(self, name: str, at: np.ndarray | slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """(codes, vocabulary) of origin or destination, for rank_codes."""
        return getattr(self, name)[at], self.countries

    def commodity_pair(self, at: np.ndarray | slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        return self.commodity[at], self.commodities

    def period_pair(self, at: np.ndarray | slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        return self.period[at], self.periods


def flow_codes(flows: pd.DataFrame) -> FlowCodes:
    """Rank codes of a flows key table (origin, destination, commodity, period)."""
    (o, d), countries = rank_codes(flows["origin"], flows["destination"])
    (k,), commodities = rank_codes(flows["commodity"])
    (t,), periods = int_codes(flows["period"])
    return FlowCodes(o, d, k, t, countries, commodities, periods)


def index_flow_codes(ix) -> FlowCodes:
    """The Index's flows as rank codes: the sets' own (model/formulation/sets.py Codes, whose
    vocabularies are sorted names and T, so their codes are ranks too), not computed again."""
    ic = index_codes(ix)
    fl, codes = ic.flows, ic.codes
    return FlowCodes(fl.o, fl.d, fl.k, fl.t, codes.country, codes.commodity, codes.periods)
