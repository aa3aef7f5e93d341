"""Session 23's leftovers, each as torch 2.13 behaves (the spec): keepdim=None refused, pooling /
resizing / cov / igamma dtypes, float sequences as indices, BCE's range error a RuntimeError,
optimizer Tensor lr and state_dict sharing, LBFGS state lists, reflect padding limits, and the
FisherSnedecor distribution."""
import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn.functional as F
from tensorgan.errors import (DataError, DTypeError, DTypeNotImplementedError, InputTypeError,
                              ShapeError)


# -- 1. keepdim=None ----------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_keepdim_none_is_refused_as_torch(op):
    x = tg.arange(6.0).reshape(2, 3)
    with pytest.raises(InputTypeError, match="keepdim"):
        getattr(x, op)(0, keepdim=None)
    with pytest.raises(TypeError):
        getattr(tg, op)(x, 0, keepdim=None)
    assert getattr(x, op)(0).shape == (3,)                      # not given: False
    assert getattr(x, op)(dim=0, keepdim=True).shape == (1, 3)


# -- 2. pooling / interpolate / cov / igamma dtypes ----------------------------------------------
def test_avg_pool_int64_truncates_toward_zero_and_keeps_int64():
    x = tg.tensor([[[[1, 2], [2, 2]]]])                         # 7 / 4
    out = F.avg_pool2d(x, 2)
    assert out.dtype == tg.int64 and out.tolist() == [[[[1]]]]
    assert F.avg_pool2d(-x, 2).tolist() == [[[[-1]]]]          # toward zero, not floor
    assert F.avg_pool2d(x, 2, divisor_override=3).tolist() == [[[[2]]]]
    assert F.avg_pool1d(tg.tensor([[[1, 2]]]), 2).tolist() == [[[1]]]
    y = F.avg_pool3d(tg.arange(8).reshape(1, 1, 2, 2, 2), 2)   # 28 / 8
    assert y.dtype == tg.int64 and y.tolist() == [[[[[3]]]]]
    padded = F.avg_pool2d(tg.tensor([[[[1, 2, 3], [2, 2, 3], [1, 1, 1]]]]), 2, padding=1)
    assert padded.tolist() == [[[[0, 1], [0, 1]]]]             # 1/4, 5/4, 3/4, 7/4


@pytest.mark.parametrize("dtype", [tg.int32, tg.uint8, tg.bool])
def test_avg_pool_other_integer_dtypes_are_refused(dtype):
    x = tg.ones(1, 1, 4, 4).to(dtype)
    with pytest.raises(DTypeNotImplementedError, match="avg_pool2d"):
        F.avg_pool2d(x, 2)
    with pytest.raises(NotImplementedError):
        F.avg_pool3d(tg.ones(1, 1, 2, 2, 2).to(dtype), 2)


def test_lp_pool_on_int64_averages_as_torch():
    x = tg.arange(16).reshape(1, 1, 4, 4)
    out = F.lp_pool2d(x, 2, 2)                                  # sqrt(trunc(42 / 4) * 4)
    assert out.dtype.kind == "f"
    np.testing.assert_allclose(out.numpy()[0, 0, 0, 0], np.sqrt(40.0), rtol=1e-6)


def test_integer_pools_torch_refuses():
    xi = tg.arange(16).reshape(1, 1, 4, 4)
    with pytest.raises(DTypeNotImplementedError, match="max_pool1d"):
        F.max_pool1d(tg.arange(4).reshape(1, 1, 4), 2)
    values, index = F.max_pool1d(tg.arange(4).reshape(1, 1, 4), 2, return_indices=True)
    assert values.tolist() == [[[1, 3]]] and index.tolist() == [[[1, 3]]]
    assert F.max_pool2d(xi, 2).tolist() == [[[[5, 7], [13, 15]]]]     # integers pool in 2-D
    with pytest.raises(DTypeNotImplementedError):
        F.max_pool2d(xi > 3, 2)
    with pytest.raises(DTypeNotImplementedError):
        F.max_pool3d(tg.ones(1, 1, 2, 2, 2).bool(), 2)
    for op in (F.adaptive_avg_pool2d, F.adaptive_max_pool2d):
        with pytest.raises(DTypeNotImplementedError):
            op(xi, 2)
    with pytest.raises(RuntimeError):
        F.adaptive_avg_pool2d(xi, 1)
    with pytest.raises(DTypeNotImplementedError):
        F.adaptive_max_pool1d(tg.arange(4).reshape(1, 1, 4), 2)


@pytest.mark.parametrize("mode,rank", [("nearest", 3), ("nearest", 4), ("nearest-exact", 5), ("linear", 3),
                                       ("bilinear", 4), ("bicubic", 4), ("trilinear", 5), ("area", 4)])
