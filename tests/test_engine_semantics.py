"""Graph and state semantics of the engine, as PyTorch has them: in-place versions shared by views
and .detach() and bumped by optimizers, init and loading; grad mode across threads and generators;
custom Functions' mistakes named; the Tensor methods PyTorch code calls (size(), expand, repeat,
split, chunk, iteration, int(), np.asarray)."""
import threading

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import DeviceError, InputTypeError, ShapeError, TensorganError

STALE = "modified in place after the op used it"


def t64(values, requires_grad=True):
    return tg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# -- in-place versions ------------------------------------------------------------------------
@pytest.mark.parametrize("make_optimizer", [lambda p: tg.optim.SGD(p, lr=0.1),
                                            lambda p: tg.optim.Adam(p, lr=0.1)])
def test_an_optimizer_step_stales_graphs_built_before_it(make_optimizer):
    # The classic GAN slip: loss_g built through D, D stepped, then loss_g.backward(). The
    # gradient would mix old and new weights (torch refuses it too).
    w = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    opt = make_optimizer([w])
    first, second = (w * w).sum(), (w * w * w).sum()
    first.backward()
    opt.step()
    with pytest.raises(TensorganError, match=STALE):
        second.backward()


@pytest.mark.parametrize("write", ["init", "load_state_dict"])
def test_init_and_loading_stale_graphs_built_before_them(write):
    layer = nn.Linear(2, 2)
    out = layer(tg.tensor([[1.0, 2.0]], requires_grad=True)).sum()
    if write == "init":
        nn.init.normal_(layer.weight)
    else:
        layer.load_state_dict(layer.state_dict())
    with pytest.raises(TensorganError, match=STALE):
        out.backward()


@pytest.mark.parametrize("write", [
    lambda a: a.detach().mul_(10.0),       # .detach() shares memory and version
    lambda a: a.reshape(4).zero_(),        # a reshape view
    lambda a: a.T.add_(1.0),               # a permuted view
    lambda a: a[0].add_(100.0),            # a basic-index view
])
def test_writes_through_views_and_detach_stale_graphs(write):
    a = t64([[1.0, 2.0], [3.0, 4.0]], requires_grad=False)
    w = t64([1.0, 1.0])
    z = (w * a).sum()
    with tg.no_grad():
        write(a)
    with pytest.raises(TensorganError, match=STALE):
        z.backward()


def test_writing_the_base_stales_a_graph_that_used_a_view():
    a = t64([[1.0, 2.0], [3.0, 4.0]], requires_grad=False)
    w = t64([1.0, 1.0])
    z = (w * a[0]).sum()
    a += 100.0
    with pytest.raises(TensorganError, match=STALE):
        z.backward()


def test_a_copy_from_advanced_indexing_is_not_a_view():
    a = t64([[1.0, 2.0], [3.0, 4.0]], requires_grad=False)
    w = t64([1.0, 1.0])
    z = (w * a).sum()
    copy = a[[0]]
    copy += 1.0
    z.backward()
    assert w.grad.tolist() == [4.0, 6.0]


def test_in_place_with_a_value_that_requires_grad_joins_the_graph():
    """torch's ``acc = zeros(); acc += f(w)``: the constant becomes an op's result."""
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    for update, value, grad in ((lambda acc: acc.__iadd__(w * 2), [2.0, 4.0], [2.0, 6.0]),
                                (lambda acc: acc.copy_(w), [1.0, 2.0], [1.0, 3.0]),
                                (lambda acc: acc.add_(w, alpha=3), [3.0, 6.0], [3.0, 9.0])):
        w.grad = None
        acc = tg.zeros(2)
        assert update(acc) is acc and acc.requires_grad and acc._version == 1
        assert acc.tolist() == value
        (acc * tg.tensor([1.0, 3.0])).sum().backward()
        assert w.grad.tolist() == grad
    with tg.no_grad():
        acc = tg.zeros(2)
        acc += w            # no graph is wanted: fine
    assert acc.tolist() == [1.0, 2.0]


