"""normal_ / uniform_ (Tensor methods and nn.init) draw straight into a tensor's own buffer when
it can take them (host float32 / float64, C-contiguous): the same values as drawing a fresh array
and copying it in (the path every other layout takes), the generator left in the same state,
and the memory written in place (views and from_numpy arrays see the draws)."""
import numpy as np
import pytest

import tensorgan as tg

FILLS = [
    ("normal_", lambda w, g: w.normal_(0.5, 0.02, generator=g)),
    ("uniform_", lambda w, g: w.uniform_(-0.3, 0.7, generator=g)),
    ("init.normal_", lambda w, g: tg.nn.init.normal_(w, 0.1, 0.3, generator=g)),
    ("init.uniform_", lambda w, g: tg.nn.init.uniform_(w, -2.0, 3.0, generator=g)),
]


@pytest.mark.parametrize("name, fill", FILLS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_direct_draws_equal_the_copied_ones(name, fill, dtype):
    direct, copied = tg.empty(6, 5, dtype=dtype), tg.empty(5, 6, dtype=dtype).t()   # C / F order
    g1, g2 = tg.Generator().manual_seed(7), tg.Generator().manual_seed(7)
    fill(direct, g1)
    fill(copied, g2)
    np.testing.assert_array_equal(direct.numpy(), copied.numpy())
    assert g1.state_dict_form() == g2.state_dict_form()
    if name.endswith("normal_"):
        assert abs(float(direct.numpy().std()) - (0.02 if name == "normal_" else 0.3)) < 0.2
    else:
        low, high = (-0.3, 0.7) if name == "uniform_" else (-2.0, 3.0)
        assert direct.numpy().min() >= low and direct.numpy().max() < high


@pytest.mark.parametrize("name, fill", FILLS)
def test_the_memory_is_written_in_place(name, fill):
    a = np.zeros((4, 3), dtype=np.float32)
    t = tg.from_numpy(a)
    view = t[1:3]
    fill(t, tg.Generator().manual_seed(1))
    assert np.shares_memory(t.numpy(), a) and (a != 0).all()
    np.testing.assert_array_equal(view.numpy(), a[1:3])


def test_float16_and_a_tracked_result_still_take_the_copy_path():
    w = tg.empty(3, 4, dtype="float16")
    w.normal_(generator=tg.Generator().manual_seed(2))
    ref = tg.empty(3, 4, dtype="float32")
    ref.normal_(generator=tg.Generator().manual_seed(2))             # drawn in float32, then cast
    np.testing.assert_array_equal(w.numpy(), ref.numpy().astype(np.float16))
    x = tg.ones(3, requires_grad=True) * 2
    x.uniform_(generator=tg.Generator().manual_seed(3))              # a graph op (Overwrite)
    x.sum().backward()
    assert x.grad_fn is not None


def test_a_leaf_that_requires_grad_is_refused_before_any_draw():
    p = tg.zeros(3, requires_grad=True)
    g = tg.Generator().manual_seed(4)
    before = g.state_dict_form()
    with pytest.raises(tg.errors.AutogradError):
        p.normal_(generator=g)
    assert g.state_dict_form() == before and p.tolist() == [0.0, 0.0, 0.0]
