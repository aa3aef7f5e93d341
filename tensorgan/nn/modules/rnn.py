"""``torch.nn.modules.rnn``: the recurrent layers by their torch module path."""
from __future__ import annotations

from .. import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: F401
from ..recurrent import RNNBase, RNNCellBase  # noqa: F401

__all__ = ['RNNBase', 'RNN', 'LSTM', 'GRU', 'RNNCellBase', 'RNNCell', 'LSTMCell', 'GRUCell']
