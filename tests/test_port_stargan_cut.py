"""Gaps found porting clovaai/stargan-v2 and taesungp/contrastive-unpaired-translation.

StarGAN v2 builds its per-domain heads with ``self.unshared += [nn.Sequential(...)]`` on an
nn.ModuleList; torch's containers also have ``+`` / ``*`` / ``pop`` and ParameterDict the rest
of dict's methods.
"""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.errors import ConfigError, InputTypeError


class _Heads(nn.Module):
    """StarGAN v2's MappingNetwork pattern: heads appended with ``+=`` in __init__."""

    def __init__(self, num_domains=3):
        super().__init__()
        self.unshared = nn.ModuleList()
        for _ in range(num_domains):
            self.unshared += [nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2))]

    def forward(self, h, y):
        out = tg.stack([layer(h) for layer in self.unshared], dim=1)
        return out[tg.arange(y.shape[0]), y]


def test_modulelist_iadd_registers_modules_and_parameters():
    m = _Heads(3)
    assert len(m.unshared) == 3
    assert len(list(m.parameters())) == 3 * 4
    keys = list(m.state_dict())
    assert keys[:4] == ["unshared.0.0.weight", "unshared.0.0.bias", "unshared.0.2.weight", "unshared.0.2.bias"]
    assert keys[-1] == "unshared.2.2.bias"
    # the gathered head of each row is that row's domain head
    h = tg.tensor(np.random.RandomState(0).randn(4, 4).astype(np.float32))
    y = tg.tensor(np.array([2, 0, 1, 2]))
    s = m(h, y)
    for i, d in enumerate([2, 0, 1, 2]):
        np.testing.assert_allclose(s[i].detach().numpy(), m.unshared[d](h[i:i + 1])[0].detach().numpy(), rtol=1e-5, atol=1e-6)   # float32, batched vs one row: BLAS may sum in another order
    # gradient reaches only the heads that were picked
    m2 = _Heads(3)
    m2(h, tg.tensor(np.array([0, 0, 2, 2]))).sum().backward()
    assert m2.unshared[1][0].weight.grad is None or not np.any(m2.unshared[1][0].weight.grad.numpy())
    assert np.any(m2.unshared[0][0].weight.grad.numpy()) and np.any(m2.unshared[2][0].weight.grad.numpy())


def test_modulelist_iadd_is_in_place_and_type_checked():
    ml = nn.ModuleList([nn.ReLU()])
    same = ml
    ml += (nn.Tanh(), nn.Sigmoid())
    assert ml is same and [type(x) for x in ml] == [nn.ReLU, nn.Tanh, nn.Sigmoid]
    with pytest.raises(InputTypeError):
        ml += [3]


def test_modulelist_add_and_pop():
    a, b, c = nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 2)
    ml = nn.ModuleList([a, b])
    both = ml + [c]
    assert isinstance(both, nn.ModuleList) and both is not ml
    assert list(both) == [a, b, c] and list(ml) == [a, b]
    assert list(both.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert both.pop(1) is b
    assert list(both) == [a, c] and list(both.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert list(both.pop(slice(0, 1))) == [a] and list(both) == [c]


def test_sequential_add_mul_and_in_place_forms():
    l1, act, l2 = nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 3)
    s1, s2 = nn.Sequential(l1, act), nn.Sequential(l2)
    s = s1 + s2
    assert isinstance(s, nn.Sequential) and list(s) == [l1, act, l2] and len(s1) == 2
    x = tg.tensor(np.random.RandomState(1).randn(2, 3).astype(np.float32))
    np.testing.assert_allclose(s(x).detach().numpy(), l2(act(l1(x))).detach().numpy(), rtol=1e-6)

    s1 += s2
    assert list(s1) == [l1, act, l2]

    r = nn.Sequential(l1, act) * 3
    assert list(r) == [l1, act] * 3 and list(2 * nn.Sequential(l1)) == [l1, l1]
    # repeated layers are the same module: shared weights, one parameter each
    assert len(list(r.parameters())) == 2
    np.testing.assert_allclose(r(x).detach().numpy(),
                               act(l1(act(l1(act(l1(x)))))).detach().numpy(), rtol=1e-5)
    s3 = nn.Sequential(l1, act)
    same = s3
    s3 *= 2
    assert s3 is same and list(s3) == [l1, act, l1, act]


def test_sequential_operators_reject_bad_operands():
    s = nn.Sequential(nn.ReLU())
    with pytest.raises(ConfigError, match="Sequential"):
        s + [nn.ReLU()]
    with pytest.raises(ConfigError, match="Sequential"):
        s += nn.ModuleList([nn.ReLU()])
    with pytest.raises(ConfigError, match="positive"):
        s * 0
    with pytest.raises(InputTypeError, match="int"):
        s * 1.5
    with pytest.raises(InputTypeError, match="int"):
        s *= True
    assert len(s) == 1


def test_parameterlist_iadd():
    pl = nn.ParameterList([nn.Parameter(tg.ones(2))])
    same = pl
    pl += [tg.zeros(3), nn.Parameter(tg.ones(1))]
    assert pl is same and len(pl) == 3 and isinstance(pl[1], nn.Parameter)
    assert [p.shape[0] for p in pl] == [2, 3, 1]


def test_parameterdict_dict_methods():
    pa, pb = nn.Parameter(tg.ones(2)), nn.Parameter(tg.zeros(1))
    d = nn.ParameterDict({"a": pa, "b": pb})
    assert d.get("a") is pa and d.get("zz") is None and d.get("zz", 5) == 5
    assert list(reversed(d)) == ["b", "a"]
    c = d.copy()
    assert isinstance(c, nn.ParameterDict) and c is not d and c["a"] is pa
    c.clear()
    assert len(c) == 0 and len(d) == 2 and list(c.parameters()) == []
    assert d.popitem() == ("b", pb) and list(d) == ["a"]
    assert d.pop("a") is pa and len(d) == 0 and list(d.parameters()) == []
    with pytest.raises(KeyError):
        d.popitem()
    q = d.setdefault("q", tg.ones(3))
    assert isinstance(q, nn.Parameter) and d.setdefault("q", tg.zeros(1)) is q
    merged = d | {"r": tg.ones(1)}
    assert isinstance(merged, nn.ParameterDict) and list(merged) == ["q", "r"] and list(d) == ["q"]
    plain = {"s": tg.ones(1)} | d
    assert isinstance(plain, dict) and list(plain) == ["s", "q"]
    d |= {"t": tg.ones(2)}
    assert list(d) == ["q", "t"] and len(list(d.parameters())) == 2
    f = d.fromkeys(["u", "v"], tg.ones(1))
    assert list(f) == ["u", "v"] and isinstance(f["u"], nn.Parameter)
