"""torch's autograd helpers: custom ``autograd.Function`` with ctx, anomaly detection, Variable,
``autograd.functional`` (vjp / jvp / jacobian / hessian / vhp / hvp), ``tg.func`` and the
``nn.utils`` fusion / norm helpers -- against closed forms, finite differences and gradcheck, in
float64."""
import warnings

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.autograd.functional as AF
from tensorgan.errors import AnomalyError, ConfigError, InputTypeError, ShapeError, TensorganError

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
M = RNG.standard_normal((4, 4))
X = RNG.standard_normal(4)
Y = RNG.standard_normal((2, 4))


def T(a, requires_grad=False):
    return tg.tensor(np.array(a, dtype=np.float64), dtype="float64", requires_grad=requires_grad)


def numeric_jacobian(f, x, eps=1e-6):
    """d f / d x by central differences on arrays: shape f(x).shape + x.shape."""
    x = np.array(x, dtype=np.float64)
    cols = []
    for k in range(x.size):
        d = np.zeros(x.size)
        d[k] = eps
        plus, minus = f(x + d.reshape(x.shape)), f(x - d.reshape(x.shape))
        cols.append((plus - minus) / (2 * eps))
    out_shape = np.shape(f(x))
    return np.stack(cols, axis=-1).reshape(out_shape + x.shape)


