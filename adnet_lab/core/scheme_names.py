"""The landmark schemes' names and their curves' names: plain data, no numpy, so that the
configurations (and the command line) can check a scheme or a curve by name.
:mod:`adnet_lab.core.topology` builds the schemes from these names and the release's facts.
"""

from __future__ import annotations

__all__ = ["CURVE_NAMES", "DATASET_SCHEMES", "SCHEME_NAMES"]

#: The datasets (and their landmark schemes) the package reads.
DATASET_SCHEMES = ("wflw", "300w", "cofw")
#: Names accepted by :func:`adnet_lab.core.topology.get_scheme`.
SCHEME_NAMES = ("wflw", "300w", "cofw", "cofw-symmetric")

#: The curves' names per scheme, in the release's edge_info order.
CURVE_NAMES: dict[str, tuple[str, ...]] = {
    "wflw": ("jaw", "left_brow", "right_brow", "nose_bridge", "nose_base",
             "left_eye", "right_eye", "outer_lip", "inner_lip"),
    "300w": ("jaw", "left_brow", "right_brow", "nose_bridge", "nose_base",
             "left_eye", "right_eye", "outer_lip", "inner_lip"),
    "cofw": ("left_brow", "right_brow", "left_eye", "right_eye", "nose",
             "lower_lip", "upper_lip"),
}
