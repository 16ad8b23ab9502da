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
# # 4. CED curves and checks against the paper
#
# **What can and cannot be compared.** The shipped models were trained for 16 epochs on
# synthetic faces (64 px crops, 16 x 16 maps), and their errors here are measured on synthetic
# test faces. Their NME is **not comparable** with the paper's WFLW 4.14: other faces, other
# images, other annotations, a quarter of the resolution and a thirtieth of the training. What
# carries over is *relative*: ADNet against the baseline on the same faces, the normal against
# the tangent error. The paper's own numbers are checked another way: the package evaluates
# the **released checkpoint** on the real WFLW test set with the same code (last section).

# %% [markdown]
# **Words used here.**
#
# - **normal**: the direction **across** a facial curve at a landmark: perpendicular to the chord through its two neighbours on the curve; at a curve's open ends (the jaw's and the brows' ends) the chord runs to the one neighbour; on the closed eyes and lips the corners take the chord through their two neighbours like any other point, so at a sharp corner the frame is a compromise (read the corners' numbers with care); the pupils lie on no curve and have none.
# - **tangent**: the direction **along** the curve: the normal turned by 90 degrees. A landmark's error splits into a normal and a tangent part.
# - **inter-ocular distance**: the distance between the outer eye corners: errors are given in percent of it (WFLW's and 300W's normaliser).
# - **labels and truth**: a synthetic face has its **labels** (annotations scattered like annotators', what a benchmark holds) and its **truth** (where the points really are, known only because the faces are made).
# - **NME**: normalised mean error: an image's mean landmark error in percent of the inter-ocular distance.
# - **RMS**: root mean square: the typical size of an error part over faces and landmarks.
# - **CED**: cumulative error distribution: the share of images with an NME below each value.
# - **AUC@10**: the area under the CED up to an NME of 10%, divided by 10% (1: every image perfect).
# - **FR@10**: failure rate: the share of images whose NME exceeds 10%.
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
from adnet_lab import (
    evaluate_predictions,
    get_scheme,
    load_model,
    paper_layout,
    predict,
    summarize,
    variant_words,
)

shipped_predictions = {name: predict(load_model(name), test_set, progress=False)
                       for name in ("baseline", "adnet-mw0.1-fixed4")}
tables = {name: evaluate_predictions(p) for name, p in shipped_predictions.items()}

# %% [markdown]
# The shipped models on the synthetic test faces, against the labels, in the paper's layout
# (NME, FR@10 and AUC@10 in percent, inter-ocular):

# %%
# NBVAL_CHECK_OUTPUT
shipped = pd.concat({variant_words(name): paper_layout(summarize(table))[["test"]]
                     for name, table in tables.items()}, axis=1).round(2)
shipped.index.name = "measure"
shipped

# %% [markdown]
# A **CED** (cumulative error distribution) gives, for every NME on its x axis, the share of
# test faces whose NME is smaller: the higher and further left the curve, the better.
# **AUC@10** is the area under it up to an NME of 10% (as a percentage of the largest possible
# area; higher is better), **FR@10** the share of faces whose NME exceeds 10% (the failure
# rate). Pick the models to show; no published point belongs on this figure, the faces being
# synthetic:

# %%
from adnet_lab import ComparisonPanel, show

panel = ComparisonPanel({name: table["nme_inter_ocular"].to_numpy()
                         for name, table in tables.items()},
                        title="The shipped models on the synthetic test faces, against the "
                              "labels", distance="inter-ocular distance")
show(panel)

# %% [markdown]
# **The CED's tail, on a face**: the baseline's worst test face (the right end of its
# curve), through both models, zoomed on the baseline's largest error on a curve.

# %%
from adnet_lab import FacePanel, show

face = int(tables["baseline"]["nme_inter_ocular"].to_numpy().argmax())
landmark = int(np.nanargmax(np.where(get_scheme('wflw').on_curve_mask(), np.hypot(*(shipped_predictions['baseline'].pred_px[face] - shipped_predictions['baseline'].gt_px[face]).T), np.nan)))
in_image = {variant_words(name): np.stack([test_set.to_image_pixels(i, points)  # image pixels
                                          for i, points in enumerate(predictions.pred_px)])
            for name, predictions in shipped_predictions.items()}
