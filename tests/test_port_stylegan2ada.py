"""Gaps found porting NVlabs/stylegan2-ada-pytorch's pieces that run without its CUDA plugins
(training/augment.py AugmentPipe, torch_utils/ops reference paths, torch_utils/misc.py,
training/networks.py + loss.py at a tiny size). Expected values come from first principles /
NumPy (no torch import)."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F


# -- misc.assert_shape: symbolic_assert = torch._assert ----------------------------------------
def test_assert_raises_assertion_error_with_the_message():
    tg._assert(True, "never")
    tg._assert(tg.tensor(3), "a true one-element tensor passes")
    with pytest.raises(AssertionError, match="Wrong size for dimension 2"):
        tg._assert(False, "Wrong size for dimension 2")
    with pytest.raises(AssertionError, match="zero"):
        tg._assert(tg.tensor(0), "zero")


# -- misc.suppress_tracer_warnings / print_module_summary: torch.jit names ----------------------
def test_jit_tracer_warning_is_a_filterable_warning_category():
    assert issubclass(tg.jit.TracerWarning, Warning)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", category=tg.jit.TracerWarning)
        warnings.warn("shape read", tg.jit.TracerWarning)
        warnings.warn("other", UserWarning)
    assert [str(w.message) for w in seen] == ["other"]


def test_jit_script_module_is_a_module_class_no_scripted_model_is_an_instance_of():
    assert issubclass(tg.jit.ScriptModule, nn.Module)
    model = nn.Linear(2, 2)
    assert tg.jit.script(model) is model
    assert not isinstance(tg.jit.script(model), tg.jit.ScriptModule)
    assert not isinstance(len, tg.jit.ScriptFunction)


# -- misc.profiled_function: torch.autograd.profiler.record_function -----------------------------
def test_autograd_profiler_record_function_is_recorded_by_a_profile():
    import tensorgan.autograd.profiler as legacy
    assert tg.autograd.profiler is legacy
    assert legacy.record_function is tg.profiler.record_function

    def profiled(fn):
        def decorator(*args, **kwargs):
            with tg.autograd.profiler.record_function(fn.__name__):
                return fn(*args, **kwargs)
        return decorator

    double = profiled(lambda x: x * 2)
    assert double(tg.ones(2)).tolist() == [2.0, 2.0]
    with legacy.profile() as prof:
        with legacy.record_function("_upfirdn2d_ref"):
            tg.ones(3).sum()
        with legacy.record_function("_upfirdn2d_ref"):
            pass
    rows = {e.key: e.count for e in prof.key_averages()}
    assert rows == {"_upfirdn2d_ref": 2}
    with legacy.profile(enabled=False) as off:
        with legacy.record_function("x"):
            pass
    assert list(off.key_averages()) == []


# -- AugmentPipe: F.pad(images, pad=[mx0, mx1, my0, my1], mode='reflect') with int32 scalars ----
@pytest.mark.parametrize("mode", ["reflect", "constant", "replicate"])
def test_pad_amounts_may_be_one_element_integer_tensors(mode):
    x = tg.tensor(np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5), requires_grad=True)
    margin = tg.tensor([1.2, 0.1, 2.7, 3.0]).ceil().to(tg.int32)
    mx0, my0, mx1, my1 = margin
    y = F.pad(x, [mx0, mx1, my0, my1], mode=mode)
    np_mode = {"reflect": "reflect", "constant": "constant", "replicate": "edge"}[mode]
    want = np.pad(x.detach().numpy(), [(0, 0), (0, 0), (1, 3), (2, 3)], mode=np_mode)
    np.testing.assert_array_equal(y.detach().numpy(), want)
    y.sum().backward()
    assert x.grad.shape == x.shape and float(x.grad.sum()) == pytest.approx(want.size if mode != "constant" else x.numel())
    assert F.pad(x, [tg.tensor([1]), 0]).shape == (2, 3, 4, 6)


def test_pad_amount_that_is_a_float_or_many_element_tensor_is_refused():
    x = tg.zeros(1, 1, 4, 4)
    for bad in (tg.tensor(1.0), tg.tensor([1, 2]), True):
        with pytest.raises(tg.InputTypeError, match="pad must be a sequence of ints"):
            F.pad(x, [bad, 1, 0, 0])


# -- MinibatchStdLayer: G = torch.min(torch.as_tensor(4), torch.as_tensor(N)); y.repeat(G, 1, H, W)
def test_sizes_may_be_one_element_integer_tensors():
    G = tg.min(tg.as_tensor(4), tg.as_tensor(2))
    y = tg.arange(3.0).reshape(1, 3, 1, 1)
    r = y.repeat(G, 1, 2, 2)
    assert r.shape == (2, 3, 2, 2)
    np.testing.assert_array_equal(r.numpy(), np.tile(y.numpy(), (2, 1, 2, 2)))
    assert y.repeat([G, 1, 1, 1]).shape == (2, 3, 1, 1)
    assert tg.ones(1, 3).expand(G, 3).shape == (2, 3)
    assert tg.ones(1, 3).expand(G, -1).shape == (2, 3)
    assert tg.ones(1).new_zeros(G, 3).shape == (2, 3)
    for bad in (tg.tensor(2.0), tg.tensor([2, 1])):
        with pytest.raises(tg.InputTypeError, match="one-element integer"):
            y.repeat(bad, 1, 1, 1)


def test_tile_takes_its_counts_as_varargs_like_torch_tensor_tile():
    x = tg.arange(6.0).reshape(2, 3)
    want = np.tile(x.numpy(), (2, 1))
    for got in (x.tile(2, 1), x.tile((2, 1)), tg.tile(x, (2, 1)), tg.tile(x, dims=(2, 1))):
        np.testing.assert_array_equal(got.numpy(), want)
    assert x.tile(2).shape == (2, 6)          # fewer counts than dims: ones in front
    with pytest.raises(tg.InputTypeError, match="either positionally or as dims="):
        tg.tile(x, 2, dims=(2,))


# -- loss.py Gpl: pl_mean = self.pl_mean.lerp(pl_lengths.mean(), decay); self.pl_mean.copy_(pl_mean.detach())
def test_writing_a_constant_that_an_add_or_sub_used_does_not_stop_backward():
    """torch checks the version of saved tensors only: add / sub save none, so writing their
    constant (no-grad) input in place before backward is fine there and gives the gradient of
    the values used."""
    x = tg.tensor([1.0, 3.0], requires_grad=True)
    pl_mean = tg.zeros([])
    lengths = x * 2
    m = pl_mean.lerp(lengths.mean(), 0.01)
    pl_mean.copy_(m.detach())
    assert float(pl_mean) == pytest.approx(0.04)
    ((lengths - m).square().sum()).backward()
    xs = np.array([1.0, 3.0])
    mv = 0.01 * xs.sum()
    want = np.array([sum(2 * (2 * xs[i] - mv) * (2 * (i == j) - 0.01) for i in range(2)) for j in range(2)])
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-6)


def test_writing_an_input_that_backward_reads_refuses_backward_and_one_it_does_not_read_is_fine():
    x = tg.tensor([1.0, 3.0], requires_grad=True)
    b = tg.tensor([2.0, 5.0])
    y = x * b                    # mul's backward reads b
    b.mul_(2)
    with pytest.raises(tg.AutogradError, match="modified in place"):
        y.sum().backward()
    # add reads neither input: as torch 2.13, its gradient goes to the values it used
    x = tg.tensor([1.0, 3.0], requires_grad=True)
    h = x * 1.0
    y = h + 1.0                  # h needs a gradient: the write gives h a new history
    h.mul_(2)
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    x = tg.tensor([1.0, 3.0], requires_grad=True)
    buf = tg.zeros(2)
    y = x + buf                  # buf needed no gradient here, but the write makes it tracked
    buf.copy_(x * 3)
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
