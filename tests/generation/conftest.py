"""Token-by-token decoding runs hundreds of tiny ops; on a shared 2-core machine intra-op threads
only contend (measured: 2.3 ms/step with one thread vs 86 ms with two under load), so these
tests run single-threaded and restore the setting afterwards."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def single_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