faces_panel = FacePanel(faces.images, faces.true_landmarks, in_image, labels=faces.landmarks,
                        face=face, landmark=landmark)
show(faces_panel)

# %% [markdown]
# ## The paper's tables
#
# The published numbers ship with the package (`adnet_lab.core.reference`). WFLW, inter-ocular,
# per subset, NME, FR@10 and AUC@10 (percent):

# %%
# NBVAL_CHECK_OUTPUT
from adnet_lab import paper_table, reported

methods = ["ADNet", "STAR", "AWing", "LAB"]
pd.concat({metric.removesuffix("_percent").replace("10", "@10"):
           paper_table("WFLW", metric).reindex(methods)[["test"]]
           for metric in ("NME_percent", "FR10_percent", "AUC10_percent")}, axis=1)

# %%
# NBVAL_CHECK_OUTPUT
paper_table("300W").loc[["ADNet", "STAR"]]

# %%
# NBVAL_CHECK_OUTPUT
print("ADNet WFLW test NME:", reported("ADNet", "WFLW", "test"), "%",
      "| 300W full:", reported("ADNet", "300W", "full"), "%",
      "| COFW test (inter-pupil):", reported("ADNet", "COFW", "test"), "%")

# %% [markdown]
# ## Any method's predictions, through the same lens (reviewers)
#
# Give the test set's annotations and the prediction files of the methods you compare (the
# line format of the public code bases, `.npy` / `.npz`, CSV long or wide, a folder of `.pts`;
# image pixels; `name=path` names a method) and press **Analyze**: their CEDs, their NME and
# the normal / tangent decomposition. A file that does not fit the annotations is reported
# with its line and problem. It starts on the shipped example (`data/examples/`: 32 synthetic
# faces, the shipped models' predictions in every format); `adnet-lab analyze` writes the full
# tables, the paired tests and a report.

# %%
from adnet_lab import AnalyzePanel

analyze_panel = AnalyzePanel()
show(analyze_panel)

# %% [markdown]
# ## Re-checking the released checkpoint (reviewers)
#
# 1. Put WFLW in `data/WFLW` (layout in `data/README.md`) and the release's WFLW checkpoint at
#    `checkpoints/ADNet_WFLW.pkl` (nothing is downloaded).
# 2. Run the next cell, or `adnet-lab evaluate checkpoints/ADNet_WFLW.pkl --dataset wflw
#    --data data/WFLW --out runs/official_wflw`. The checkpoint is read with
#    `weights_only=True` (EMA weights by default) and the crops use the release's input
#    convention (BGR, (x - 127.5) / 127.5, 256 px).
# 3. The cell puts the paper's test-set numbers beside the ones computed here and draws the
#    CED with the point the paper's failure rate fixes (the share of images below an NME of
#    10%). Without the files it shows the paper's column alone and says what is missing.

# %%
from pathlib import Path

from adnet_lab import ced_points, plot_ced

checkpoint, data = Path("../checkpoints/ADNet_WFLW.pkl"), Path("../data/WFLW")
paper = pd.Series([reported("ADNet", "WFLW", "test", f"{metric}_percent")
                   for metric in ("NME", "FR10", "AUC10")],
                  index=["NME (%)", "FR@10 (%)", "AUC@10 (%)"], name="paper")
missing = [str(path) for path in (checkpoint, data) if not path.exists()]
if not missing:
    from adnet_lab import open_split

    model = load_model(checkpoint, scheme="wflw")
    official = FaceAlignmentDataset(open_split("wflw", data, "test"), "wflw", 256)
    release = evaluate_predictions(predict(model, official))
    here = paper_layout(summarize(release))["test"]
    print(pd.DataFrame({"paper": paper, "computed here": here}).round(2))
    plot_ced({"ADNet release checkpoint": release["nme_inter_ocular"].to_numpy()},
             reported=ced_points("ADNet", "WFLW"),
             title="The released checkpoint on the WFLW test set",
             distance="inter-ocular distance");
else:
    print(pd.DataFrame({"paper": paper, "computed here": "needs " + " and ".join(missing)}))
