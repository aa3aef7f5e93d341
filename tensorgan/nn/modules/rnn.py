"""``torch.nn.modules.rnn``: the recurrent layers -- tensorgan.nn's classes under torch's module
path."""
from .. import (  # noqa: F401
    GRU, GRUCell, LSTM, LSTMCell, RNN, RNNBase, RNNCell, RNNCellBase)

__all__ = ['GRU', 'GRUCell', 'LSTM', 'LSTMCell', 'RNN', 'RNNBase', 'RNNCell', 'RNNCellBase']
