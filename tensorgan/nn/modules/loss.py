"""``torch.nn.modules.loss``: the loss modules and their base classes ``_Loss`` and
``_WeightedLoss``."""
from ..loss import *  # noqa: F401,F403
from ..loss import _Loss, _WeightedLoss  # noqa: F401
from .. import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss,  # noqa: F401
                NLLLoss)
