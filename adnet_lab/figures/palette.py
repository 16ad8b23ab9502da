"""Every colour the package's figures give a meaning to, in one place, with its word.

A colour means one thing: the part of an error across the curve (**normal**) is blue and the
part along it (**tangent**) orange in every figure; the truth, the labels and a prediction
have a colour of their own. The colours are seaborn's colour-blind-safe ``"colorblind"``
palette (Okabe and Ito's), each pair of face colours distinguishable with any common colour
vision deficiency.

:data:`COLOUR_WORDS` names each colour in words, so that a text (a title, a legend, a
notebook) names the colour its figure shows by reading it instead of repeating it.

Example:
    >>> f"{COLOUR_WORDS['normal']}: normal, {COLOUR_WORDS['tangent']}: tangent"
    'blue: normal, orange: tangent'
"""

from __future__ import annotations

import zlib

import seaborn as sns

__all__ = ["COLOURS", "COLOUR_WORDS", "FACE_COLOURS", "LABEL_KIND_COLOURS", "LOSS_COLOURS",
           "MEASURE_COLOURS", "VARIANT_COLOURS", "VARIANT_COLOUR_WORDS", "VERDICT_COLOURS",
           "colour_word", "variant_colour"]

_RGB = sns.color_palette("colorblind")
_PALETTE = _RGB.as_hex()

#: Meaning -> colour. The face colours (``normal`` to ``curve``) are all different; the
#: verdict colours (``lower``, ``higher``, ``no difference``) share none with them.
COLOURS: dict[str, str] = {
    "normal": _PALETTE[0],          # blue: the error's part across the curve
    "tangent": _PALETTE[1],         # orange: the error's part along the curve
    "truth": _PALETTE[2],           # green: where the landmarks really are
    "label": _PALETTE[3],           # vermilion: the annotations (labels)
    "prediction": _PALETTE[4],      # pink: a model's prediction (and its errors' spread)
    "error": "#000000",             # black, dashed: an error whole (truth to prediction)
    "curve": "#999999",             # grey: a facial curve drawn on a blank background
    "curve_on_image": "#ffffff",    # white: a facial curve drawn over a face image
    "lower": _PALETTE[9],           # light blue: significantly lower than the baseline
    "higher": "#a6611a",            # brown: significantly higher than the baseline
    "no difference": _PALETTE[7],   # grey: no significant difference
    "mark": "#00ffff",              # cyan: what a caption points at over a colour map
}

#: Meaning -> the colour's name in words (for titles, legends and texts).
COLOUR_WORDS: dict[str, str] = {
    "normal": "blue", "tangent": "orange", "truth": "green", "label": "red",
    "prediction": "pink", "error": "black", "curve": "grey", "curve_on_image": "white",
    "lower": "light blue", "higher": "brown", "no difference": "grey", "mark": "cyan",
}


def colour_word(meaning: str) -> str:
    """The word for the colour of ``meaning`` (a key of :data:`COLOURS`).

    Example:
        >>> colour_word("truth")
        'green'
    """
    return COLOUR_WORDS[meaning]


#: Colours of the points and arrows on a face, the same in every face figure.
FACE_COLOURS: dict[str, str] = {name: COLOURS[name] for name in
                                ("truth", "label", "prediction", "normal", "tangent", "error")}

#: Colours of the verdicts of a paired test against the baseline.
VERDICT_COLOURS: dict[str, str] = {name: COLOURS[name]
                                   for name in ("lower", "higher", "no difference")}

#: Colours of the validation measures in the training curves: the NME is the whole error.
MEASURE_COLOURS: dict[str, str] = {"val_nme_percent": COLOURS["error"],
                                   "val_normal_rms_percent": COLOURS["normal"],
                                   "val_tangent_rms_percent": COLOURS["tangent"]}

#: Colours of the training losses in order (the total, then each term), none a face colour:
#: dark grey, light blue, brown, grey.
LOSS_COLOURS: tuple[str, ...] = ("#404040", _PALETTE[9], "#a6611a", _PALETTE[7])

#: One colour per variant, the same in every figure: the baseline always dark grey, the
#: package's recipe blue, the release's recipe vermilion (other variants:
#: :func:`variant_colour`). A separate family: figures of variants show no face colours.
VARIANT_COLOURS: dict[str, tuple[float, float, float] | str] = {
    "baseline": "#404040", "adnet-mw0.1-fixed4": _RGB[0], "adnet-release": _RGB[3],
    "adl": _RGB[2], "adl-fixed4": "#6a3d9a", "adl-fixed9": _RGB[5],
    "aam-mw0.1": "#17becf", "adnet-mw0.1-fixed9": _RGB[4],
}
#: The named variants' colours in words.
VARIANT_COLOUR_WORDS: dict[str, str] = {
    "baseline": "dark grey", "adnet-mw0.1-fixed4": "blue", "adnet-release": "red",
    "adl": "green", "adl-fixed4": "purple", "adl-fixed9": "brown", "aam-mw0.1": "teal",
    "adnet-mw0.1-fixed9": "pink"}
#: For other variants: none grey (the baseline's), pale, or close to a named one.
_OTHER_COLOURS = (_RGB[1], "#8c564b", "#bcbd22")


def variant_colour(name: str):
    """The colour of a variant (or shipped model) in every figure: :data:`VARIANT_COLOURS`,
    else one of the remaining colours chosen by the name (stable across figures)."""
    if name in VARIANT_COLOURS:
        return VARIANT_COLOURS[name]
    return _OTHER_COLOURS[zlib.crc32(name.encode()) % len(_OTHER_COLOURS)]


#: Colours of the label kinds of the study ``cause``: the default anisotropic labels in the
#: labels' colour, equal scatter purple, noise-free labels in the truth's colour.
LABEL_KIND_COLOURS: dict[str, str] = {"anisotropic": COLOURS["label"], "equal": "#6a3d9a",
                                      "noise-free": COLOURS["truth"]}
