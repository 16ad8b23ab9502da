"""Synthetic rendering: pinned checksums and the sampled-style / drawing split.

The package ships weights trained on these images, so generation must stay reproducible bit
for bit. The checksums below were computed with the rendering code as it was before it was
split into a sampled :class:`FaceStyle` and deterministic drawing functions. A sha256 of the
whole image buffer changes if a single pixel (a single byte) changes, so any change to the
drawing, or to the order of the random draws, fails here. They depend on numpy's generator
streams and on Pillow's rasteriser: update them only on purpose, after checking the change.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from adnet_lab.core.topology import get_scheme
from adnet_lab.data.splines import sample_curve_splines
from adnet_lab.data.synthetic import (
    FaceStyle,
    SyntheticConfig,
    draw_face,
    generate_faces,
    random_face_shapes,
    render_face,
    sample_face_style,
)


def _sha256(array: np.ndarray) -> str:
    return hashlib.sha256(array.tobytes()).hexdigest()


PINNED = [
    pytest.param(
        6, {"scheme": "wflw", "image_size": 64, "seed": 3},
        {"images": "594f2952883196ff65c315ece007781711a526643e17c838d8719e2a2a314b56",
         "landmarks": "0598815a816efc133bf10c7182e6013b32ce013603fb9bfe41fa2a8c3c5f7cb0",
         "true_landmarks": "5a159a9e30b700f67209327a1169e2a73ea7d8b79683406a95ab8dd74cbc8221",
         "occluded": "ac610e9449a5f5b4a678e715ba48b324e531604448de4227fafd9e143d406f20"},
        [0, 16, 17, 25, 0, 0],
        [[], ["occlusion"], ["expression", "occlusion"], ["illumination", "occlusion"],
         ["pose"], []],
        id="wflw-64-seed3"),
    # occlusion_prob=1.0: every face takes the occluder path (and two are blurred).
    pytest.param(
        4, {"scheme": "wflw", "image_size": 128, "seed": 1000, "occlusion_prob": 1.0},
        {"images": "7d98d456a1cc533a83117d8adabbfd8889e363e16e8958a11e8a96be770c44f7",
         "landmarks": "87072cc9e6703ccab0ed7abc4d1781e47511cb03eb0fa72f1d3bcd2a1b49191c",
         "true_landmarks": "9525de7a7df5a3cf2afa0d1b469dc8fc33ed6a55b4d3c1c60c80570e82d8e779",
         "occluded": "ea8a492ba8c4bf1d0c939dc33ffc349ddd87fbcecb1ce34ec208489ded60c710"},
        [15, 16, 17, 32],
        [["occlusion"], ["blur", "illumination", "occlusion"], ["blur", "occlusion"],
         ["expression", "occlusion", "pose"]],
        id="wflw-128-seed1000-occluded"),
    # 300W: open brows (drawn as lines, WFLW's are filled polygons), no pupils.
    pytest.param(
        4, {"scheme": "300w", "image_size": 96, "seed": 7},
        {"images": "10dee41be15c7b26fe37abf4a57aa3f02215b889c13c112b87f63e1fc8c2f265",
         "landmarks": "2e4e32dfbef8d7247378e0050bb7e1897b56ef791d5c24c40cdc943e4de9ffc4",
         "true_landmarks": "d0f9100148281460d5354825cc5744796041e8830466d1ab65c0b16436ed2483",
         "occluded": "e4d879a3407de578f579dfab4366fcea75a6649c683d9efe4f056f6505437574"},
        [0, 0, 0, 0],
        [["blur"], ["expression", "illumination"], [], ["expression", "illumination"]],
        id="300w-96-seed7"),
]


@pytest.mark.parametrize(("count", "settings", "digests", "occluded_counts", "tags"), PINNED)
def test_generation_is_pinned(count, settings, digests, occluded_counts, tags):
    faces = generate_faces(count, SyntheticConfig(**settings), progress=False)
    # Any changed pixel, coordinate or flag changes its sha256.
    assert _sha256(faces.images) == digests["images"]
    assert _sha256(faces.landmarks) == digests["landmarks"]
    assert _sha256(faces.true_landmarks) == digests["true_landmarks"]
    assert _sha256(faces.occluded) == digests["occluded"]
    assert faces.occluded.sum(axis=1).tolist() == occluded_counts
    assert [sorted(face_tags) for face_tags in faces.tags] == tags


# ------------------------------------------------------------------------ style and drawing

def _face(scheme_name: str = "wflw", size: int = 96, seed: int = 0):
    """Dense curves and true landmarks of one random face, as generation makes them."""
    scheme = get_scheme(scheme_name)
    shapes, _ = random_face_shapes(scheme, 1, size, np.random.default_rng(seed))
    curves = {curve.name: sample_curve_splines(
                  torch.from_numpy(shapes[:, list(curve.indices)]), curve.closed, 8,
                  spacing="knots").numpy()[0]
              for curve in scheme.curves}
    return scheme, curves, shapes[0]


def _style(seed: int, size: int = 96, occlusion_prob: float = 1.0) -> FaceStyle:
    return sample_face_style(np.random.default_rng(seed), size, 98, occlusion_prob)


def test_same_seed_same_style():
    first, second = _style(11), _style(11)
    assert first == second
    assert np.array_equal(first.noise, second.noise)
    assert first != _style(12)
    assert first.occluder is not None and _style(11, occlusion_prob=0.0).occluder is None


def test_style_is_frozen():
    style = _style(3)
    with pytest.raises(AttributeError):
        style.noise_std = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        style.noise[0, 0, 0] = 0.0


@pytest.mark.parametrize("scheme_name", ["wflw", "300w"])
def test_drawing_is_deterministic(scheme_name):
    scheme, curves, landmarks = _face(scheme_name)
    style = _style(5)
    image, occluded = draw_face(curves, landmarks, scheme, style)
    again, occluded_again = draw_face(curves, landmarks, scheme, style)
    assert image.shape == (96, 96, 3) and image.dtype == np.uint8
    assert np.array_equal(image, again) and np.array_equal(occluded, occluded_again)
    assert style == _style(5)  # drawing leaves the style alone


def test_render_face_is_sample_then_draw():
    scheme, curves, landmarks = _face()
    rng = np.random.default_rng(21)
    image, occluded, tags = render_face(curves, landmarks, scheme, 96, 0.5, rng)
    replay = np.random.default_rng(21)
    style = sample_face_style(replay, 96, len(landmarks), 0.5)
    expected, expected_occluded = draw_face(curves, landmarks, scheme, style)
    assert np.array_equal(image, expected) and np.array_equal(occluded, expected_occluded)
    assert tags == style.tags()
    # Drawing takes no random numbers: both generators are at the same point.
    assert rng.random() == replay.random()
