# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2. Inside ADNet: the attention, map by map
#
# ADNet's anisotropic attention module (AAM) predicts, at every
# stack of its hourglass, an **edge map** per facial curve (where the curve runs) and a
# **point map** per landmark (where on the image the landmark might be). Their product (the
# edge map spread to the curve's landmarks, times the point map) is the **attention mask**; the
# heatmap times the mask is the **fused map**, and the soft-argmax reads the landmark off the
# fused map. The paper's claim: the mask responds more *along* the curve than *across* it, so
# the fused map is tight across the curve, where annotators agree, and looser along it.
#
# Here are the shipped models of the demo (16 epochs on synthetic faces, 64 px input, 16 x 16
# maps, two stacks): ADNet, and the baseline, which has no AAM and decodes its heatmap; and,
# trained on exactly the baseline's faces, seed and budget, **AAM alone** (`aam-mw0.1`: AAM
# without ADL), which differs from the baseline only by AAM.

# %% [markdown]
# **Words used here.**
#
# - **landmark**: a named point of the face (98 on WFLW's faces: 33 on the jaw, 9 per brow, 9 on the nose, 8 per eye, 20 on the lips, 2 pupils).
# - **normal**: the direction **across** a facial curve at a landmark: perpendicular to the chord through its two neighbours on the curve; at a curve's open ends (the jaw's and the brows' ends) the chord runs to the one neighbour; on the closed eyes and lips the corners take the chord through their two neighbours like any other point, so at a sharp corner the frame is a compromise (read the corners' numbers with care); the pupils lie on no curve and have none.
# - **tangent**: the direction **along** the curve: the normal turned by 90 degrees. A landmark's error splits into a normal and a tangent part.
# - **inter-ocular distance**: the distance between the outer eye corners: errors are given in percent of it (WFLW's and 300W's normaliser).
# - **labels and truth**: a synthetic face has its **labels** (annotations scattered like annotators', what a benchmark holds) and its **truth** (where the points really are, known only because the faces are made).
# - **heatmap**: a map per landmark (16 x 16 cells here) whose mass says where the landmark is.
# - **soft-argmax**: reading a landmark off its map as the map's weighted mean position.
# - **ADL**: anisotropic direction loss: a loss that weighs the normal part of the error lambda times more than the tangent part (lambda = 1: the baseline's smooth-L1).
# - **AAM**: anisotropic attention module: edge maps per curve and point maps per landmark, multiplied into the heatmaps (the product is the fused map).

# %%
import numpy as np
import pandas as pd
import torch

torch.set_num_threads(2)
pd.set_option("display.precision", 2)
from adnet_lab import FaceAlignmentDataset, SyntheticConfig, generate_faces

faces = generate_faces(200, SyntheticConfig(image_size=128, seed=1000), progress=False)
test_set = FaceAlignmentDataset(faces.records(), "wflw", input_size=64)
print(len(test_set), "synthetic test faces")
from adnet_lab import MapsPanel, load_model, show

adnet, baseline = load_model("adnet-mw0.1-fixed4"), load_model("baseline")

# %% [markdown]
# It opens on face 0 (the first face generated, not chosen for its error) and landmark 8.
# Pick a face and a landmark (0-32: the jaw; 33-50: the brows; 51-59: the nose; 60-75: the
# eyes; 76-95: the lips; 96-97: the pupils, on no curve). Each row is a stack; the cyan cross
# is the landmark each stack decodes.

# %%
maps_panel = MapsPanel(test_set, adnet, baseline, face=0, landmark=8)
show(maps_panel)

# %%
from adnet_lab import predict, variant_words

shipped_predictions = {"baseline": predict(baseline, test_set, progress=False),
                       "adnet-mw0.1-fixed4": predict(adnet, test_set, progress=False)}

# %% [markdown]
# What those maps decode to: the same face and landmark through both models, with the truth,
# the labels and the predictions, and the error against the truth split into its normal and
# tangent parts.

# %%
from adnet_lab import FacePanel, show

face = 0
landmark = 8
in_image = {variant_words(name): np.stack([test_set.to_image_pixels(i, points)  # image pixels
                                          for i, points in enumerate(predictions.pred_px)])
            for name, predictions in shipped_predictions.items()}
faces_panel = FacePanel(faces.images, faces.true_landmarks, in_image, labels=faces.landmarks,
                        face=face, landmark=landmark)
show(faces_panel)

