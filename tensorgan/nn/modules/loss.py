"""``torch.nn.modules.loss``: the loss modules and their base class ``_Loss``."""
from ..loss import *  # noqa: F401,F403
from ..loss import _Loss  # noqa: F401
from .. import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss,  # noqa: F401
                NLLLoss)