def test_interpolate_refuses_int64_and_bool(mode, rank):
    x = tg.arange(2 ** (rank - 2)).reshape(1, 1, *([2] * (rank - 2)))
    with pytest.raises(DTypeNotImplementedError, match="interpolate"):
        F.interpolate(x, scale_factor=2, mode=mode)
    with pytest.raises(NotImplementedError):
        F.interpolate(x > 0, scale_factor=2, mode=mode)


def test_interpolate_uint8_modes_as_torch():
    x = tg.tensor(np.array([[[[0, 1], [2, 3]]]], dtype=np.uint8))
    near = F.interpolate(x, scale_factor=2, mode="nearest")
    assert near.dtype == tg.uint8 and near.tolist()[0][0][0] == [0, 0, 1, 1]
    # torch's uint8 path: one pass per dim (width first), each rounded half up to uint8
    bil = F.interpolate(x, scale_factor=2, mode="bilinear")
    assert bil.dtype == tg.uint8
    assert bil.tolist() == [[[[0, 0, 1, 1], [1, 1, 2, 2], [2, 2, 3, 3], [2, 2, 3, 3]]]]
    assert F.interpolate(x, scale_factor=2, mode="bicubic").dtype == tg.uint8
    for mode, y in (("linear", x[0]), ("area", x), ("trilinear", x[None])):
        with pytest.raises(DTypeNotImplementedError):
            F.interpolate(y, scale_factor=2, mode=mode)


def test_cov_and_corrcoef_of_integers_in_the_default_float_dtype():
    a = tg.tensor([[1, 2, 3], [2, 4, 7]])
    c = tg.cov(a)
    assert c.dtype == tg.float32
    np.testing.assert_allclose(c.numpy(), np.cov(a.numpy()), rtol=1e-6)
    np.testing.assert_allclose(tg.corrcoef(a).numpy(), np.corrcoef(a.numpy()), rtol=1e-6)
    w = tg.tensor([1.0, 2.0, 1.0], dtype=tg.float64)
    c64 = tg.cov(a, aweights=w)
    assert c64.dtype == tg.float64
    np.testing.assert_allclose(c64.numpy(), np.cov(a.numpy(), aweights=w.numpy()), rtol=1e-12)
    with pytest.raises(DTypeError, match="bool"):
        tg.cov(a > 2)
    with pytest.raises(RuntimeError):
        tg.corrcoef(a > 2)


def test_igamma_of_two_integer_tensors_is_refused():
    a = tg.tensor([1, 2])
    for op in (tg.igamma, tg.igammac, tg.special.gammainc):
        with pytest.raises(DTypeNotImplementedError, match="not implemented"):
            op(a, a)
    p = tg.igamma(a, tg.tensor([1.0, 2.0]))                   # one float: promoted, computed
    np.testing.assert_allclose(p.numpy(), [1 - np.exp(-1), 1 - 3 * np.exp(-2)], rtol=1e-5)


# -- 3. float sequences as indices ------------------------------------------------------------
def test_list_or_array_of_floats_indexes_as_truncated_int64():
    x = tg.arange(10.0).reshape(5, 2)
    assert x[[1.0]].tolist() == [[2.0, 3.0]]
    assert x[[1.5, -1.5]].tolist() == [[2.0, 3.0], [8.0, 9.0]]      # toward zero, as int64()
    assert x[[1, 2.0]].tolist() == [[2.0, 3.0], [4.0, 5.0]]
    assert x[np.array([1.0])].tolist() == [[2.0, 3.0]]
    assert x[np.array([1.0], dtype=np.float32)].tolist() == [[2.0, 3.0]]
    assert x[[1.0], 0].tolist() == [2.0] and x[0, [1.0]].tolist() == [1.0]
    y = x.clone()
    y[[1.0]] = 0.0
    assert y[1].tolist() == [0.0, 0.0] and y[2].tolist() == [4.0, 5.0]
    for bad in (1.0, np.float64(1.0), (1.0,)):                       # a float scalar: refused
        with pytest.raises(InputTypeError):
            x[bad]
    with pytest.raises(IndexError):
        x[tg.tensor([1.0])]                                          # a float tensor: refused
    with pytest.raises(RuntimeError, match="int64"):
        x[[float("nan")]]


# -- 4. BCE's range error ---------------------------------------------------------------------
def test_bce_range_error_is_data_error_and_runtime_error():
    for p, t, what in ((1.5, 1.0, "input values"), (0.5, 1.5, "target")):
        with pytest.raises(DataError, match=what) as info:
            F.binary_cross_entropy(tg.tensor([p]), tg.tensor([t]))
        assert isinstance(info.value, RuntimeError)


