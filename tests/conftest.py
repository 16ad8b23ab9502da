from __future__ import annotations

import json
from pathlib import Path

import pytest

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