def test_in_place_with_an_operand_that_does_not_broadcast_is_a_shape_error():
    a = tg.zeros(2)
    with pytest.raises(ShapeError, match=r"\+=.*\(2,\)"):
        a += tg.ones(3)


# -- grad mode -------------------------------------------------------------------------------
def test_a_shared_decorator_keeps_each_threads_mode():
    entered, release, seen = threading.Event(), threading.Event(), {}

    @tg.enable_grad()
    def work(first: bool):
        if first:
            entered.set()
            release.wait(5)
        else:
            entered.wait(5)

    def thread_a():
        with tg.no_grad():
            work(True)
            seen["a"] = tg.is_grad_enabled()

    def thread_b():
        work(False)
        release.set()
        seen["b"] = tg.is_grad_enabled()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"a": False, "b": True}


def test_a_decorated_generator_runs_its_body_in_the_mode():
    @tg.no_grad()
    def steps():
        received = yield tg.is_grad_enabled()
        yield received, tg.is_grad_enabled()
        return "done"

    gen = steps()
    assert next(gen) is False and tg.is_grad_enabled()      # the caller's mode between steps
    assert gen.send(7) == (7, False) and tg.is_grad_enabled()
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == "done"


def test_set_grad_enabled_and_inference_mode():
    with tg.set_grad_enabled(False):
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    tg.set_grad_enabled(False)
    try:
        assert not tg.is_grad_enabled()
    finally:
        tg.set_grad_enabled(True)

    @tg.set_grad_enabled(False)
    def inside():
        return tg.is_grad_enabled()

    assert tg.is_grad_enabled() and inside() is False and tg.is_grad_enabled()
    with tg.inference_mode():
        assert not (tg.ones(2, requires_grad=True) * 2).requires_grad
    with tg.no_grad(), tg.inference_mode(False):
        assert tg.is_grad_enabled()


# -- custom Functions ------------------------------------------------------------------------
class Double(tg.Function):
    def forward(self, x):
        return x * 2

    def backward(self, g):
        return g * 2            # a bare array for the one input, as torch allows


def test_custom_function_mistakes_are_named():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    Double.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]

    class TooFew(tg.Function):
        def forward(self, a, b):
            return a * b

        def backward(self, g):
            return (g,)

    class WrongShape(tg.Function):
        def forward(self, a):
            return a.sum()

        def backward(self, g):
            return (g,)

    class NotAnArray(tg.Function):
        def forward(self, a):
            return float(a.sum())

    a, b = tg.ones(2, requires_grad=True), tg.ones(2, requires_grad=True)
    with pytest.raises(TensorganError, match="TooFew.backward returned 1 gradient.* for 2 input"):
        TooFew.apply(a, b).sum().backward()
    with pytest.raises(ShapeError, match=r"WrongShape.backward: the gradient for input 0 has shape \(\), the input \(2,\)"):
        WrongShape.apply(a).backward()
    with pytest.raises(InputTypeError, match="NotAnArray.forward must return one array"):
        NotAnArray.apply(a)


def test_needs_input_grad_is_there_in_forward_under_no_grad():
    seen = []

    class Probe(tg.Function):
        def forward(self, x, scale):
            seen.append(self.needs_input_grad)
            return x * scale

    x = tg.ones(2, requires_grad=True)
    with tg.no_grad():
        Probe.apply(x, 3.0)
    Probe.apply(x, 3.0)
    assert seen == [(False, False), (True, False)]


# -- attributes ------------------------------------------------------------------------------
def test_requires_grad_and_grad_assignments_are_checked():
    w = tg.ones(2, requires_grad=True)
    y = w * 2
    with pytest.raises(TensorganError, match="non-leaf"):
        y.requires_grad = False
    with pytest.raises(InputTypeError, match="True or False"):
        w.requires_grad = 1
    w.requires_grad = False
    assert not w.requires_grad and w.is_leaf
    for bad in (tg.ones(3), tg.ones(2, dtype="float64"), np.ones(2, np.float32)):
        with pytest.raises((ShapeError, InputTypeError), match="grad must"):
            w.grad = bad
    w.grad = tg.ones(2)
    w.grad = None