# %% [markdown]
# ## AAM's claim, measured against the right reference
#
# The claim is about the *mask*: multiplying the heatmap by it should leave a map tight
# **across** the curve and looser **along** it. Two comparisons test it without mixing up two
# different models:
#
# 1. **ADNet's fused map against its own heatmap before the mask**: the same model on the same
#    face, so the only difference is the mask.
# 2. **AAM alone against the baseline**: `aam-mw0.1` (AAM with map weight 0.1, no ADL) was
#    trained on exactly the shipped baseline's faces, seed and budget, so the two models differ
#    only by AAM. Its fused map is compared with the baseline's heatmap (what each decodes).
#
# For every test face and landmark on a curve, each map's standard deviation is measured
# **about the true landmark** (not about the model's own decoded point) **across and along
# the true curve** (the chord through the landmark's two neighbours; at a curve's open ends,
# the jaw's and brows' ends, the chord to the one neighbour), in percent of the inter-ocular
# distance (`adnet_lab.true_frame_spreads`). Per curve the maps are compared face by face; a
# face whose two values differ by less than 0.1% of the inter-ocular distance is a **tie**,
# counted apart, never as a win. The interval is a 95% bootstrap interval over the 200
# faces.

# %%
from adnet_lab import spread_comparison, spread_comparison_in_words, true_frame_spreads

aam_alone = load_model("aam-mw0.1")
truth_set = FaceAlignmentDataset(faces.records(truth=True), "wflw", input_size=64)
maps = {name: true_frame_spreads(model, truth_set)
        for name, model in (("ADNet", adnet), ("AAM alone", aam_alone), ("baseline", baseline))}
own = spread_comparison(maps["ADNet"]["fused"], maps["ADNet"]["heatmap"], "wflw")
spread_comparison_in_words(own, "fused map", "own heatmap")

# %%
alone = spread_comparison(maps["AAM alone"]["fused"], maps["baseline"]["heatmap"], "wflw")
spread_comparison_in_words(alone, "AAM alone", "baseline")


# %%
# NBVAL_CHECK_OUTPUT
def counts(table):
    narrower = int((table["across_change_high"] < 0).sum())
    elongated = int((table["elongation_change_low"] > 0).sum())
    less = int((table["elongation_change_high"] < 0).sum())
    return narrower, elongated, less


for words, table in (("ADNet's fused map against its own heatmap", own),
                     ("AAM alone against the baseline", alone)):
    narrower, elongated, less = counts(table)
    print(f"{words}: narrower across the curve on {narrower} of {len(table)} curves "
          f"({-table['across_change_percent'].max():.0f}% to "
          f"{-table['across_change_percent'].min():.0f}%); more elongated along it on "
          f"{elongated}, less on {less}; faces tied across: "
          f"{int(table['across_ties'].sum())} of {int(table[['narrower', 'across_ties', 'wider']].sum().sum())}")

# %% [markdown]
# The same comparisons on the three study seeds (study `aam-alone`, and ADNet from study
# `cause`: 16 epochs, 500 unseen test faces per seed; `docs/ablation.md`): per curve the
# change of the SD across the curve (bars: mean over seeds, whiskers: the seeds' range) and
# the elongation of the two maps.

# %%
from pathlib import Path

from adnet_lab import plot_spread_comparisons

seeds = pd.read_csv(Path("../docs/ablation/aam_spreads_summary.csv"))
plot_spread_comparisons(seeds);

# %%
# NBVAL_CHECK_OUTPUT
for comparison, rows in seeds.groupby("comparison", sort=False):
    print(f"{comparison}: narrower across on {int((rows['seeds_narrower'] == rows['seeds']).sum())} "
          f"of {len(rows)} curves on every seed, more elongated on every seed on "
          f"{int((rows['seeds_more_elongated'] == rows['seeds']).sum())}")

# %% [markdown]
# **What holds and what does not.** *Holds:* the mask makes the map the landmark is read
# from much tighter **across** the curve. ADNet's fused map is about half as wide across as its
# own heatmap on every curve and every face, and AAM alone is a third to a half narrower across
# than the baseline, on every curve. *Holds against the model's own heatmap, only partly
# against the baseline:* the fused map is **more elongated along** the curve. Against its own
# heatmap the mask stretches every curve's maps, the jaw's clearly (the first table's last
# columns), the others' a little; against the baseline, AAM alone is more elongated on the jaw,
# the left brow and the lips, but *less* on the right brow, the nose and the eyes. *Does not
# hold:* a mask that leaves the map loose along the curve. The fused maps are narrower along
# the curve too: the mask tightens in every direction, more across than along. On the three
# study seeds (figure above) the narrowing holds on every curve and seed; against the baseline
# the stretch holds on every seed only on the jaw, the left brow and the inner lip, and turns
# round on every seed on the nose bridge and the left eye (`docs/ablation.md`, study
# `aam-alone`).
