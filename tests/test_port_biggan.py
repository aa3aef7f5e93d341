"""Ports of ajbrock/BigGAN-PyTorch (SN layers with their own power iteration, ccbn / myBN with
manual running stats, the state-dict EMA) and data-efficient-gans' DiffAugment: the torch
semantics those programs rely on, checked from first principles (no torch import)."""
import copy

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.errors import AutogradError


def test_state_dict_values_share_the_modules_memory():
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    m.register_buffer("u0", tg.zeros(1, 2))
    sd = m.state_dict()
    assert not sd["0.weight"].requires_grad
    with tg.no_grad():                    # BigGAN's ema: target_dict[key].data.copy_(...)
        sd["0.weight"].data.copy_(tg.ones(2, 3))
        sd["u0"].copy_(tg.full((1, 2), 3.0))
    sd["1.num_batches_tracked"].copy_(tg.tensor(7))
    assert np.all(m[0].weight.numpy() == 1) and np.all(m.u0.numpy() == 3)
    assert int(m[1].num_batches_tracked) == 7
    opt = tg.optim.SGD(m.parameters(), lr=1.0)   # later optimizer steps show through, as torch's
    m(tg.ones(4, 3)).sum().backward()
    opt.step()
    np.testing.assert_array_equal(sd["0.bias"].numpy(), m[0].bias.numpy())
    snap = copy.deepcopy(m.state_dict())         # a snapshot is a deepcopy / clone
    with tg.no_grad():
        m[0].bias.add_(1.0)
    np.testing.assert_array_equal(snap["0.bias"].numpy() + 1, m[0].bias.numpy())


def test_biggan_state_dict_ema_with_start_itr():
    src, tgt = nn.Linear(4, 3), nn.Linear(4, 3)
    src_d, tgt_d = src.state_dict(), tgt.state_dict()
    with tg.no_grad():
        for k in src_d:
            tgt_d[k].data.copy_(src_d[k].data)
    np.testing.assert_array_equal(tgt.weight.numpy(), src.weight.numpy())

    def update(itr, start_itr=2, decay=0.5):
        d = 0.0 if itr and itr < start_itr else decay
        with tg.no_grad():
            for k in src_d:
                tgt_d[k].data.copy_(tgt_d[k].data * d + src_d[k].data * (1 - d))

    with tg.no_grad():
        src.weight.add_(2.0)
    update(1)                                     # before start_itr: pegged to the source
    np.testing.assert_allclose(tgt.weight.numpy(), src.weight.numpy())
    before = tgt.weight.numpy().copy()
    with tg.no_grad():
        src.weight.add_(4.0)
    update(3)
    np.testing.assert_allclose(tgt.weight.numpy(), 0.5 * before + 0.5 * src.weight.numpy(), rtol=1e-6)


def _my_bn_step(buf, x, momentum=0.1):
    """BigGAN's myBN: stored_mean[:] = stored_mean * (1 - m) + mean * m, in the forward."""
    mean = x.mean(0)
    buf[:] = buf * (1 - momentum) + mean * momentum
    return (x - mean).pow(2).sum()


def test_buffer_written_with_a_graph_value_while_a_state_dict_alias_lives():
    m = nn.Module()
    m.register_buffer("stored_mean", tg.zeros(3))
    sd = m.state_dict()                          # holds stored_mean.detach()
    x = tg.tensor(np.arange(12.0).reshape(4, 3), dtype=tg.float32, requires_grad=True)
    _my_bn_step(m.stored_mean, x).backward()     # grad mode (G's step): torch's CopySlices
    np.testing.assert_allclose(sd["stored_mean"].numpy(), [0.45, 0.55, 0.65], rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), 2 * (x.numpy() - x.numpy().mean(0)), rtol=1e-6)
    with tg.no_grad():                           # then a D step / eval under no_grad
        _my_bn_step(m.stored_mean, x.detach())
    np.testing.assert_allclose(m.stored_mean.numpy(), [0.855, 1.045, 1.235], rtol=1e-6)
    np.testing.assert_array_equal(sd["stored_mean"].numpy(), m.stored_mean.numpy())
    m.stored_mean[:] = 0                         # myBN.reset_stats, grad mode on
    assert np.all(sd["stored_mean"].numpy() == 0)


def test_graph_writes_still_refused_where_torch_would_differ():
    buf = tg.zeros(3)
    view = buf[:2]                               # a view (not a detach alias) that is alive
    y = tg.ones(3, requires_grad=True)
    buf[:] = y * 2                               # as torch's: the live view's graph follows
    view.sum().backward()                        # (tests/test_inplace_views22.py)
    np.testing.assert_allclose(y.grad.numpy(), [2, 2, 0])
    del view
    x = tg.ones(3, requires_grad=True)
    e = x.exp()                                  # exp saved its output for backward
    with tg.no_grad(), pytest.raises(AutogradError, match="would change values its graph saved"):
        e[:] = 0


def test_no_grad_write_into_a_graph_result_is_caught_by_the_version_check():
    x = tg.ones(3, requires_grad=True)
    t = x * 3.0
    u = (t * t).sum()                            # saved t for backward
    with tg.no_grad():
        t[:] = 0                                 # allowed, as in torch ...
    assert np.all(t.numpy() == 0)
    with pytest.raises(AutogradError):           # ... and the graph that saved t refuses
        u.backward()


def test_pickle_and_deepcopy_of_aliased_tensors():
    import pickle
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    sd = m.state_dict()                          # .detach() aliases: weak references in the box
    view = m[0].weight[:1]                       # and a live view
    back = pickle.loads(pickle.dumps(sd))
    assert list(back) == list(sd)
    np.testing.assert_array_equal(back["0.weight"].numpy(), m[0].weight.detach().numpy())
    w = pickle.loads(pickle.dumps(m[0].weight))
    assert isinstance(w, nn.Parameter) and w.requires_grad
    snap = copy.deepcopy(sd)
    snap["0.bias"].add_(1.0)                     # a copy, no alias of the model
    np.testing.assert_allclose(snap["0.bias"].numpy() - 1.0, m[0].bias.detach().numpy(), atol=1e-6)
    assert view.shape == (1, 2)