# -- PyTorch's Tensor methods ----------------------------------------------------------------
def test_size_is_numpys_count_and_torchs_call():
    x = tg.zeros((2, 3))
    assert x.size == 6 and x.size + 1 == 7 and isinstance(x.size, int)
    assert x.size() == (2, 3) and x.size(0) == 2 and x.size(-1) == 3
    with pytest.raises(ShapeError, match="out of range"):
        x.size(2)


def test_iteration_int_and_numpy_conversion():
    x = t64([[1.0, 2.0], [3.0, 4.0]])
    rows = list(x)
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]
    (rows[0] * rows[1]).sum().backward()            # the rows are in the graph
    assert x.grad.tolist() == [[3.0, 4.0], [1.0, 2.0]]
    with pytest.raises(TypeError, match="0-d"):
        list(tg.tensor(3.0))
    assert int(tg.tensor([3.7])) == 3
    host = np.asarray(x.detach())
    assert host.dtype == np.float64 and host.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    host[0, 0] = 9.0                                 # a copy: the tensor is untouched
    assert x.tolist()[0][0] == 1.0
    assert isinstance(np.float32(1.0) - tg.ones(2), tg.Tensor)      # NumPy still defers


def test_array_conversion_refuses_cuda(monkeypatch):
    x = tg.ones(2)

    class FakeDevice:
        xp = object()

        def __str__(self):
            return "cuda"

    object.__setattr__(x, "device", FakeDevice())
    with pytest.raises(DeviceError, match="implicitly"):
        np.asarray(x)


def test_contiguous_expand_repeat_against_numpy_and_gradcheck():
    x = t64(np.arange(6.0).reshape(2, 3))
    assert x.contiguous() is x
    xt = x.T.contiguous()
    assert xt.array.flags.c_contiguous and xt.tolist() == np.arange(6.0).reshape(2, 3).T.tolist()
    row = t64(np.arange(3.0).reshape(1, 3))
    assert np.array_equal(row.expand(4, 2, -1).numpy(), np.broadcast_to(np.arange(3.0), (4, 2, 3)))
    assert np.array_equal(row.repeat(2, 1, 2).numpy(), np.tile(np.arange(3.0).reshape(1, 3), (2, 1, 2)))
    assert tg.gradcheck(lambda t: t.expand(4, 2, 3) * t64(np.arange(24.0).reshape(4, 2, 3), False), [row])
    assert tg.gradcheck(lambda t: t.repeat(2, 3, 2) * t64(np.arange(36.0).reshape(2, 3, 6), False), [row])
    assert tg.gradcheck(lambda t: t.T.contiguous() * 2.0, [x])
    with pytest.raises(ShapeError, match="expand"):
        x.expand(4, 3)                  # only size-1 dims stretch
    with pytest.raises(ShapeError, match="repeat"):
        x.repeat(2)                     # one count per dim at least


def test_split_and_chunk_match_torchs_sizes():
    x = t64(np.arange(10.0))
    assert [p.shape for p in x.split(3)] == [(3,), (3,), (3,), (1,)]
    assert [p.shape for p in x.split([2, 8])] == [(2,), (8,)]
    assert [p.shape for p in x.chunk(3)] == [(4,), (4,), (2,)]
    assert [p.shape for p in x.chunk(4)] == [(3,), (3,), (3,), (1,)]
    assert [p.shape for p in t64(np.zeros((0, 3))).chunk(2)] == [(0, 3), (0, 3)]  # torch: `chunks` empty pieces
    assert [p.shape for p in t64(np.zeros(0)).split(3)] == [(0,)]
    assert tg.gradcheck(lambda t: tg.cat([p * float(i + 1) for i, p in enumerate(t.chunk(3))]), [x])
    m = t64(np.arange(12.0).reshape(3, 4))
    assert [p.tolist() for p in m.split(2, dim=1)] == [[[0, 1], [4, 5], [8, 9]], [[2, 3], [6, 7], [10, 11]]]
    with pytest.raises(ShapeError, match="add up"):
        x.split([2, 2])
    with pytest.raises(ShapeError, match="positive"):
        x.chunk(0)