# -- 5. optimizers: a Tensor lr, load_state_dict sharing, LBFGS lists -------------------------
def test_tensor_lr_is_kept_and_read_at_each_step():
    lr = tg.tensor(0.1)
    p = tg.nn.Parameter(tg.ones(3))
    opt = tg.optim.Adam([p], lr=lr)
    assert opt.param_groups[0]["lr"] is lr and opt.state_dict()["param_groups"][0]["lr"] is lr
    p.grad = tg.ones(3)
    opt.step()                                                  # Adam's first step moves by lr
    np.testing.assert_allclose(p.detach().numpy(), [0.9] * 3, rtol=1e-5)
    lr.fill_(0.5)
    p.grad = tg.ones(3)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.4] * 3, rtol=1e-5)
    q = tg.nn.Parameter(tg.ones(2))
    sgd = tg.optim.SGD([q], lr=tg.tensor(1.0))
    sched = tg.optim.lr_scheduler.StepLR(sgd, 1, gamma=0.5)
    q.grad = tg.ones(2)
    sgd.step()
    sched.step()                                                # the Tensor filled in place
    assert isinstance(sgd.param_groups[0]["lr"], tg.Tensor)
    assert sgd.param_groups[0]["lr"].item() == 0.5 and sgd.param_groups[0]["initial_lr"].item() == 1.0
    with pytest.raises(ValueError, match="1-element"):
        tg.optim.SGD([q], lr=tg.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="foreach=True"):
        tg.optim.Adam([q], lr=tg.tensor(0.1), foreach=True)
    tg.optim.SGD([q], lr=tg.tensor(0.1), foreach=True)        # only Adam(W) refuse it, as torch
    with pytest.raises(ValueError, match=">= 0.0"):
        tg.optim.Adam([q], lr=tg.tensor(-0.1))


def test_load_state_dict_shares_same_dtype_tensors_as_torch():
    p = tg.nn.Parameter(tg.ones(3))
    opt = tg.optim.Adam([p], lr=0.1)
    p.grad = tg.ones(3)
    opt.step()
    sd = opt.state_dict()
    opt2 = tg.optim.Adam([p], lr=0.1)
    opt2.load_state_dict(sd)
    for key in ("step", "exp_avg", "exp_avg_sq"):
        assert opt2.state[p][key] is sd["state"][0][key] is opt.state[p][key]
    p.grad = tg.ones(3) * 2
    opt2.step()                                                 # one state, moved for both
    assert opt.state[p]["step"].item() == 2
    np.testing.assert_allclose(opt.state[p]["exp_avg"].numpy(), [0.1 * 0.9 + 0.2] * 3, rtol=1e-6)
    p64 = tg.nn.Parameter(tg.ones(3, dtype=tg.float64))          # another dtype: cast, a copy
    opt3 = tg.optim.Adam([p64], lr=0.1)
    opt3.load_state_dict(sd)
    assert opt3.state[p64]["exp_avg"].dtype == tg.float64
    assert opt3.state[p64]["exp_avg"] is not sd["state"][0]["exp_avg"]


def test_lbfgs_state_dict_in_torch_layout_and_round_trip(tmp_path):
    def problem():
        w = tg.nn.Parameter(tg.tensor([1.0, 2.0]))
        opt = tg.optim.LBFGS([w], lr=0.5, history_size=3, max_iter=4)

        def closure():
            opt.zero_grad()
            loss = ((w - 3) ** 2).sum() + (w[0] * w[1]) ** 2
            loss.backward()
            return loss
        return w, opt, closure
    w, opt, closure = problem()
    opt.step(closure)
    opt.step(closure)
    sd = opt.state_dict()
    state = sd["state"][0]
    assert list(state) == ["func_evals", "n_iter", "al", "d", "t", "old_dirs", "old_stps", "ro",
                           "H_diag", "prev_flat_grad", "prev_loss"]           # torch's order
    for key in ("old_dirs", "old_stps", "ro"):
        assert isinstance(state[key], list) and len(state[key]) == 3
        assert all(isinstance(v, tg.Tensor) for v in state[key])
    assert state["old_dirs"][0].shape == (2,) and state["ro"][0].shape == ()
    assert len(state["al"]) == 3 and isinstance(state["H_diag"], tg.Tensor)
    tg.save(sd, tmp_path / "lbfgs.pt")
    w2, opt2, closure2 = problem()
    with tg.no_grad():
        w2.copy_(w)
    opt2.load_state_dict(tg.load(tmp_path / "lbfgs.pt"))
    opt.step(closure)
    opt2.step(closure2)
    np.testing.assert_array_equal(w.detach().numpy(), w2.detach().numpy())


# -- 6. reflect padding larger than the input -------------------------------------------------
def test_reflect_pad_must_be_smaller_than_the_dim():
    x = tg.arange(3.0).reshape(1, 1, 3)
    assert F.pad(x, (2, 2), mode="reflect").tolist() == [[[2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0]]]
    for pad in ((3, 3), (3, 0), (0, 3)):
        with pytest.raises(ShapeError, match="reflect"):
            F.pad(x, pad, mode="reflect")


