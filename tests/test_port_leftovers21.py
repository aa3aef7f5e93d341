"""Small torch-compatibility leftovers (session 21): one-element integer tensors where torch takes
an int, the layers' ``forward(input)`` parameter name, the number operand's edge in
``grad_fn.next_functions``, device / string equality with an index, and a saved ``Size``."""
import inspect
import io

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
import tensorgan.nn.functional as F
from tensorgan.errors import InputTypeError, ShapeError

X = tg.tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))


def _same(a, b):
    if isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b)
        for u, v in zip(a, b):
            _same(u, v)
    elif isinstance(a, tg.Tensor):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    else:
        assert a == b


# 1. A 0-d (or one-element) integer tensor where torch takes an int: the same result as the int
T0, T1, T2 = tg.tensor(0), tg.tensor(1), tg.tensor(2)
INT_ARG_CASES = {
    "narrow_start": (lambda i: X.narrow(1, i, 1), T2, 2),
    "narrow_dim": (lambda i: X.narrow(i, 0, 2), T1, 1),
    "narrow_length": (lambda i: X.narrow(1, 0, i), T2, 2),
    "flatten": (lambda i: X.flatten(i), T1, 1),
    "flatten_end": (lambda i: X.flatten(0, i), T1, 1),
    "movedim": (lambda i: X.movedim(i, 2), T0, 0),
    "movedim_fn": (lambda i: tg.movedim(X, (i, 1), (2, 0)), T0, 0),
    "split_size": (lambda i: X.split(i, 1), T2, 2),
    "split_dim": (lambda i: X.split(1, i), T2, 2),
    "chunk": (lambda i: X.chunk(i, 1), T2, 2),
    "topk": (lambda i: tuple(X.topk(i)), T2, 2),
    "topk_dim": (lambda i: tuple(X.topk(2, dim=i)), T1, 1),
    "kthvalue": (lambda i: tuple(X.kthvalue(i, 1)), T2, 2),
    "roll": (lambda i: X.roll(i, 1), T2, 2),
    "roll_dim": (lambda i: X.roll(1, i), T2, 2),
    "mean_dim": (lambda i: X.mean(dim=i), T1, 1),
    "sum_dim": (lambda i: X.sum(dim=i), T1, 1),
    "sum_one_element": (lambda i: X.sum(dim=i), tg.tensor([1]), 1),
    "sum_dims_tuple": (lambda i: X.sum(dim=(i, 2)), T1, 1),
    "amax": (lambda i: X.amax(i), T2, 2),
    "std": (lambda i: X.std(dim=i), T1, 1),
    "logsumexp": (lambda i: X.logsumexp(i), T1, 1),
    "squeeze": (lambda i: X[:, :1].squeeze(i), T1, 1),
    "flip": (lambda i: X.flip(i), T1, 1),
    "cat": (lambda i: tg.cat([X, X], i), T2, 2),
    "stack": (lambda i: tg.stack([X, X], i), T1, 1),
    "unsqueeze": (lambda i: X.unsqueeze(i), T1, 1),
    "select_dim": (lambda i: X.select(i, 0), T1, 1),
    "select_index": (lambda i: X.select(1, i), T2, 2),
    "transpose": (lambda i: X.transpose(i, 2), T0, 0),
    "permute": (lambda i: X.permute(i, 0, 1), T2, 2),
    "softmax": (lambda i: F.softmax(X, i), T1, 1),
    "cumsum": (lambda i: X.cumsum(i), T1, 1),
    "argmax": (lambda i: X.argmax(dim=i), T1, 1),
    "sort": (lambda i: tuple(X.sort(i)), T1, 1),
    "unbind": (lambda i: X.unbind(i), T1, 1),
    "gather": (lambda i: X.gather(i, tg.zeros(2, 1, 4, dtype=tg.int64)), T1, 1),
    "index_select": (lambda i: X.index_select(i, tg.tensor([2, 0])), T1, 1),
    "unflatten": (lambda i: X.unflatten(i, (2, 2)), T2, 2),
    "diagonal": (lambda i: X.diagonal(i, 1, 2), T1, 1),
    "tril": (lambda i: X.tril(i), T1, 1),
    "unfold": (lambda i: X.unfold(1, i, 1), T2, 2),
    "size": (lambda i: X.size(i), T2, 2),
    "rot90": (lambda i: X.rot90(i, (1, 2)), T1, 1),
    "aminmax": (lambda i: tuple(X.aminmax(dim=i)), T1, 1),
    "view": (lambda i: X.view(i, -1), T2, 2),
    "zeros": (lambda i: tg.zeros(i, 3), T2, 2),
    "arange": (lambda i: tg.arange(i), T2, 2),
    "linspace": (lambda i: tg.linspace(0, 1, i), T2, 2),
    "logspace": (lambda i: tg.logspace(0, 1, i), T2, 2),
    "eye": (lambda i: tg.eye(i), T2, 2),
    "tril_indices": (lambda i: tg.tril_indices(i, 3), T2, 2),
}