def test_backward_takes_gradient_as_torch_names_it():
    x = t64([1.0, 2.0])
    (x * x).backward(gradient=t64([1.0, 10.0], False))
    assert x.grad.tolist() == [2.0, 40.0]
    y = t64([1.0, 2.0])
    (y * y).backward(grad=t64([1.0, 10.0], False))      # the older keyword
    assert y.grad.tolist() == [2.0, 40.0]
    with pytest.raises(InputTypeError, match="not both"):
        (y * y).backward(gradient=t64([1.0, 1.0], False), grad=t64([1.0, 1.0], False))


# -- the reader audit's cases -------------------------------------------------------------------
def test_amax_keeps_the_gradients_dtype():
    # Its tie count was an integer array: g / count became float64 and reached the float32
    # kernels below it (a TypeError on CUDA); the backward's dtype check now names any such slip.
    from tensorgan import functional as F
    x = tg.randn(2, 1, 5, 5, requires_grad=True)
    w = tg.randn(3, 1, 3, 3, requires_grad=True)
    F.conv2d(x, w).amax().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32
    y = tg.randn(4, 3, requires_grad=True)
    y.amin(dim=1).sum().backward()
    assert y.grad.dtype == np.float32


def test_a_custom_backward_of_the_wrong_dtype_is_named():
    class Widen(tg.Function):
        def forward(self, x):
            return x * 2

        def backward(self, g):
            return (g.astype(np.float64) * 2,)

    from tensorgan.errors import DTypeError
    with pytest.raises(DTypeError, match="Widen.backward: the gradient for input 0 is float64"):
        Widen.apply(tg.ones(2, requires_grad=True)).sum().backward()


def test_writing_the_base_of_an_expanded_view_stales_the_graph():
    x = tg.tensor([1.0, 2.0, 3.0])
    w = tg.ones((2, 3), requires_grad=True)
    z = (x.expand(2, 3) * w).sum()
    x += 10.0
    with pytest.raises(TensorganError, match=STALE):
        z.backward()


def test_backward_casts_a_real_gradient_of_another_dtype_like_torch():
    # torch casts the seed to the tensor's dtype (test_port_stylegan_sagan has the autograd.grad case)
    x = tg.ones(2, requires_grad=True)
    (x * 2).backward(gradient=tg.ones(2, dtype="float64"))
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_inference_mode_as_a_bare_decorator():
    @tg.inference_mode
    def double(x):
        return x * 2

    assert not double(tg.ones(2, requires_grad=True)).requires_grad


def test_empty_losses_are_nan_as_the_mean_of_nothing():
    from tensorgan import functional as F
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # and no "mean of empty slice"
        empty = tg.zeros(0, requires_grad=True)
        assert np.isnan(F.cross_entropy(tg.zeros((0, 3)), np.zeros(0, np.int64)).item())
        assert np.isnan(F.binary_cross_entropy_with_logits(empty, tg.zeros(0)).item())
        assert np.isnan(F.binary_cross_entropy(empty.sigmoid(), tg.zeros(0)).item())
        assert F.binary_cross_entropy_with_logits(empty, tg.zeros(0), reduction="sum").item() == 0


