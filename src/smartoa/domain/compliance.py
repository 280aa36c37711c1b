"""Compliance of realised curves with consignes, on dense contract × step arrays. Pure numpy.

Rules (PRODUCT.md §7):

- an **episode** is a maximal run of stop steps (consigne value > 0) on a contract's step axis; the axis spans
  consecutive days, so an episode across midnight is one episode;
- its first and last 5-minute steps are **neutralised** (ramp-down, ramp-up), every other step is **checked**;
  an episode of one or two steps has no checked step;
- a checked step **breaches** when its energy exceeds the allowed energy:
  ``(1 − value) × installed energy per step + tolerance`` — for a full stop (value 1.0) that is the tolerance
  alone; a fractional value (offshore limitation) allows that share of the installed power;
- the tolerance per step is ``tolerance_kwh``, or, when ``tolerance_percent`` > 0, that percentage of the
  installed energy per step (``P_MW × 1000 / 12`` kWh);
- a checked step without data (NaN) is **missing**: neither compliant nor breaching, counted apart.

Energies: ``energy_checked_kwh`` sums the data present on checked steps (the energy injected during the stop,
reported as ``energy_during_stop_kwh``); ``energy_neutralised_kwh`` sums the neutralised steps apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike

STEPS_PER_HOUR = 12


def installed_step_kwh(power_mw: ArrayLike) -> np.ndarray:
    """Energy of a step at full installed power: P (MW) × 1000 / 12 kWh."""
    return np.asarray(power_mw, dtype=np.float64) * 1000.0 / STEPS_PER_HOUR


def tolerance_per_step(step_kwh: np.ndarray, tolerance_kwh: float = 0.0, tolerance_percent: float = 0.0) -> np.ndarray:
    """Tolerance in kWh per step for each contract: a percentage of installed power if > 0, else a fixed kWh."""
    step_kwh = np.asarray(step_kwh, dtype=np.float64)
    if tolerance_percent < 0 or tolerance_kwh < 0:
        raise ValueError("a tolerance cannot be negative")
    if tolerance_percent > 0:
        return step_kwh * (tolerance_percent / 100.0)
    return np.full(step_kwh.shape, float(tolerance_kwh))


@dataclass(frozen=True)
class Episodes:
    """One entry per episode, sorted by contract row then start step. Steps are grid indices; ``end`` is
    exclusive. ``open_start``/``open_end``: the run touches the grid's edge, so it may extend beyond it."""

    row: np.ndarray
    start: np.ndarray
    end: np.ndarray
    checked: np.ndarray
    breach: np.ndarray
    missing: np.ndarray
    energy_checked_kwh: np.ndarray
    energy_neutralised_kwh: np.ndarray
    excess_kwh: np.ndarray
    open_start: np.ndarray
    open_end: np.ndarray

    def __len__(self) -> int:
        return int(self.row.size)


