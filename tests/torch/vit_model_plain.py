"""ViTModel, with its default pooler (add_pooling_layer=True: dense + tanh on the [CLS] row of
each image, modeling_vit.py @ 005db820 L637-649), for tests/torch/crosscheck.py: the forward of
vit_plain.py with architectures[0] "ViTModel" (no classifier, no num_labels).
"""

from vit_plain import CFG as _VIT_CFG
from vit_plain import STEPS, build, known, prepare  # noqa: F401

CFG = {k: v for k, v in _VIT_CFG.items() if k not in ("id2label", "num_labels")}
CFG["architectures"] = ["ViTModel"]

KNOWN = known(CFG, "")
