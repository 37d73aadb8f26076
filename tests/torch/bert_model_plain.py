"""BertModel, with its default pooler (add_pooling_layer=True: dense + tanh on the [CLS] row of
each sequence, modeling_bert.py @ 8ec58104 L737-749), for tests/torch/crosscheck.py: the
forward of bert_plain.py with architectures[0] "BertModel" (no masked-LM head).
"""

from bert_plain import CFG as _BERT_CFG
from bert_plain import STEPS, build, costi_path, known, prepare  # noqa: F401

CFG = dict(_BERT_CFG)
CFG["architectures"] = ["BertModel"]

KNOWN = known(CFG, "", 0)
