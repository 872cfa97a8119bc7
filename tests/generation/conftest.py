"""Token-by-token decoding runs hundreds of tiny ops, so every generation test runs with the
shared `single_thread` fixture (see tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _decode_single_threaded(single_thread):
    yield
