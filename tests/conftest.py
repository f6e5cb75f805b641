import os
from pathlib import Path

import pytest


@pytest.fixture
def real_data_dir() -> Path:
    """The folder of real datasets (RNNBOOK_DATA); CI always sets it, so there it never skips."""
    value = os.environ.get("RNNBOOK_DATA")
    if not value:
        if os.environ.get("CI"):
            pytest.fail("RNNBOOK_DATA must name the data folder in CI")
        pytest.skip("RNNBOOK_DATA is not set: no local copy of the datasets to test against")
    return Path(value)