@pytest.mark.parametrize("call, error, needle", [
    (lambda: nn.Dropout("0.5"), InputTypeError, "p must be a real number"),
    (lambda: nn.BatchNorm1d(3, eps="x"), InputTypeError, "eps must be a real number"),
    (lambda: nn.BatchNorm1d(3, momentum="x"), InputTypeError, "momentum must be a real number"),
    (lambda: nn.LeakyReLU("a"), InputTypeError, "negative_slope must be a real number"),
    (lambda: nn.Unflatten(1, (2, "a")), tg.ConfigError, "unflattened_size must be a positive integer"),
    (lambda: nn.Sequential(3), InputTypeError, "not a Module"),
    (lambda: nn.ModuleList([3]), InputTypeError, "not a Module"),
    (lambda: nn.Module().register_parameter("w", tg.ones(2)), InputTypeError, "must be a Parameter"),
    (lambda: tg.functional.conv2d(tg.ones((1, 1, 3, 3)), [[1.0]]), InputTypeError, "weight must be a Tensor"),
    (lambda: tg.functional.conv_transpose2d(tg.ones((1, 1, 3, 3)), [[1.0]]), InputTypeError,
     "weight must be a Tensor"),
    (lambda: (tg.ones(2) > 0).__iadd__(1.0), tg.DTypeError, "bool tensor in place"),
    (lambda: tg.ones(2).fill_("a"), InputTypeError, "not a number"),
    (lambda: tg.ones((2, 3)).transpose(True, 0), ShapeError, "transpose: dim True"),
    (lambda: tg.functional.softmax(tg.ones((2, 3)), True), ShapeError, "softmax: dim True"),
    (lambda: tg.models.dcgan.MLPDiscriminator((1, 28, 28), hidden=(2.7,)), tg.ConfigError, "hidden size"),
])
def test_bad_arguments_get_typed_errors_naming_them(call, error, needle):
    with pytest.raises(error, match=needle):
        call()


def test_numpy_integers_are_accepted_and_device_names_read_as_torch_reads_them():
    assert tg.models.dcgan.Generator((1, 28, 28), latent_dim=np.int64(8)).latent_dim == 8
    assert tg.ones(2).to("cpu").device is tg.get_device("cpu")
    with pytest.raises(tg.DeviceError, match="unknown device 'CPU'.*lower case"):
        tg.ones(2).to("CPU")                           # torch's RuntimeError: case counts


def test_empty_softmax_and_channel_less_batch_norm():
    from tensorgan import functional as F
    assert F.softmax(tg.zeros((2, 0)), 1).shape == (2, 0)
    assert F.log_softmax(tg.zeros((2, 0)), 1).shape == (2, 0)
    with pytest.raises(ShapeError, match="no channels"):
        F.batch_norm(tg.zeros((4, 0)), None, None, None, None, True, 0.1, 1e-5)


def test_atomic_writes_take_the_umask_without_changing_it(tmp_path):
    import os
    from tensorgan.fileio import _default_file_mode, atomic_write
    old = os.umask(0o027)
    try:
        assert _default_file_mode() == 0o640
        assert os.umask(0o027) == 0o027                    # unchanged by the probe
        path = atomic_write(tmp_path / "f.bin", lambda f: f.write(b"x"))
        assert os.stat(path).st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


def test_numpy_conversion_of_scalars_and_the_refusals():
    import copy
    import pickle
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert np.mean([x.sum(), x.mean()]) == pytest.approx(6.25)       # 0-d results (NumPy scalars)
    assert float(np.asarray(x.sum())) == 10.0 and tg.tensor([x.sum()] * 2).tolist() == [10.0, 10.0]
    with pytest.raises(TensorganError, match="requires grad.*detach"):
        np.exp(tg.ones(2, requires_grad=True))                       # no silent loss of the graph
    with pytest.raises(InputTypeError, match="read-only view"):
        tg.zeros((1, 3)).expand(2, 3).add_(1.0)
    size = x.size
    assert pickle.loads(pickle.dumps(size)) == 4 and copy.deepcopy(size)() == (2, 2)
    layer = nn.Linear(2, 2).to("cpu")
    assert layer.weight.device is tg.get_device("cpu")


def test_a_shared_context_object_nests_per_thread():
    ng = tg.no_grad()
    with ng:
        with ng:                                            # re-entered: one saved mode each
            assert not tg.is_grad_enabled()
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()


