"""Output fidelity without labels: how close the candidate's outputs are to the reference's.

Design notes: ``docs/design-notes.md``, section ``pytest_edgegate/accuracy/fidelity.py``.
"""

from __future__ import annotations

import math

import numpy as np

#: Ceiling of every SQNR figure, in dB (identical tensors get exactly this).
MAX_SQNR_DB = 140.0


def sqnr_db(signal: float, noise: float) -> float:
    """``10 log10(signal / noise)`` clamped to ``[-MAX_SQNR_DB, MAX_SQNR_DB]``."""
    if math.isnan(signal) or math.isnan(noise) or math.isinf(noise):
        return -MAX_SQNR_DB  # a non-finite candidate value is as bad as it gets
    if noise <= 0.0:
        return MAX_SQNR_DB
    if signal <= 0.0:
        return -MAX_SQNR_DB
    return max(-MAX_SQNR_DB, min(MAX_SQNR_DB, 10.0 * math.log10(signal / noise)))


class PowerAccumulator:
    """Signal and noise power of one tensor pair over many batches: the per-layer SQNR."""

    def __init__(self) -> None:
        self.signal = 0.0
        self.noise = 0.0

    def update(self, cand: np.ndarray, ref: np.ndarray) -> None:
        r = ref.reshape(-1).astype(np.float64)
        d = cand.reshape(-1).astype(np.float64) - r
        self.add(_sum_squares(r), _sum_squares(d))

    def add(self, signal: float, noise: float) -> None:
        self.signal += signal
        self.noise += noise

    @property
    def sqnr_db(self) -> float:
        return sqnr_db(self.signal, self.noise)


class FidelityAccumulator:
    """Candidate-vs-reference output fidelity over the batches seen so far."""

    def __init__(self, classifier: bool | None) -> None:
        """``classifier``: ``True``/``False`` if the metric says, ``None`` to decide from
        the output's shape (``[samples, classes >= 2]`` is a classifier)."""
        self.classifier = classifier
        self.power = PowerAccumulator()
        self.samples = 0
        self.elements = 0
        self.cos_sum = 0.0
        self.abs_sum = 0.0
        self.abs_max = 0.0
        self.agree = 0

    def update(self, cand: np.ndarray, ref: np.ndarray) -> None:
        """Add one batch of the selected output of both models (same shape)."""
        n = ref.shape[0]
        c = cand.reshape(n, -1).astype(np.float64)
        r = ref.reshape(n, -1).astype(np.float64)
        d = c - r  # once: the noise must not come from cancelling large sums
        self.power.add(_sum_squares(r), _sum_squares(d))
        np.abs(d, out=d)
        self.elements += d.size
        self.abs_sum += float(d.sum())
        if d.size:
            self.abs_max = max(self.abs_max, float(d.max()))
        dot = np.einsum("ij,ij->i", c, r)
        norms = np.sqrt(np.einsum("ij,ij->i", c, c) * np.einsum("ij,ij->i", r, r))
        cos = np.where(norms > 0, dot / np.where(norms > 0, norms, 1.0), 0.0)
        cos[~np.any(c, axis=1) & ~np.any(r, axis=1)] = 1.0
        self.cos_sum += float(cos.sum())
        self.samples += n
        if self.classifier is None:
            self.classifier = ref.ndim == 2 and ref.shape[1] >= 2
        if self.classifier:
            # [samples, classes], or [samples, 1, ..., classes] as a top-k metric accepts it
            self.agree += int((c.argmax(axis=1) == r.argmax(axis=1)).sum())

    def figures(self) -> dict[str, float | None]:
        """``cosine``, ``sqnr_db``, ``max_abs_err``, ``mean_abs_err``, ``top1_agreement``."""
        if not self.samples:
            return dict.fromkeys(
                ("cosine", "sqnr_db", "max_abs_err", "mean_abs_err", "top1_agreement")
            )
        return {
            "cosine": self.cos_sum / self.samples,
            "sqnr_db": self.power.sqnr_db,
            "max_abs_err": self.abs_max,
            "mean_abs_err": self.abs_sum / self.elements if self.elements else 0.0,
            "top1_agreement": self.agree / self.samples if self.classifier else None,
        }


def _sum_squares(a: np.ndarray) -> float:
    """Sum of squares in float64, without BLAS: its threads would compete with the children
    for the cores (and ``np.vdot`` copies a 2-D array first)."""
    flat = a.reshape(-1)
    return float(np.einsum("i,i->", flat, flat))
