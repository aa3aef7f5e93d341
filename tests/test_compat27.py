"""Small torch-compatibility items (session 27): node names, None submodules, Upsample's size
check, device reprs.  Expected strings are what torch 2.13 prints for the same program."""
import pytest

import tensorgan as tg
from tensorgan import nn


def test_copy_slices_and_accumulate_grad_names_are_torchs():
    # torch's name() for its hand-written C++ nodes carries the namespace; repr does not.
    x = tg.ones(3, 3, requires_grad=True)
    y = x * 1
    y.diagonal().mul_(2)
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    assert repr(y.grad_fn).startswith("<CopySlices object at ") and "grad_fn=<CopySlices>" in repr(y)
    leaf = y.grad_fn.next_functions[0][0].next_functions[0][0]
    assert leaf.name() == "torch::autograd::AccumulateGrad" and repr(leaf).startswith("<AccumulateGrad ")
    w = tg.ones(3)
    w.copy_(x[0] * 2)
    assert w.grad_fn.name() == "torch::autograd::CopyBackwards" and "grad_fn=<CopyBackwards>" in repr(w)


def test_sequential_keeps_a_none_slot_and_forward_refuses_it():
    seq = nn.Sequential(nn.Linear(2, 2))
    seq.add_module("gap", None)
    seq.register_module("more", None)
    seq.append(nn.ReLU())                       # numbered by length, as torch: "3"
    assert len(seq) == 4 and seq[1] is None and list(seq)[2] is None
    assert list(seq._modules) == ["0", "gap", "more", "3"] and "(gap): None" in repr(seq)
    assert set(seq.state_dict()) == {"0.weight", "0.bias"}
    with pytest.raises(TypeError, match="'gap' is None"):
        seq(tg.ones(1, 2))
    seq.gap, seq.more = nn.Identity(), nn.Tanh()  # filling the slots makes it callable
    assert seq(tg.ones(1, 2)).shape == (1, 2)
    assert nn.Sequential(nn.Linear(2, 2), None)[1] is None
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.Linear(2, 2)).add_module("x", 3)


@pytest.mark.parametrize("reentrant", [True, False])
def test_checkpoint_output_node_names_are_torchs(reentrant):
    from tensorgan.utils.checkpoint import checkpoint
    x = tg.ones(4, 3, requires_grad=True)
    one = checkpoint(lambda t: (t * 2).sin() * 3, x, use_reentrant=reentrant)
    pair = checkpoint(lambda t: (t * 2, t.sin().sum()), x, use_reentrant=reentrant)
    names = [one.grad_fn.name()] + [p.grad_fn.name() for p in pair]
    # torch: the reentrant variant's own node; the non-reentrant one keeps the block's nodes
    assert names == (["CheckpointFunctionBackward"] * 3 if reentrant
                     else ["MulBackward0", "MulBackward0", "SumBackward0"])
    (one.sum() + pair[1]).backward()
    assert one.grad_fn.name() == names[0]        # the name outlives backward, as torch's
    assert (reentrant or repr(one.grad_fn).startswith("<MulBackward0 object at"))
    expected = (6 * (x.detach() * 2).cos() + x.detach().cos()).numpy().sum()
    assert abs(x.grad.numpy().sum() - expected) < 1e-4


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic", "nearest-exact", "area"])
def test_upsample_checks_its_size_when_called_as_torch(mode):
    x = tg.ones(1, 1, 3, 3)
    up = nn.Upsample(size=(2, 0), mode=mode)          # builds, as torch's
    assert "size=(2, 0)" in repr(up)
    if mode == "area":                                # an empty adaptive average pool
        assert up(x).shape == (1, 1, 2, 0)
        assert nn.functional.interpolate(x, scale_factor=0.0, mode=mode).shape == (1, 1, 0, 0)
        return
    with pytest.raises(RuntimeError, match="size must be >= 1"):
        up(x)
    with pytest.raises(RuntimeError, match="scale_factor must be positive"):
        nn.Upsample(scale_factor=-1.0, mode=mode)(x)
    with pytest.raises(ValueError, match="exactly one"):
        nn.Upsample(size=2, scale_factor=2.0, mode=mode)(x)
    with pytest.raises(TypeError, match="size must be one int"):
        nn.Upsample(size=2.5, mode=mode)(x)


def test_device_repr_is_torchs():
    assert repr(tg.device("cpu")) == "device(type='cpu')" and str(tg.device("cpu")) == "cpu"
    assert repr(tg.device("cpu:0")) == "device(type='cpu', index=0)" and str(tg.device("cpu:0")) == "cpu:0"
    def shown(name, *index):      # (", simulated" marks the test suite's stand-in CUDA device)
        return repr(tg.device(name, *index)).replace(", simulated", "")
    assert shown("cuda") == "device(type='cuda')"                       # with or without CUDA
    assert shown("cuda:0") == shown("cuda", 0) == "device(type='cuda', index=0)"
    assert repr(tg.ones(2).device) == "device(type='cpu')"


def test_fill_with_a_zero_dim_tensor_that_requires_grad_passes_its_gradient():
    """torch's FillBackward3: fill_(w) with a 0-d w that requires grad sends w the sum of the
    gradient (it used to be read as a number: a warning, and the gradient silently lost)."""
    import warnings
    w = tg.tensor(2.0, requires_grad=True)
    x = tg.ones(3, requires_grad=True)
    y = x * 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y.fill_(w)
    assert y.grad_fn.name() == "FillBackward3" and y.tolist() == [2.0, 2.0, 2.0]
    (y * tg.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert w.grad.item() == 6.0 and x.grad.tolist() == [0.0, 0.0, 0.0]
    plain = tg.zeros(2)
    assert plain.fill_(tg.tensor(5.0)).tolist() == [5.0, 5.0]
    with pytest.raises(RuntimeError, match="0-dimension"):
        plain.fill_(tg.ones(2))
