"""Found porting the udacity/deep-learning-v2-pytorch GAN notebooks (gan-mnist, dcgan-svhn,
cycle-gan, project-face-generation): their training loops keep ``samples.append(G(fixed_z))``
-- an op's result, built outside ``no_grad`` -- and ``pkl.dump(samples, f)`` at the end. torch
pickles such a tensor as a leaf (``requires_grad`` kept, no graph); this library pickled its
``grad_fn`` and, through the saved inputs, every weight behind it."""
import copy
import io
import pickle

import numpy as np

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F


def _generator_output():
    tg.manual_seed(0)
    G = nn.Sequential(nn.Linear(16, 256), nn.LeakyReLU(0.2), nn.Linear(256, 256))
    z = tg.from_numpy(np.random.RandomState(0).uniform(-1, 1, (4, 16))).float()
    return G, F.tanh(G(z))


def test_pickled_op_result_is_a_leaf_without_the_graph():
    G, out = _generator_output()
    assert out.grad_fn is not None
    blob = pickle.dumps([out])
    # the weights behind it (16*256 + 256*256 floats, ~280 kB) are not in the pickle
    assert len(blob) < len(pickle.dumps([out.detach()])) + 2000
    back = pickle.loads(blob)[0]
    assert back.is_leaf and back.grad_fn is None
    assert back.requires_grad                      # torch keeps the flag
    np.testing.assert_array_equal(back.detach().numpy(), out.detach().numpy())
    back.sum().backward()                          # a leaf of its own: its grad is ones
    np.testing.assert_array_equal(back.grad.numpy(), np.ones((4, 256), np.float32))
    assert G[0].weight.grad is None


def test_save_load_of_samples_list_and_views():
    G, out = _generator_output()
    buf = io.BytesIO()
    tg.save({"samples": [out, out[0]]}, buf)
    assert len(buf.getvalue()) < 20000
    buf.seek(0)
    s = tg.load(buf)["samples"]
    assert all(t.is_leaf and t.grad_fn is None for t in s)
    np.testing.assert_array_equal(s[1].numpy(), out[0].detach().numpy())


def test_leaf_and_parameter_pickle_unchanged_and_deepcopy_keeps_the_graph():
    G, out = _generator_output()
    w = pickle.loads(pickle.dumps(G[0].weight))
    assert type(w) is nn.Parameter and w.requires_grad and w.is_leaf
    np.testing.assert_array_equal(w.detach().numpy(), G[0].weight.detach().numpy())
    c = copy.deepcopy(out)                         # this library's deepcopy: graph copied
    assert c.grad_fn is not None and c is not out
    np.testing.assert_array_equal(c.detach().numpy(), out.detach().numpy())
