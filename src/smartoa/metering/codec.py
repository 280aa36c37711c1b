"""Lossless encoding of a stored curve array (a contract-month of 5-minute energies) as bytes.

A blob is one codec byte, then the LZ4 block of the array:

- ``WH_INT32`` (1): little-endian int32 watt-hours, -1 = no data. Used when every value is a whole number of
  Wh (meters and their exports give kWh with 3 decimals): half the bytes of float64, and the runs of zeros
  (nights, stops) and of missing steps compress well.
- ``KWH_FLOAT64`` (2): little-endian float64 kWh, NaN = no data. Used for anything else, so that every value
  comes back exactly as received.

``decode`` always returns float64 kWh with NaN for missing steps.
"""

from __future__ import annotations

import lz4.block
import numpy as np

WH_INT32 = 1
KWH_FLOAT64 = 2
MISSING_WH = -1
MAX_WH = 2**31 - 2
DTYPES = {WH_INT32: np.dtype("<i4"), KWH_FLOAT64: np.dtype("<f8")}


def as_wh(kwh: np.ndarray) -> np.ndarray | None:
    """``kwh`` (float, NaN = missing, no negative) as int32 Wh with -1 for missing; None if any value is not
    an exact whole number of Wh (or too large), so that the conversion would lose something."""
    wh = np.rint(kwh * 1000.0)
    present = ~np.isnan(kwh)
    with np.errstate(invalid="ignore"):
        exact = np.array_equal(wh[present] / 1000.0, kwh[present]) and not (wh[present] > MAX_WH).any()
    if not exact:
        return None
    return np.where(present, wh, MISSING_WH).astype(DTYPES[WH_INT32])


def given(values: np.ndarray) -> np.ndarray:
    """Which steps have data, for either layout (int32 Wh with -1, float64 kWh with NaN)."""
    return values != MISSING_WH if values.dtype == np.int32 else ~np.isnan(values)


def to_kwh(values: np.ndarray) -> np.ndarray:
    """Either layout as float64 kWh with NaN for missing steps (a float64 array is returned as is)."""
    if values.dtype != np.int32:
        return values
    kwh = values / 1000.0
    kwh[values == MISSING_WH] = np.nan
    return kwh


def encode(values: np.ndarray) -> bytes:
    """The blob of ``values``: int32 Wh (-1 = missing) or float64 kWh (NaN = missing); the codec follows the
    dtype, so callers choose (see ``as_wh``)."""
    if values.dtype == np.int32:
        codec = WH_INT32
    elif values.dtype == np.float64:
        codec = KWH_FLOAT64
    else:
        raise TypeError(f"cannot encode {values.dtype} curves")
    data = np.ascontiguousarray(values, dtype=DTYPES[codec])
    return bytes((codec,)) + lz4.block.compress(memoryview(data).cast("B"), store_size=False)


def decode(blob, steps: int) -> np.ndarray:
    """The float64 kWh array (NaN = missing) of ``steps`` values stored in ``blob``."""
    view = memoryview(blob)
    codec = view[0]
    dtype = DTYPES.get(codec)
    if dtype is None:
        raise ValueError(f"unknown curve codec {codec}")
    raw = lz4.block.decompress(view[1:], uncompressed_size=steps * dtype.itemsize)
    array = np.frombuffer(raw, dtype=dtype)
    return array.copy() if codec == KWH_FLOAT64 else to_kwh(array)