def test_vision_tensor_pad_refuses_what_torchvision_refuses():
    from tensorgan.vision.transforms import functional as TF
    img = tg.arange(6.0).reshape(1, 2, 3)                     # height 2, width 3
    assert TF.pad(img, [2, 1], padding_mode="reflect").shape == (1, 4, 7)
    with pytest.raises(ShapeError, match="reflect"):
        TF.pad(img, [3, 0], padding_mode="reflect")            # width 3: 3 is too many
    with pytest.raises(ShapeError, match="reflect"):
        TF.pad(img, [0, 2], padding_mode="reflect")            # height 2
    assert TF.pad(img, [3, 2], padding_mode="symmetric").shape == (1, 6, 9)   # <= the size
    with pytest.raises(ShapeError, match="symmetric"):
        TF.pad(img, [4, 0], padding_mode="symmetric")
    assert TF.pad(img, [5, 5], padding_mode="edge").shape == (1, 12, 13)


# -- 7. FisherSnedecor ------------------------------------------------------------------------
def _f_log_pdf(x, d1, d2):
    from math import lgamma, log
    log_beta = lgamma(d1 / 2) + lgamma(d2 / 2) - lgamma((d1 + d2) / 2)
    return (0.5 * (d1 * log(d1 * x) + d2 * log(d2) - (d1 + d2) * log(d1 * x + d2))
            - log(x) - log_beta)


def test_fisher_snedecor_moments_and_log_prob_in_float64():
    from tensorgan.distributions import FisherSnedecor, constraints
    df1 = np.array([0.5, 1.0, 2.5, 3.0, 7.0, 12.0])
    df2 = np.array([1.0, 2.5, 4.0, 5.0, 9.0, 30.0])
    d = FisherSnedecor(tg.tensor(df1), tg.tensor(df2))
    assert d.batch_shape == (6,) and d.event_shape == () and d.has_rsample
    assert isinstance(d.support, constraints.greater_than) and d.support.lower_bound == 0.0
    assert set(d.arg_constraints) == {"df1", "df2"}
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(df2 > 2, df2 / (df2 - 2), np.nan)
        var = np.where(df2 > 4, 2 * df2 ** 2 * (df1 + df2 - 2) / (df1 * (df2 - 2) ** 2 * (df2 - 4)), np.nan)
        mode = np.where(df1 > 2, (df1 - 2) / df1 * df2 / (df2 + 2), np.nan)
    np.testing.assert_allclose(d.mean.numpy(), mean, rtol=1e-14)
    np.testing.assert_allclose(d.variance.numpy(), var, rtol=1e-14)
    np.testing.assert_allclose(d.mode.numpy(), mode, rtol=1e-14)
    assert d.mean.dtype == tg.float64
    x = np.array([0.1, 0.5, 1.0, 2.0, 3.5, 10.0])
    expected = [_f_log_pdf(v, a, b) for v, a, b in zip(x, df1, df2)]
    np.testing.assert_allclose(d.log_prob(tg.tensor(x)).numpy(), expected, rtol=1e-12)
    with pytest.raises(ValueError):
        d.log_prob(tg.tensor(-x))                                 # outside the support
    with pytest.raises(ValueError):
        FisherSnedecor(-1.0, 2.0)                                 # df1 must be positive


def test_fisher_snedecor_samples_and_reparameterised_gradients():
    from tensorgan.distributions import FisherSnedecor
    tg.manual_seed(0)
    one = FisherSnedecor(3.0, 9.0)                               # numbers: batch shape ()
    assert one.sample().shape == () and one.sample().dtype == tg.float32
    assert one.expand((4,)).sample((2,)).shape == (2, 4)
    s = one.sample((40000,))
    assert bool((s > 0).all()) and abs(float(s.mean()) - 9 / 7) < 0.05
    df1 = tg.tensor([3.0], dtype=tg.float64, requires_grad=True)
    df2 = tg.tensor([9.0], dtype=tg.float64, requires_grad=True)
    y = FisherSnedecor(df1, df2).rsample((100000,))
    assert y.shape == (100000, 1)
    y.mean().backward()                          # d E[Y] / d df2 = -2 / (df2 - 2)^2; df1: 0
    assert float(df2.grad[0]) == pytest.approx(-2 / 49, rel=0.2)
    assert abs(float(df1.grad[0])) < 0.01


def test_scalar_gamma_samples():
    from tensorgan.distributions import Gamma
    tg.manual_seed(1)
    x = Gamma(2.0, 1.0).sample()                 # a 0-d draw (NumPy gives a float there)
    assert x.shape == () and float(x) > 0
    assert Gamma(tg.tensor(2.0), tg.tensor(3.0)).rsample().shape == ()
