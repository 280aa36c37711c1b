"""The curve codec gives back every value exactly: whole Wh as int32, anything else as float64."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from smartoa.metering import codec

energies = st.one_of(
    st.floats(min_value=0, max_value=1e7),
    st.just(float("nan")),
    st.integers(min_value=0, max_value=10**9).map(lambda wh: wh / 1000),
)


@settings(deadline=None)  # exactness is tested, not speed: a loaded machine must not fail it
@given(hnp.arrays(np.float64, st.integers(0, 400), elements=energies))
def test_round_trip_is_exact(kwh):
    wh = codec.as_wh(kwh)
    blob = codec.encode(wh if wh is not None else kwh)
    back = codec.decode(blob, kwh.size)
    assert back.dtype == np.float64 and back.shape == kwh.shape
    assert np.array_equal(np.isnan(back), np.isnan(kwh))
    assert np.array_equal(back[~np.isnan(back)], kwh[~np.isnan(kwh)])


def test_whole_watt_hours_take_the_compact_codec():
    kwh = np.array([0.0, 1.234, np.nan, 2_000_000.0, 0.001])
    wh = codec.as_wh(kwh)
    assert wh.tolist() == [0, 1234, -1, 2_000_000_000, 1]
    assert codec.encode(wh)[0] == codec.WH_INT32
    assert codec.as_wh(np.array([0.0005])) is None  # finer than 1 Wh
    assert codec.as_wh(np.array([3_000_000.0])) is None  # beyond int32 Wh
    assert codec.encode(np.array([0.0005]))[0] == codec.KWH_FLOAT64


def test_a_month_of_night_zeros_compresses():
    month = np.zeros(8640, dtype=np.int32)
    month[100:200] = 12_345
    assert len(codec.encode(month)) < 1_000 < month.nbytes


def test_unknown_codec_is_refused():
    with pytest.raises(ValueError, match="codec 9"):
        codec.decode(b"\x09abc", 1)
