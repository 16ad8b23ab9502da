from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property-based tests (tests/test_fuzz_readers.py): "default" (make test) runs 150 examples
# per test, a few seconds; "long" (HYPOTHESIS_PROFILE=long, make fuzz) runs 2,000.
settings.register_profile("default", max_examples=150, deadline=None)
settings.register_profile("long", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

#: Facts from the official release, copied into the repository (see its README.md).
REFERENCE = Path(__file__).resolve().parent / "reference"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not REFERENCE.is_dir():
        pytest.fail(f"reference data not found at {REFERENCE}")
    return REFERENCE


@pytest.fixture(scope="session")
def official_config(reference_dir: Path) -> dict:
    return json.loads((reference_dir / "official_config.json").read_text())