@pytest.mark.parametrize("name", sorted(INT_ARG_CASES))
def test_one_element_integer_tensor_reads_as_its_int(name):
    call, as_tensor, as_int = INT_ARG_CASES[name]
    _same(call(as_int), call(as_tensor))


def test_randperm_and_multinomial_take_a_tensor_count():
    assert tg.randperm(tg.tensor(5)).shape == (5,)
    assert tg.ones(4).multinomial(tg.tensor(3)).shape == (3,)


@pytest.mark.parametrize("call", [lambda: X.sum(dim=tg.tensor(1.0)), lambda: X.unsqueeze(tg.tensor(1.0)),
                                  lambda: X.narrow(1, tg.tensor(0.0), 1), lambda: X.flatten(tg.tensor([0, 1])),
                                  lambda: X.select(1, tg.tensor(True)), lambda: X.topk(tg.tensor(2.0))])
def test_float_bool_or_many_element_tensors_are_still_refused(call):
    with pytest.raises((InputTypeError, ShapeError)):
        call()


def test_out_of_range_tensor_dim_is_named_as_its_int():
    with pytest.raises(ShapeError, match="out of range"):
        X.flatten(tg.tensor(3))
    with pytest.raises(ShapeError, match="out of range"):
        X.sum(dim=tg.tensor(5))


# 2. torch's layers take forward(self, input): m(input=x) works
@pytest.mark.parametrize("make, shape", [
    (lambda: nn.ReLU(), (2, 3)), (lambda: nn.Tanh(), (2, 3)), (lambda: nn.Sigmoid(), (2, 3)),
    (lambda: nn.LeakyReLU(0.2), (2, 3)), (lambda: nn.Softmax(1), (2, 3)), (lambda: nn.Identity(), (2, 3)),
    (lambda: nn.Linear(3, 2), (2, 3)), (lambda: nn.Conv2d(1, 2, 3), (1, 1, 4, 4)),
    (lambda: nn.ConvTranspose2d(1, 2, 3), (1, 1, 4, 4)), (lambda: nn.BatchNorm1d(3), (2, 3)),
    (lambda: nn.LayerNorm(3), (2, 3)), (lambda: nn.Dropout(0.0), (2, 3)), (lambda: nn.Flatten(), (2, 3, 1)),
    (lambda: nn.Unflatten(1, (3, 1)), (2, 3)), (lambda: nn.ZeroPad2d(1), (1, 1, 2, 2)),
    (lambda: nn.ReflectionPad2d(1), (1, 1, 2, 2)), (lambda: nn.Upsample(scale_factor=2), (1, 1, 2, 2)),
    (lambda: nn.PixelShuffle(2), (1, 4, 2, 2)), (lambda: nn.Unfold(2), (1, 1, 3, 3)),
    (lambda: nn.MaxPool2d(2), (1, 1, 4, 4)), (lambda: nn.AdaptiveAvgPool2d(1), (1, 1, 4, 4)),
    (lambda: nn.GroupNorm(1, 2), (1, 2, 3)), (lambda: nn.InstanceNorm2d(2), (1, 2, 3, 3)),
    (lambda: nn.Sequential(nn.Linear(3, 3), nn.ReLU()), (2, 3)),
])
def test_layers_take_input_as_a_keyword(make, shape):
    m = make().eval()
    x = tg.tensor(np.random.default_rng(0).standard_normal(shape).astype(np.float32))
    assert list(inspect.signature(type(m).forward).parameters)[1] == "input"
    _same(m(x), m(input=x))


def test_embedding_and_adaptive_softmax_forward_names():
    emb = nn.Embedding(5, 2)
    idx = tg.tensor([1, 3])
    _same(emb(idx), emb(input=idx))
    asm = nn.AdaptiveLogSoftmaxWithLoss(4, 6, [2])
    x, y = tg.zeros(3, 4), tg.tensor([0, 3, 5])
    assert list(inspect.signature(type(asm).forward).parameters)[1:] == ["input_", "target_"]
    _same(asm(x, y).loss, asm(input_=x, target_=y).loss)