# ---------------------------------------------------------------------------------------------
# custom autograd.Function
# ---------------------------------------------------------------------------------------------
class Exp(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class ScaleAndSin(tg.autograd.Function):
    """Two outputs, a non-Tensor argument, an index output marked non-differentiable."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        ctx.seen_needs = ctx.needs_input_grad
        order = x.argsort()
        ctx.mark_non_differentiable(order)
        return x * scale, x.sin(), order

    @staticmethod
    def backward(ctx, g_scaled, g_sin, g_order):
        (x,) = ctx.saved_tensors
        return g_scaled * ctx.scale + g_sin * x.cos(), None


def test_custom_function_round_trip_and_double_backward():
    x = T([0.3, -1.2, 2.0], requires_grad=True)
    y = Exp.apply(x)
    assert y.requires_grad and not y.is_leaf
    y.sum().backward()
    assert np.allclose(x.grad.numpy(), np.exp(x.numpy()))
    assert tg.gradcheck(lambda t: Exp.apply(t) * t, [x])
    assert tg.gradgradcheck(lambda t: Exp.apply(t * t), [x])   # saved output's graph flows
    with tg.no_grad():
        assert not Exp.apply(x).requires_grad


def test_custom_function_several_outputs():
    x = T([0.3, -1.2, 2.0], requires_grad=True)
    scaled, sine, order = ScaleAndSin.apply(x, 2.5)
    assert order.dtype == tg.int64 and not order.requires_grad
    assert scaled.requires_grad and sine.requires_grad
    (scaled.sum() + (sine ** 2).sum()).backward()
    xv = x.numpy()
    assert np.allclose(x.grad.numpy(), 2.5 + 2 * np.sin(xv) * np.cos(xv))
    x.grad = None
    ScaleAndSin.apply(x, 2.5)[1].sum().backward()   # the other output got no gradient: zeros
    assert np.allclose(x.grad.numpy(), np.cos(xv))
    assert tg.gradcheck(lambda t: ScaleAndSin.apply(t, 3.0)[0] * ScaleAndSin.apply(t, 1.0)[1], [x])
    assert tg.gradgradcheck(lambda t: ScaleAndSin.apply(t, 3.0)[1] ** 2, [x])


def test_ctx_needs_input_grad_materialize_and_setup_context():
    seen = {}

    class Record(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k):
            seen["needs"] = ctx.needs_input_grad
            ctx.set_materialize_grads(False)
            return a * b * k, a + b

        @staticmethod
        def backward(ctx, g1, g2):
            seen["grads"] = (g1 is None, g2 is None)
            return g2, g2, None

    a, b = T([1.0, 2.0], requires_grad=True), T([3.0, 4.0])
    _, s = Record.apply(a, b, 2.0)
    s.sum().backward()
    assert seen["needs"] == (True, False, False) and seen["grads"] == (True, False)

    class Cube(tg.autograd.Function):       # torch's newer form: forward without ctx
        @staticmethod
        def forward(x, power=3):
            return x ** power

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.power = inputs[1]

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * ctx.power * x ** (ctx.power - 1), None

    x = T([0.5, -1.5], requires_grad=True)
    assert tg.gradgradcheck(lambda t: Cube.apply(t), [x])
    assert np.allclose(Cube.apply(x, power=2).numpy(), x.numpy() ** 2)   # keyword argument


def test_once_differentiable_refuses_double_backward():
    class Sin(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        @tg.autograd.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            assert not tg.is_grad_enabled()
            return g * x.cos()

    x = T([0.3, 1.0], requires_grad=True)
    Sin.apply(x).sum().backward()
    assert np.allclose(x.grad.numpy(), np.cos(x.numpy()))
    (g,) = tg.autograd.grad((Sin.apply(x) ** 2).sum(), x, create_graph=True)
    with pytest.raises(TensorganError, match="once_differentiable"):
        g.sum().backward()


def test_custom_function_refusals_and_engine_style_subclass():
    class TooMany(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    x = T([1.0, 2.0], requires_grad=True)
    with pytest.raises(TensorganError, match="TooMany.backward returned 2 gradient"):
        TooMany.apply(x).sum().backward()

    class NotTensor(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return 3

    with pytest.raises(InputTypeError, match="NotTensor.forward returned int"):
        NotTensor.apply(x)

    class Saves(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x, c):
            ctx.save_for_backward(c)
            return x * c

        @staticmethod
        def backward(ctx, g):
            (c,) = ctx.saved_tensors
            return g * c, None

    class NoSave(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g * 2.0

    leaf = T([1.0, 2.0], requires_grad=True)
    y = NoSave.apply(leaf)
    with tg.no_grad():
        leaf.add_(1.0)
    y.sum().backward()                       # not saved: an in-place change is fine (torch too)
    w = T([1.0, 1.0], requires_grad=True)
    const = T([3.0, 4.0])
    z = Saves.apply(w, const)
    const.add_(1.0)                           # a saved tensor written in place: refused
    with pytest.raises(TensorganError, match="modified in place"):
        z.sum().backward()

    class Double(tg.autograd.Function):      # the engine's form still works through this class
        def forward(self, a):
            return a * 2

        def backward(self, g):
            return (g * 2,)

    Double.apply(x).sum().backward()
    assert np.allclose(x.grad.numpy(), [2.0, 2.0])


# ---------------------------------------------------------------------------------------------
# anomaly detection, Variable, re-exports
# ---------------------------------------------------------------------------------------------
def nan_backward(x):
    """sqrt at 0 under a 0 factor: sqrt's gradient there is 0 / 0."""
    return (x.sqrt() * T([0.0, 1.0])).sum()


def test_detect_anomaly_names_the_op():
    x = T([0.0, 1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        mode = tg.autograd.detect_anomaly()
    with mode:
        assert tg.is_anomaly_enabled() and tg.autograd.is_anomaly_enabled()
        with pytest.raises(AnomalyError, match=r"Function 'SqrtBackward0' returned nan values in its 0th output"):
            nan_backward(x).backward()
    assert not tg.is_anomaly_enabled()
    nan_backward(x).backward()               # disabled: NaN silently, as torch
    assert np.isnan(x.grad.numpy()[0])
    with tg.autograd.set_detect_anomaly(True):
        with pytest.raises(RuntimeError, match="SqrtBackward0"):     # AnomalyError is one
            tg.autograd.grad(nan_backward(x), x, create_graph=True)
    assert not tg.autograd.is_anomaly_enabled()
    with tg.autograd.set_detect_anomaly(True, check_nan=False):
        nan_backward(x).backward()
    tg.set_anomaly_enabled(True)
    try:
        with pytest.raises(AnomalyError, match="'ExpBackward'"):    # a custom Function's node
            (Exp.apply(T([1e3], requires_grad=True)) * 0.0).sum().backward()
    finally:
        tg.set_anomaly_enabled(False)
    assert not tg.is_anomaly_enabled()


def test_variable_and_reexports():
    t = T([1.0, 2.0])
    v = tg.autograd.Variable(t, requires_grad=True)
    assert v is not t and v.requires_grad and v.is_leaf and not t.requires_grad
    assert isinstance(t, tg.autograd.Variable)
    assert not tg.autograd.Variable(t * 1.0).requires_grad
    with pytest.raises(InputTypeError, match="Variable data has to be a tensor"):
        tg.autograd.Variable([1.0])
    for name in ("no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "gradcheck",
                 "gradgradcheck", "is_grad_enabled"):
        assert getattr(tg.autograd, name) is getattr(tg, name)


# ---------------------------------------------------------------------------------------------
# autograd.functional
# ---------------------------------------------------------------------------------------------
def f_vec(x):                                 # R^4 -> R^3, J = A diag(1 - tanh(x)^2)
    return T(A) @ x.tanh()


def f_two(x, y):                              # two inputs, two outputs
    return (y @ x).sin(), (x * x).sum() * y.exp()


def test_jacobian_closed_form_and_structures():
    jac = AF.jacobian(f_vec, T(X))
    assert jac.shape == (3, 4) and not jac.requires_grad
    assert np.allclose(jac.numpy(), A * (1 - np.tanh(X) ** 2), atol=1e-12)
    jac = AF.jacobian(f_two, (T(X), T(Y)))
    assert isinstance(jac, tuple) and len(jac) == 2 and all(len(j) == 2 for j in jac)
    assert [tuple(j.shape) for j in jac[0] + jac[1]] == [(2, 4), (2, 2, 4), (2, 4, 4), (2, 4, 2, 4)]
    num = numeric_jacobian(lambda y: np.sin(y @ X), Y)
    assert np.allclose(jac[0][1].numpy(), num, atol=1e-8)
    num = numeric_jacobian(lambda x: (x * x).sum() * np.exp(Y), X)
    assert np.allclose(jac[1][0].numpy(), num, atol=1e-7)
    single_out = AF.jacobian(lambda x, y: (y @ x).sin(), (T(X), T(Y)))
    assert isinstance(single_out, tuple) and single_out[0].shape == (2, 4)
    single_in = AF.jacobian(lambda x: f_two(x, T(Y)), T(X))
    assert isinstance(single_in, tuple) and single_in[1].shape == (2, 4, 4)
    same = AF.jacobian(f_vec, T(X), vectorize=True)
    assert np.array_equal(same.numpy(), AF.jacobian(f_vec, T(X)).numpy())


def test_jacobian_options_and_refusals():
    x = T(X, requires_grad=True)
    jac = AF.jacobian(lambda t: (t ** 3).sin(), x, create_graph=True)
    jac.sum().backward()                       # d/dx of sum_i d sin(x_i^3)/dx_i
    expected = 6 * X * np.cos(X ** 3) - 9 * X ** 4 * np.sin(X ** 3)
    assert np.allclose(x.grad.numpy(), expected, atol=1e-10)
    unused = AF.jacobian(lambda a, b: a * 2, (T(X), T(Y)))
    assert np.array_equal(unused[1].numpy(), np.zeros((4, 2, 4)))
    with pytest.raises(TensorganError, match="independent of input 1"):
        AF.jacobian(lambda a, b: a * 2, (T(X), T(Y)), strict=True)
    with pytest.raises(ConfigError, match="forward-mode"):
        AF.jacobian(f_vec, T(X), vectorize=True, strategy="forward-mode")
    with pytest.raises(ConfigError, match="strategy"):
        AF.jacobian(f_vec, T(X), strategy="sideways")
    with pytest.raises(InputTypeError, match="inputs"):
        AF.jacobian(f_vec, X)
    with pytest.raises(InputTypeError, match="outputs of the user-provided function"):
        AF.jacobian(lambda t: 3.0, T(X))


def scalar_fn(x, y):                           # Hessian known in closed form
    return 0.5 * (x @ (T(M) @ x)) + x.sin().sum() + (y ** 3).sum() + (x[:2] * y[0, :2]).sum()


def test_hessian_closed_form_and_structure():
    h = AF.hessian(lambda x: 0.5 * (x @ (T(M) @ x)) + x.sin().sum(), T(X))
    assert h.shape == (4, 4)
    assert np.allclose(h.numpy(), 0.5 * (M + M.T) - np.diag(np.sin(X)), atol=1e-12)
    h = AF.hessian(scalar_fn, (T(X), T(Y)))
    assert len(h) == 2 and [tuple(b.shape) for b in h[0] + h[1]] == [(4, 4), (4, 2, 4), (2, 4, 4), (2, 4, 2, 4)]
    cross = np.zeros((4, 2, 4))
    cross[0, 0, 0] = cross[1, 0, 1] = 1.0
    assert np.allclose(h[0][1].numpy(), cross) and np.allclose(h[1][0].numpy(), cross.transpose(1, 2, 0))
    assert np.allclose(h[1][1].numpy().reshape(8, 8), np.diag(6 * Y.reshape(-1)))
    with pytest.raises(ShapeError, match="single element"):
        AF.hessian(lambda x: x * 2, T(X))


def test_products_match_jacobian_and_hessian():
    j = A * (1 - np.tanh(X) ** 2)
    v_out, v_in = RNG.standard_normal(3), RNG.standard_normal(4)
    out, vjp = AF.vjp(f_vec, T(X), T(v_out))
    assert np.allclose(out.numpy(), A @ np.tanh(X)) and np.allclose(vjp.numpy(), v_out @ j)
    out, jvp = AF.jvp(f_vec, T(X), T(v_in))
    assert np.allclose(jvp.numpy(), j @ v_in)
    outs, jvps = AF.jvp(f_two, (T(X), T(Y)), (T(X), T(Y)))
    full = AF.jacobian(f_two, (T(X), T(Y)))
    for k in range(2):
        expected = sum(np.tensordot(full[k][i].numpy(), w, axes=w.ndim) for i, w in enumerate((X, Y)))
        assert np.allclose(jvps[k].numpy(), expected, atol=1e-12)
    h = AF.hessian(scalar_fn, (T(X), T(Y)))
    vs = (T(v_in), T(Y))
    for fn in (AF.vhp, AF.hvp):
        value, prod = fn(scalar_fn, (T(X), T(Y)), vs)
        assert value.shape == () and len(prod) == 2
        for i in range(2):
            expected = sum(np.tensordot(vs[k].numpy(), h[k][i].numpy(), axes=vs[k].ndim) for k in range(2))
            assert np.allclose(prod[i].numpy(), expected, atol=1e-12)
    with pytest.raises(ShapeError, match="v can only be None"):
        AF.vjp(f_vec, T(X))
    with pytest.raises(ShapeError, match="Mismatch in shape"):
        AF.jvp(f_vec, T(X), T(v_out))
    x = T(X, requires_grad=True)
    _, prod = AF.hvp(lambda t: (t ** 4).sum(), x, T(np.ones(4)), create_graph=True)
    prod.sum().backward()                      # d/dx sum 12 x^2 = 24 x
    assert np.allclose(x.grad.numpy(), 24 * X)


# ---------------------------------------------------------------------------------------------
# tg.func
# ---------------------------------------------------------------------------------------------
def test_func_grad_family():
    f = lambda x, y: ((y @ x).sin() ** 2).sum() + (x ** 3).sum()  # noqa: E731
    x, y = T(X), T(Y)
    gx = tg.func.grad(f)(x, y)
    expected = 2 * np.sin(Y @ X) * np.cos(Y @ X) @ Y + 3 * X ** 2
    assert np.allclose(gx.numpy(), expected) and not gx.requires_grad
    gx2, gy = tg.func.grad(f, argnums=(0, 1))(x, y)
    assert np.allclose(gx2.numpy(), expected) and gy.shape == (2, 4)
    g, value = tg.func.grad_and_value(f)(x, y)
    assert np.isclose(value.item(), f(x, y).item())
    g, aux = tg.func.grad(lambda t: (t.sin().sum(), t.cos()), has_aux=True)(x)
    assert np.allclose(g.numpy(), np.cos(X)) and np.allclose(aux.numpy(), np.cos(X))
    second = tg.func.grad(lambda t: tg.func.grad(lambda z: (z ** 3).sum())(t).sum())(x)
    assert np.allclose(second.numpy(), 6 * X)
    params = {"w": x, "b": T(Y[0])}
    grads = tg.func.grad(lambda p: (p["w"] * p["b"].exp()).sum())(params)
    assert set(grads) == {"w", "b"} and np.allclose(grads["b"].numpy(), X * np.exp(Y[0]))
    h = tg.func.hessian(lambda t: 0.5 * (t @ (T(M) @ t)) + t.sin().sum())(x)
    assert np.allclose(h.numpy(), 0.5 * (M + M.T) - np.diag(np.sin(X)))
    jac = tg.func.jacrev(f_vec)(x)
    assert np.allclose(jac.numpy(), A * (1 - np.tanh(X) ** 2))
    jacs = tg.func.jacrev(f_two, argnums=(0, 1))(x, y)
    assert isinstance(jacs, tuple) and jacs[1][1].shape == (2, 4, 2, 4)
    out, vjp_fn = tg.func.vjp(f_vec, x)
    (vx,) = vjp_fn(T(np.ones(3)))
    assert np.allclose(vx.numpy(), np.ones(3) @ (A * (1 - np.tanh(X) ** 2)))
    with pytest.raises(ShapeError, match="scalar"):
        tg.func.grad(lambda t: t * 2)(x)
    with pytest.raises(ConfigError, match="argnums"):
        tg.func.grad(f, argnums=5)(x, y)


def test_functional_call_leaves_the_module_alone():
    tg.manual_seed(0)
    model = tg.nn.Sequential(tg.nn.Linear(4, 3), tg.nn.Tanh(), tg.nn.Linear(3, 2)).double()
    before = {k: np.array(v) for k, v in model.state_dict().items()}
    params = {k: T(RNG.standard_normal(v.shape)) for k, v in model.named_parameters()}
    x = T(Y)
    out = tg.func.functional_call(model, params, (x,))
    w0, b0, w2, b2 = (params[k].numpy() for k in ("0.weight", "0.bias", "2.weight", "2.bias"))
    assert np.allclose(out.numpy(), np.tanh(Y @ w0.T + b0) @ w2.T + b2)
    assert all(np.array_equal(np.array(v), before[k]) for k, v in model.state_dict().items())
    assert model[0].weight is dict(model.named_parameters())["0.weight"]
    grads = tg.func.grad(lambda p: tg.func.functional_call(model, p, x).pow(2).sum())(params)
    assert set(grads) == set(params) and all(p.grad is None for p in model.parameters())
    partial = tg.nn.utils.stateless.functional_call(model, {"2.bias": T([10.0, 20.0])}, (x,))
    assert np.allclose(partial.numpy() - model(x).numpy(), [10.0, 20.0] - model[2].bias.numpy())
    with pytest.raises(ConfigError, match="missing keys"):
        tg.func.functional_call(model, {"2.bias": T([1.0, 2.0])}, (x,), strict=True)
    with pytest.raises(ConfigError, match="multiple dictionaries"):
        tg.func.functional_call(model, ({"2.bias": T([1.0, 2.0])}, {"2.bias": T([1.0, 2.0])}), (x,))
    tied = tg.nn.Sequential(tg.nn.Linear(2, 2, bias=False), tg.nn.Linear(2, 2, bias=False)).double()
    tied[1].weight = tied[0].weight
    eye = T(np.eye(2))
    assert np.allclose(tg.func.functional_call(tied, {"0.weight": eye}, T([[1.0, 2.0]])).numpy(), [[1.0, 2.0]])
    untied = tg.func.functional_call(tied, {"0.weight": eye}, T([[1.0, 2.0]]), tie_weights=False)
    assert np.allclose(untied.numpy(), np.array([[1.0, 2.0]]) @ tied[0].weight.numpy().T)


def test_vmap_is_a_loop_with_torch_semantics():
    out = tg.func.vmap(lambda x, y: y @ x, in_dims=(None, 0))(T(X), T(Y))
    assert np.allclose(out.numpy(), Y @ X)
    per_column = tg.func.vmap(lambda c: (c.sin().sum(), c * 2), in_dims=1, out_dims=(0, 1))(T(Y))
    assert np.allclose(per_column[0].numpy(), np.sin(Y).sum(0)) and per_column[1].shape == (2, 4)
    with pytest.raises(ShapeError, match="one size"):
        tg.func.vmap(lambda a, b: a + b)(T(X), T(Y))


# ---------------------------------------------------------------------------------------------
# nn.utils: norms, fusion, skip_init, nn.init's deprecated names
# ---------------------------------------------------------------------------------------------
def test_total_norm_and_clipping_with_it():
    arrays = [RNG.standard_normal((3, 2)), RNG.standard_normal(5)]
    for p in (2.0, 1.0, 3.5, float("inf")):
        total = tg.nn.utils.get_total_norm([T(a) for a in arrays], p)
        flat = np.concatenate([a.ravel() for a in arrays])
        assert np.isclose(total.item(), np.linalg.norm(flat, p)) and total.dtype == tg.float64
    params = [tg.nn.Parameter(T(a)) for a in arrays]
    for p, a in zip(params, arrays):
        p.grad = T(a * 2)
    tg.nn.utils.clip_grads_with_norm_(params, 1.0, T(7.0))
    assert all(np.allclose(p.grad.numpy(), a * 2 / (7.0 + 1e-6)) for p, a in zip(params, arrays))
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        norm = tg.nn.utils.clip_grad_norm(params, 0.01)
    assert np.isclose(norm.item(), np.linalg.norm(np.concatenate([a.ravel() * 2 / 7.000001 for a in arrays])))


@pytest.mark.parametrize("transpose", [False, True])
def test_fused_conv_bn_equals_conv_then_bn(transpose):
    tg.manual_seed(1)
    conv = (tg.nn.ConvTranspose2d(3, 4, 3, stride=2) if transpose else
            tg.nn.Conv2d(3, 4, 3, bias=False)).double()
    bn = tg.nn.BatchNorm2d(4).double()
    bn.load_state_dict({"weight": T(RNG.standard_normal(4)), "bias": T(RNG.standard_normal(4)),
                        "running_mean": T(RNG.standard_normal(4)),
                        "running_var": T(RNG.random(4) + 0.5),
                        "num_batches_tracked": tg.tensor(3)})
    conv.eval(), bn.eval()
    with pytest.raises(ConfigError, match="eval"):
        tg.nn.utils.fuse_conv_bn_eval(conv.train(), bn, transpose)
    conv.eval()
    fused = tg.nn.utils.fuse_conv_bn_eval(conv, bn, transpose)
    x = T(RNG.standard_normal((2, 3, 5, 5)))
    assert np.allclose(fused(x).numpy(), bn(conv(x)).numpy(), atol=1e-12)
    assert isinstance(fused.weight, tg.nn.Parameter) and fused.weight is not conv.weight
    assert fused.bias.shape == (4,)


def test_fused_linear_bn_and_skip_init_and_deprecated_init():
    tg.manual_seed(2)
    linear, bn = tg.nn.Linear(3, 4).double(), tg.nn.BatchNorm1d(4).double()
    bn.running_mean.copy_(T(RNG.standard_normal(4)))
    bn.running_var.copy_(T(RNG.random(4) + 0.5))
    linear.eval(), bn.eval()
    x = T(RNG.standard_normal((5, 3)))
    fused = tg.nn.utils.fuse_linear_bn_eval(linear, bn)
    assert np.allclose(fused(x).numpy(), bn(linear(x)).numpy(), atol=1e-12)
    with pytest.raises(ConfigError, match="out_features"):
        tg.nn.utils.fuse_linear_bn_eval(linear, tg.nn.BatchNorm1d(5).eval())
    layer = tg.nn.utils.skip_init(tg.nn.Linear, 3, 4)
    assert layer.weight.shape == (4, 3) and isinstance(layer.weight, tg.nn.Parameter)
    w = tg.zeros(3, 4)
    with pytest.warns(FutureWarning, match=r"`nn.init.constant` is now deprecated in favor of `nn.init.constant_`"):
        tg.nn.init.constant(w, 0.5)
    assert np.all(w.numpy() == 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("normal", "uniform", "xavier_uniform", "xavier_normal", "kaiming_uniform",
                     "kaiming_normal", "orthogonal"):
            getattr(tg.nn.init, name)(w)
