from __future__ import annotations

import numpy as np
import pytest

from adnet_lab.core.topology import SCHEME_NAMES, get_scheme, mean_face

OFFICIAL = {"wflw": "WFLW", "300w": "300W", "cofw": "COFW"}
SIZES = {"wflw": (98, 9), "300w": (68, 9), "cofw": (29, 7)}


@pytest.mark.parametrize("name", list(OFFICIAL))
class TestScheme:
    def test_cardinality(self, name):
        scheme = get_scheme(name)
        assert (scheme.num_points, scheme.num_curves) == SIZES[name]
        assert scheme.flip_permutation.shape == (scheme.num_points,)
        assert scheme.neighbors.shape == (scheme.num_points, 3)

    def test_curves_match_official_edge_info(self, name, official_config):
        scheme = get_scheme(name)
        official = official_config[OFFICIAL[name]]["edge_info"]
        assert [(c.closed, list(c.indices)) for c in scheme.curves] == [
            (bool(closed), list(ids)) for closed, ids in official]
        assert scheme.num_points == official_config[OFFICIAL[name]]["heads_per_stack"]["heatmaps"]

    def test_flip_pairs_match_official(self, name, official_config):
        scheme = get_scheme(name)
        pairs = official_config[OFFICIAL[name]]["flip_mapping"]
        for i, j in pairs:
            assert scheme.flip_permutation[i] == j and scheme.flip_permutation[j] == i
        paired = {k for pair in pairs for k in pair}
        unpaired = [k for k in range(scheme.num_points) if k not in paired]
        np.testing.assert_array_equal(scheme.flip_permutation[unpaired], unpaired)

    def test_nme_indices_match_official(self, name, official_config):
        scheme = get_scheme(name)
        official = official_config[OFFICIAL[name]]
        pair = (official["nme_left_index"], official["nme_right_index"])
        assert scheme.normalisers[scheme.default_norm] == ((pair[0],), (pair[1],))

    def test_flip_is_involution_and_permutation(self, name):
        permutation = get_scheme(name).flip_permutation
        np.testing.assert_array_equal(np.sort(permutation), np.arange(permutation.size))
        np.testing.assert_array_equal(permutation[permutation], np.arange(permutation.size))

    def test_flip_maps_left_parts_to_right_parts(self, name):
        scheme = get_scheme(name)
        sided = [part for part in scheme.parts if part.startswith("left_")]
        assert sided, "every scheme has left and right parts"
        for part, indices in scheme.parts.items():
            flipped = sorted(scheme.flip_permutation[list(indices)].tolist())
            if part.startswith("left_"):
                assert flipped == sorted(scheme.parts["right_" + part[5:]])
            elif not part.startswith("right_"):
                assert flipped == sorted(indices), part

    def test_left_parts_are_on_the_image_left_of_the_mean_face(self, name):
        scheme, face = get_scheme(name), mean_face(name)
        for part, indices in scheme.parts.items():
            if part.startswith("left_"):
                right = scheme.parts["right_" + part[5:]]
                assert face[list(indices), 0].mean() < face[list(right), 0].mean(), part

    def test_curves_use_valid_indices(self, name):
        scheme = get_scheme(name)
        for curve in scheme.curves:
            assert len(curve.indices) >= 2
            assert len(set(curve.indices)) == len(curve.indices)
            assert all(0 <= i < scheme.num_points for i in curve.indices)

    def test_frozen(self, name):
        scheme = get_scheme(name)
        with pytest.raises(ValueError):
            scheme.flip_permutation[0] = 5
        with pytest.raises(TypeError):
            scheme.parts["jaw"] = (0,)
        with pytest.raises(AttributeError):
            scheme.num_points = 3

    def test_mean_face(self, name):
        face = mean_face(name)
        assert face.shape == (get_scheme(name).num_points, 2)
        assert face.min() >= 0 and face.max() <= 1


def test_official_neighbour_table_known_values():
    table = get_scheme("300w").neighbors
    np.testing.assert_array_equal(table[0], [0, 1, 1])     # open jaw start: both neighbours 1
    np.testing.assert_array_equal(table[16], [16, 15, 15])  # open jaw end
    np.testing.assert_array_equal(table[36], [36, 41, 37])  # closed eye wraps
    np.testing.assert_array_equal(table[8], [8, 7, 9])


def test_point_on_two_curves_keeps_the_last_curve():
    # COFW mouth corners 22/23 lie on the lower lip (22, 26, 23, 27) and the upper lip
    # (22, 24, 23, 25); the release's table keeps the last curve listed.
    table = get_scheme("cofw").neighbors
    np.testing.assert_array_equal(table[22], [22, 25, 24])
    np.testing.assert_array_equal(table[23], [23, 24, 25])


def test_points_on_no_curve():
    assert np.flatnonzero(~get_scheme("wflw").on_curve_mask()).tolist() == [96, 97]
    assert np.flatnonzero(~get_scheme("cofw").on_curve_mask()).tolist() == [16, 17, 28]
    assert get_scheme("300w").on_curve_mask().all()


def test_cofw_eye_asymmetry_is_kept_and_the_symmetric_variant_fixes_it():
    official, symmetric = get_scheme("cofw"), get_scheme("cofw-symmetric")
    eyes = {c.name: c.closed for c in official.curves if c.name.endswith("eye")}
    assert eyes == {"left_eye": True, "right_eye": False}
    assert all(c.closed for c in symmetric.curves if c.name.endswith("eye"))
    np.testing.assert_array_equal(official.flip_permutation, symmetric.flip_permutation)


def test_unknown_scheme():
    with pytest.raises(ValueError, match="unknown landmark scheme 'aflw'"):
        get_scheme("aflw")
    assert set(SCHEME_NAMES) >= set(OFFICIAL)
    assert get_scheme("WFLW") is get_scheme("wflw")


def test_curve_polylines_close_closed_curves():
    scheme = get_scheme("wflw")
    for curve in scheme.curves:
        if curve.closed:
            assert curve.polyline == (*curve.indices, curve.indices[0])
        else:
            assert curve.polyline == curve.indices
    assert any(curve.closed for curve in scheme.curves)