def test_shape_errors_name_the_input_after_the_rename():
    with pytest.raises(ShapeError, match=r"\(2, 5\)"):
        nn.GroupNorm(1, 3)(tg.zeros(2, 5))


# 3. torch wraps the number of x + 2, x * 2, x - 2, x / 2: an edge (None, 0) of its own
@pytest.mark.parametrize("op, name", [(lambda x: x * 2, "MulBackward0"), (lambda x: 2 * x, "MulBackward0"),
                                      (lambda x: x + 2, "AddBackward0"), (lambda x: 2.5 + x, "AddBackward0"),
                                      (lambda x: x - 2, "SubBackward0"), (lambda x: x / 2, "DivBackward0"),
                                      (lambda x: tg.add(x, 2, alpha=3), "AddBackward0"),
                                      (lambda x: x.mul(np.float32(2)), "MulBackward0")])
def test_number_operand_is_a_next_functions_entry(op, name):
    x = tg.ones(3, requires_grad=True)
    fn = op(x).grad_fn
    assert fn.name() == name
    (acc, i0), (none, i1) = fn.next_functions
    assert acc.name() == "torch::autograd::AccumulateGrad" and acc.variable is x and none is None and i0 == i1 == 0


@pytest.mark.parametrize("op, name", [(lambda x: x ** 2, "PowBackward0"), (lambda x: 2 - x, "RsubBackward1"),
                                      (lambda x: -x, "NegBackward0")])
def test_ops_taking_the_number_as_a_scalar_have_one_entry(op, name):
    x = tg.ones(3, requires_grad=True)
    fn = op(x).grad_fn
    assert fn.name() == name and len(fn.next_functions) == 1


def test_rsub_values_and_gradient():
    x = tg.tensor([1.0, -2.0], requires_grad=True)
    y = 1 - x
    np.testing.assert_array_equal(y.detach().numpy(), [0.0, 3.0])
    assert not np.signbit(y.detach().numpy()[0])       # 1 - 1 = +0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, -1.0])
    _same(1 - tg.tensor([3, 4]), tg.tensor([-2, -3]))


def test_node_hook_sees_and_returns_one_gradient_per_entry():
    x = tg.ones(3, requires_grad=True)
    y = x * 2
    seen = []

    def hook(grad_inputs, grad_outputs):
        seen.append(grad_inputs)
        return (grad_inputs[0] * 10, None)

    y.grad_fn.register_hook(hook)
    y.sum().backward()
    (g, none), = seen
    assert none is None
    np.testing.assert_array_equal(g.numpy(), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [20.0, 20.0, 20.0])


# 4. a device is never equal to a string, as torch's (its str names the index)
def test_device_string_equality_with_an_index():
    assert tg.device("cuda") != "cuda:0" and not tg.device("cuda") == "cuda:0"
    assert tg.device("cuda") != "cuda" and tg.device("cuda:0") != "cuda:0" and tg.device("cpu") != "cpu"
    assert str(tg.device("cuda")) == "cuda" and str(tg.device("cuda:0")) == "cuda:0"
    assert str(tg.device("cpu")) == "cpu" and str(tg.device("cpu:0")) == "cpu:0"
    assert X.device.type == "cpu" and str(X.device) == "cpu"
    assert tg.device("cpu") != "cuda" and tg.device("cpu") != "not a device"


# 5. tg.save / tg.load keep a Size a Size
def test_save_load_keeps_size():
    buf = io.BytesIO()
    tg.save({"shape": X.shape, "plain": (2, 3), "more": [X.size(), tg.Size([])]}, buf)
    buf.seek(0)
    back = tg.load(buf)
    assert type(back["shape"]) is tg.Size and back["shape"] == (2, 3, 4)
    assert type(back["plain"]) is tuple
    assert [type(s) for s in back["more"]] == [tg.Size, tg.Size] and back["more"][1] == ()
    buf = io.BytesIO()
    tg.save(X.shape, buf)
    buf.seek(0)
    assert repr(tg.load(buf)) == "tensorgan.Size([2, 3, 4])"


def test_size_marker_is_a_reserved_key():
    with pytest.raises(Exception, match="__size__"):
        tg.save({"__size__": [1]}, io.BytesIO())


def test_arange_takes_tensor_bounds_with_their_kind():
    _same(tg.arange(tg.tensor(3)), tg.tensor([0, 1, 2]))
    _same(tg.arange(tg.tensor(1), 3), tg.tensor([1, 2]))
    _same(tg.arange(0, tg.tensor(3), tg.tensor(2)), tg.tensor([0, 2]))
    _same(tg.arange(tg.tensor(2.0)), tg.tensor([0.0, 1.0]))