def test_register_hook_and_retain_grad_follow_torch():
    # x = [1..4], y = x*x, z = 3y. Hooks: y's doubles its gradient, x's adds 1. torch gives the
    # same numbers: y's retained grad is the gradient after y's own hooks.
    x = t64(np.arange(1.0, 5.0), requires_grad=True)
    y = x * x
    z = y * 3.0
    y.retain_grad()
    z.retain_grad()
    x.retain_grad()                      # a leaf keeps its gradient anyway: not counted twice
    seen = []
    handle = y.register_hook(lambda g: seen.append(g.tolist()) or g * 2.0)
    x.register_hook(lambda g: g + 1.0)
    z.sum().backward(retain_graph=True)
    assert seen == [[3.0] * 4]
    assert z.grad.tolist() == [1.0] * 4 and y.grad.tolist() == [6.0] * 4
    assert x.grad.tolist() == [13.0, 25.0, 37.0, 49.0]            # 6 * 2x + 1
    assert y.retains_grad and not x.retains_grad and y.grad.requires_grad is False
    handle.remove()
    z.sum().backward()                   # y's hook is gone: dy = 3, accumulated
    assert seen == [[3.0] * 4] and y.grad.tolist() == [9.0] * 4
    assert x.grad.tolist() == [20.0, 38.0, 56.0, 74.0]            # + 3 * 2x + 1
    with pytest.warns(UserWarning, match="not a leaf Tensor"):     # as torch's
        assert (x * 2.0).grad is None    # a non-leaf without retain_grad keeps nothing


def test_register_hook_refuses_what_torch_refuses():
    x = t64(np.ones(3), requires_grad=True)
    with pytest.raises(TensorganError, match="does not require grad"):
        t64(np.ones(3), requires_grad=False).register_hook(lambda g: g)
    with pytest.raises(TensorganError, match="does not require grad"):
        t64(np.ones(3), requires_grad=False).retain_grad()
    with pytest.raises(InputTypeError, match="function"):
        x.register_hook(3)
    y = x * 2.0
    y.register_hook(lambda g: g.sum())
    with pytest.raises(ShapeError, match="hook returned"):
        y.sum().backward()


def test_inf_and_nan_results_come_without_numpy_warnings_as_in_torch():
    import warnings
    x = tg.tensor([0.0, -1.0, 1000.0], dtype="float64", requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # any NumPy RuntimeWarning fails the test
        for f in (lambda: x.log(), lambda: 1.0 / x, lambda: x.sqrt(), lambda: x.exp(),
                  lambda: x ** -0.5):
            f().sum().backward()                  # grads accumulate inf + (-inf): NaN, quietly
        (g,) = tg.autograd.grad((x ** -0.5).sum(), x, create_graph=True)
        (g * g).sum().backward()
    assert np.isneginf(x.log().numpy()[0]) and np.isnan(x.sqrt().numpy()[1])
    assert np.isnan(x.grad.numpy()[0]) and np.isinf(x.grad.numpy()[2])


# -- 0-d tensors and one-element indexing ------------------------------------------------------
def test_in_place_ops_write_0d_tensors():
    # NumPy reduces to a scalar, not a 0-d array: the tensor must still hold writable memory
    s = (t64([1.0, 2.0], requires_grad=False) * 1.0).sum()
    s.add_(1.0)
    assert s.item() == 4.0
    s += 1
    s.mul_(2.0)
    assert s.item() == 10.0
    s.zero_()
    assert s.item() == 0.0
    s.copy_(tg.tensor(5.0, dtype=np.float64))
    assert s.item() == 5.0


def test_a_0d_parameter_trains_with_zero_grad_keeping_the_tensor():
    p = t64(1.0)
    opt = tg.optim.SGD([p], lr=0.1)
    for _ in range(3):
        opt.zero_grad(set_to_none=False)         # zeroes .grad in place: must not accumulate
        (p * p).backward()
        opt.step()
    assert p.item() == pytest.approx(0.8 ** 3)   # torch: 0.512, grad 1.28
    assert p.grad.item() == pytest.approx(2 * 0.8 ** 2)


def test_one_element_index_is_a_view_as_in_torch():
    b = t64([1.0, 2.0, 3.0])
    with tg.no_grad():
        b[0].fill_(0.0)
        b[1].zero_()
        b[2].add_(10.0)
    np.testing.assert_array_equal(b.numpy(), [0.0, 0.0, 13.0])
    m = t64(np.ones((2, 2)), requires_grad=False)
    m[1, 1].fill_(7.0)
    assert m.numpy()[1, 1] == 7.0
    x = t64([1.0, 2.0])
    y = x[1] * 3.0
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 3.0])