class Evaluation:
    """Per-step masks (contract × step) and the episode table.

    The masks are built on first use from the stop steps' flat indices (``flat_stop``, sorted) and their flags:
    a month of 10,000 contracts has ~3 % stop steps, so the run works on those only (``counts_per_day``)."""

    def __init__(
        self,
        stop: np.ndarray,
        flat_stop: np.ndarray,
        step_neutral: np.ndarray,
        step_breach: np.ndarray,
        step_missing: np.ndarray,
        episodes: Episodes,
    ):
        self.stop = stop
        self.flat_stop = flat_stop
        self.step_neutral = step_neutral
        self.step_breach = step_breach
        self.step_missing = step_missing
        self.episodes = episodes

    def _mask(self, flags: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.stop.shape, dtype=bool)
        mask.ravel()[self.flat_stop[flags]] = True
        return mask

    @cached_property
    def neutralised(self) -> np.ndarray:
        return self._mask(self.step_neutral)

    @cached_property
    def checked(self) -> np.ndarray:
        return self._mask(~self.step_neutral)

    @cached_property
    def breach(self) -> np.ndarray:
        return self._mask(self.step_breach)

    @cached_property
    def missing(self) -> np.ndarray:
        return self._mask(self.step_missing)

    def counts_per_day(self, day_starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``per_day`` of the checked, breach and missing masks (contract × day each), from the stop steps."""
        rows, n = self.stop.shape
        n_days = len(day_starts) - 1
        if n == 0:
            empty = np.zeros((rows, 0), dtype=np.int64)
            return empty, empty, empty
        counts: np.ndarray = np.diff(np.asarray(day_starts, dtype=np.int64))
        day_of_step = np.repeat(np.arange(n_days, dtype=np.int64), counts)
        key = (self.flat_stop // n) * n_days + day_of_step[self.flat_stop % n]

        def count(flags: np.ndarray) -> np.ndarray:
            return np.bincount(key[flags], minlength=rows * n_days).reshape(rows, n_days).astype(np.int32)

        return count(~self.step_neutral), count(self.step_breach), count(self.step_missing)


def evaluate(energy: np.ndarray, stop: np.ndarray, step_kwh: np.ndarray, tolerance: np.ndarray) -> Evaluation:
    """Check every step of ``energy`` (contract × step, kWh, NaN = missing) against ``stop`` (consigne value
    per step, 0 = no stop) with ``step_kwh`` and ``tolerance`` per contract (kWh per step)."""
    energy = np.asarray(energy, dtype=np.float64)
    if energy.shape != stop.shape or energy.ndim != 2:
        raise ValueError("energy and stop must be arrays of the same shape contract × step")
    n = energy.shape[1]
    # Work on the flat indices of stop steps only (a small share of the grid). A run of stop steps is cut at
    # each contract's row end: it starts where the previous step is not a stop or the row begins.
    flat_stop = np.flatnonzero(stop > 0)
    column = flat_stop % n
    first = np.ones(flat_stop.size, dtype=bool)
    first[1:] = flat_stop[1:] != flat_stop[:-1] + 1
    first |= column == 0
    last = np.ones(flat_stop.size, dtype=bool)
    last[:-1] = first[1:]
    last |= column == n - 1
    is_neutral = first | last
    is_checked = ~is_neutral
    row_of = flat_stop // n
    # Consigne values may come as float32: round back to 6 decimals (0.6 stays 0.6).
    value = np.round(stop.ravel()[flat_stop].astype(np.float64), 6)
    allowed = (1.0 - value) * np.asarray(step_kwh, np.float64)[row_of] + np.asarray(tolerance, np.float64)[row_of]
    values = energy.ravel()[flat_stop]
    present = ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        excess = values - allowed
        step_breach = is_checked & (excess > 0)
    step_missing = is_checked & ~present

    episode_of = np.cumsum(first) - 1
    starts = flat_stop[first]
    ends = flat_stop[last] + 1
    count = starts.size

    def total(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        if not count:
            return np.zeros(0)
        if weights is None:
            return np.bincount(episode_of[mask], minlength=count)
        return np.bincount(episode_of, weights=np.where(mask, weights, 0.0), minlength=count)

    episodes = Episodes(
        row=(starts // n).astype(np.int64),
        start=starts % n,
        end=(ends - 1) % n + 1,
        checked=total(is_checked).astype(np.int64),
        breach=total(step_breach).astype(np.int64),
        missing=total(step_missing).astype(np.int64),
        energy_checked_kwh=total(is_checked & present, values),
        energy_neutralised_kwh=total(is_neutral & present, values),
        excess_kwh=total(step_breach, excess),
        open_start=(starts % n) == 0,
        open_end=((ends - 1) % n) == n - 1,
    )
    return Evaluation(stop, flat_stop, is_neutral, step_breach, step_missing, episodes)


def per_day(mask: np.ndarray, day_starts: np.ndarray) -> np.ndarray:
    """Counts of true steps per contract and day (contract × day) for days laid out by ``day_starts``."""
    if mask.shape[1] == 0:
        return np.zeros((mask.shape[0], 0), dtype=np.int64)
    return np.add.reduceat(mask, np.asarray(day_starts[:-1], dtype=np.intp), axis=1, dtype=np.int32)