def test_a_gradient_a_hook_kept_is_not_the_leafs_grad():
    # torch clones when someone else holds the gradient: editing x.grad leaves what a hook saw
    saved = []
    x = t64([1.0, 2.0])
    h = x + 0.0
    h.register_hook(lambda g: saved.append(g))
    (h * 3).sum().backward()
    with tg.no_grad():
        x.grad.mul_(0.5)
    assert saved[0].tolist() == [3.0, 3.0]
    assert x.grad.tolist() == [1.5, 1.5]
    returned = tg.tensor(np.full(2, 2.0))
    z = t64([1.0, 2.0])
    w = z * 1.0
    w.register_hook(lambda g: returned)
    w.sum().backward()
    with tg.no_grad():
        z.grad.zero_()
    assert returned.tolist() == [2.0, 2.0]


def test_backward_inputs_fills_only_those_grads():
    # torch's backward(inputs=...): a GAN's generator step without the discriminator's grads
    g_weight, d_weight = t64([[0.5, -1.0]]), t64([[2.0], [1.0]])
    z = t64([[1.0], [3.0]], requires_grad=False)
    fake = z @ g_weight                                   # (2, 2)
    loss = (fake @ d_weight).sum() ** 2
    loss.backward(inputs=[g_weight], retain_graph=True)
    assert d_weight.grad is None
    total = float(((z.numpy() @ g_weight.numpy()) @ d_weight.numpy()).sum())
    np.testing.assert_allclose(g_weight.grad.numpy(),
                               2 * total * z.numpy().sum() * d_weight.numpy().T)
    first = g_weight.grad.numpy().copy()
    tg.autograd.backward([loss], inputs=[g_weight, fake])   # accumulates; a non-leaf too
    np.testing.assert_allclose(g_weight.grad.numpy(), 2 * first)
    np.testing.assert_allclose(fake.grad.numpy(), np.tile(2 * total * d_weight.numpy().T, (2, 1)))
    with pytest.raises(InputTypeError, match="inputs"):
        (g_weight * 2).sum().backward(inputs=[])


def test_in_place_on_an_ops_result_joins_the_graph_as_torch():
    """``out += identity`` in a residual block, ``y.mul_(w)``, ``clamp_``: PyTorch's in-place ops
    on a tracked tensor; the gradient flows through the update (d/dx of 16 x^2 here)."""
    x = t64([0.5, -1.5, 2.0])
    y = x * 2
    y += y           # 4x
    y *= y           # 16 x^2 (the operand is the tensor itself)
    y.sum().backward()
    assert y.tolist() == [4.0, 36.0, 64.0] and x.grad.tolist() == [16.0, -48.0, 64.0]
    x.grad = None
    z = x.exp()      # exp saved its output: the update must not change what backward reads
    z.clamp_(max=2.0)
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(np.exp(x.numpy()) <= 2.0, np.exp(x.numpy()), 0.0))
    early = x * 2
    used = early * early
    early.add_(1)
    with pytest.raises(TensorganError, match=STALE):       # an op that used the old value
        (used + early).sum().backward()
    base = x * 2
    view = base[0:2]
    view.mul_(3)     # a view of an op's result: its base follows (torch's CopySlices)
    assert base.tolist() == [3.0, -9.0, 4.0] and base.grad_fn.name() == "torch::autograd::CopySlices"
    with pytest.raises(TensorganError, match="leaf"):
        x.add_(1)
