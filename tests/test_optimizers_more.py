"""Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop, LBFGS and swa_utils.AveragedModel / update_bn:
each update against torch's documented algorithm written out here in NumPy (float64, a small
quadratic), hyperparameter refusals, and state round trips that continue identically."""
import copy
import json
import pickle

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import nn
from tensorgan.errors import CheckpointError, ConfigError
from tensorgan.optim import (ASGD, LBFGS, Adadelta, Adagrad, Adamax, NAdam, RAdam, Rprop)
from tensorgan.optim import swa_utils as S

H = np.array([[3.0, 0.5, 0.0], [0.5, 2.0, -0.3], [0.0, -0.3, 1.0]])   # f(p) = p.H.p / 2 - b.p
B = np.array([1.0, -2.0, 0.5])
P0 = np.array([0.7, -1.3, 2.1])


def quadratic_grad(p):
    return H @ p - B


def run(opt, p, steps):
    """``steps`` optimizer steps on the quadratic; the parameter after each."""
    out = []
    for _ in range(steps):
        p.grad = tg.tensor(quadratic_grad(p.numpy()), dtype="float64")
        opt.step()
        out.append(p.numpy())
    return np.array(out)


# -- the algorithms of torch's documentation, in NumPy ------------------------------------------------
def ref_adagrad(steps, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                maximize=False):
    p, acc, out = P0.copy(), np.full(3, initial_accumulator_value), []
    for t in range(1, steps + 1):
        g = quadratic_grad(p) * (-1 if maximize else 1) + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        acc = acc + g * g
        p = p - clr * g / (np.sqrt(acc) + eps)
        out.append(p)
    return np.array(out)


def ref_adadelta(steps, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    p, v, u, out = P0.copy(), np.zeros(3), np.zeros(3), []
    for _ in range(steps):
        g = quadratic_grad(p) * (-1 if maximize else 1) + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta
        out.append(p)
    return np.array(out)


def ref_adamax(steps, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False):
    (b1, b2), p, m, u, out = betas, P0.copy(), np.zeros(3), np.zeros(3), []
    for t in range(1, steps + 1):
        g = quadratic_grad(p) * (-1 if maximize else 1) + weight_decay * p
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g) + eps)
        p = p - lr / (1 - b1 ** t) * m / u
        out.append(p)
    return np.array(out)


def ref_nadam(steps, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
              decoupled_weight_decay=False, maximize=False):
    (b1, b2), p, m, v, prod, out = betas, P0.copy(), np.zeros(3), np.zeros(3), 1.0, []
    for t in range(1, steps + 1):
        g = quadratic_grad(p) * (-1 if maximize else 1)
        if decoupled_weight_decay:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        mu = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        prod = float(np.float32(prod) * np.float32(mu))   # torch: a 0-d float32 tensor *= mu
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        denom = np.sqrt(v / (1 - b2 ** t)) + eps
        p = p - lr * (1 - mu) / (1 - prod) * g / denom - lr * mu_next / (1 - prod * mu_next) * m / denom
        out.append(p)
    return np.array(out)


def ref_radam(steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
              decoupled_weight_decay=False, maximize=False):
    (b1, b2), p, m, v, out = betas, P0.copy(), np.zeros(3), np.zeros(3), []
    rho_inf = 2 / (1 - b2) - 1
    for t in range(1, steps + 1):
        g = quadratic_grad(p) * (-1 if maximize else 1)
        if decoupled_weight_decay:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t)
        rho_t = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
        if rho_t > 5:
            r = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            p = p - lr * m_hat * r * np.sqrt(1 - b2 ** t) / (np.sqrt(v) + eps)
        else:
            p = p - lr * m_hat
        out.append(p)
    return np.array(out)


def ref_asgd(steps, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, maximize=False):
    f32 = lambda x: float(np.float32(x))   # torch keeps eta and mu 0-d float32 tensors
    p, ax, eta, mu, out = P0.copy(), np.zeros(3), f32(lr), 1.0, []
    for t in range(1, steps + 1):
        g = quadratic_grad(p) * (-1 if maximize else 1) + weight_decay * p
        p = p * (1 - lambd * eta) - eta * g
        ax = p.copy() if mu == 1 else ax + mu * (p - ax)
        eta = f32(lr / (1 + lambd * lr * t) ** alpha)
        mu = f32(1 / max(1, t - t0))
        out.append(p)
    return np.array(out)


def ref_rprop(steps, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False):
    p, prev, size, out = P0.copy(), np.zeros(3), np.full(3, lr), []
    for _ in range(steps):
        g = quadratic_grad(p) * (-1 if maximize else 1)
        s = np.sign(g * prev)
        size = np.clip(size * np.where(s > 0, etas[1], np.where(s < 0, etas[0], 1.0)), *step_sizes)
        g = np.where(s < 0, 0.0, g)
        p = p - np.sign(g) * size
        prev = g
        out.append(p)
    return np.array(out)


CASES = [
    (Adagrad, ref_adagrad, dict(lr=0.1)),
    (Adagrad, ref_adagrad, dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.3)),
    (Adadelta, ref_adadelta, dict()),
    (Adadelta, ref_adadelta, dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.05, maximize=True)),
    (Adamax, ref_adamax, dict(lr=0.05)),
    (Adamax, ref_adamax, dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1)),
    (NAdam, ref_nadam, dict(lr=0.05)),
    (NAdam, ref_nadam, dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01)),
    (NAdam, ref_nadam, dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    (RAdam, ref_radam, dict(lr=0.05)),                               # rho_t <= 5: the plain steps
    (RAdam, ref_radam, dict(lr=0.05, betas=(0.9, 0.5), weight_decay=0.1)),   # rectified from step 2
    (RAdam, ref_radam, dict(lr=0.05, betas=(0.9, 0.5), weight_decay=0.1, decoupled_weight_decay=True)),
    (ASGD, ref_asgd, dict(lr=0.05)),
    (ASGD, ref_asgd, dict(lr=0.05, lambd=0.01, alpha=0.7, t0=3, weight_decay=0.1, maximize=True)),
    (Rprop, ref_rprop, dict()),
    (Rprop, ref_rprop, dict(lr=0.05, etas=(0.4, 1.5), step_sizes=(1e-3, 0.2))),
]
IDS = [f"{cls.__name__}-{i}" for i, (cls, _, _) in enumerate(CASES)]


@pytest.mark.parametrize("cls, reference, kwargs", CASES, ids=IDS)
def test_steps_follow_torchs_documented_algorithm(cls, reference, kwargs):
    p = nn.Parameter(P0.copy())
    got = run(cls([p], **kwargs), p, 12)
    np.testing.assert_allclose(got, reference(12, **kwargs), rtol=1e-12, atol=1e-14)


def test_asgd_keeps_the_average_of_the_iterates_after_t0():
    p = nn.Parameter(P0.copy())
    opt = ASGD([p], lr=0.05, t0=2)
    iterates = run(opt, p, 8)
    # step t uses mu = 1 / max(1, t - 1 - t0): ax restarts at step t0 + 2 and is the running mean
    # of the iterates from there on
    # (mu a float32 number, as torch's 0-d tensor: the mean to float32's rounding of 1/k)
    np.testing.assert_allclose(opt.state[p]["ax"], iterates[3:].mean(axis=0), rtol=1e-7)
    assert opt.state[p]["mu"].item() == float(np.float32(1 / 6)) and opt.state[p]["step"] == 8


@pytest.mark.parametrize("cls, reference, kwargs", [CASES[i] for i in (1, 3, 7, 11, 13, 15)],
                         ids=[IDS[i] for i in (1, 3, 7, 11, 13, 15)])
def test_state_dict_round_trip_through_json_and_npz_continues_identically(cls, reference, kwargs, tmp_path):
    p1 = nn.Parameter(P0.copy())
    o1 = cls([p1], **kwargs)
    run(o1, p1, 4)
    sd = o1.state_dict()
    # arrays to an npz, everything else to JSON (no pickle); the state's 0-d Tensors as numbers
    arrays = {k: v.numpy() for k, v in sd["state"][0].items() if isinstance(v, tg.Tensor) and v.ndim}
    sd["state"][0] = {k: v.item() if isinstance(v, tg.Tensor) and not v.ndim else v
                      for k, v in sd["state"][0].items()}
    np.savez(tmp_path / "s.npz", **arrays)
    rest = json.loads(json.dumps({**sd, "state": [{k: v for k, v in sd["state"][0].items() if k not in arrays}]}))
    with np.load(tmp_path / "s.npz") as z:
        rest["state"][0].update({k: z[k] for k in z.files})
    p2 = nn.Parameter(p1.numpy())
    o2 = cls([p2], lr=123.0)
    o2.load_state_dict(rest)
    assert o2.param_groups[0]["lr"] == o1.param_groups[0]["lr"]
    np.testing.assert_array_equal(run(o1, p1, 4), run(o2, p2, 4))


def test_load_state_dict_names_what_is_missing():
    p = nn.Parameter(P0.copy())
    opt = NAdam([p])
    run(opt, p, 1)
    sd = opt.state_dict()
    del sd["state"][0]["mu_product"]
    with pytest.raises(CheckpointError, match="mu_product"):
        NAdam([nn.Parameter(P0.copy())]).load_state_dict(sd)
    with pytest.raises(CheckpointError, match="is for NAdam"):
        RAdam([nn.Parameter(P0.copy())]).load_state_dict(opt.state_dict())


@pytest.mark.parametrize("make, pattern", [
    (lambda p: Adagrad([p], lr=-0.1), "lr must be >= 0"),
    (lambda p: Adagrad([p], lr_decay=-1), "lr_decay must be >= 0"),
    (lambda p: Adagrad([p], initial_accumulator_value=-1), "initial_accumulator_value must be >= 0"),
    (lambda p: Adagrad([p], eps=-1), "eps must be >= 0"),
    (lambda p: Adagrad([p], weight_decay=-1), "weight_decay must be >= 0"),
    (lambda p: Adadelta([p], rho=1.5), r"rho must be <= 1"),
    (lambda p: Adadelta([p], lr=float("inf")), "finite"),
    (lambda p: Adamax([p], betas=(1.0, 0.9)), r"betas\[0\] must be < 1"),
    (lambda p: Adamax([p], betas=(0.9,)), "betas must be a pair"),
    (lambda p: NAdam([p], momentum_decay=-1), "momentum_decay must be >= 0"),
    (lambda p: NAdam([p], decoupled_weight_decay="yes"), "decoupled_weight_decay must be True or False"),
    (lambda p: RAdam([p], betas=(0.9, -0.1)), r"betas\[1\] must be >= 0"),
    (lambda p: RAdam([p], eps=-1e-8), "eps must be >= 0"),
    (lambda p: ASGD([p], lr=-1), "lr must be >= 0"),
    (lambda p: ASGD([p], t0=float("nan")), "t0 must be a finite number"),
    (lambda p: Rprop([p], etas=(1.2, 0.5)), r"etas must satisfy 0 < etas\[0\] < 1 < etas\[1\], got 1.2, 0.5"),
    (lambda p: Rprop([p], maximize=1), "maximize must be True or False"),
    (lambda p: LBFGS([p], lr=-1), "lr must be >= 0"),
    (lambda p: LBFGS([p], line_search_fn="armijo"), "strong_wolfe"),
    (lambda p: LBFGS([p], history_size=0), "history_size must be a positive int"),
    (lambda p: LBFGS([{"params": [p]}, {"params": [nn.Parameter(P0.copy())]}]), "parameter groups"),
])
def test_invalid_hyperparameters_are_config_errors(make, pattern):
    with pytest.raises(ConfigError, match=pattern):
        make(nn.Parameter(P0.copy()))


def test_defaults_are_torchs():
    p = nn.Parameter(P0.copy())
    expect = {Adagrad: dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10),
              Adadelta: dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0),
              Adamax: dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
              NAdam: dict(lr=2e-3, momentum_decay=4e-3, decoupled_weight_decay=False),
              RAdam: dict(lr=1e-3, betas=(0.9, 0.999), decoupled_weight_decay=False),
              ASGD: dict(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6),
              Rprop: dict(lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50)),
              LBFGS: dict(lr=1, max_iter=20, max_eval=25, tolerance_grad=1e-7, tolerance_change=1e-9,
                          history_size=100, line_search_fn=None)}
    for cls, values in expect.items():
        group = cls([p]).param_groups[0]
        assert {k: group[k] for k in values} == values, cls.__name__


# -- LBFGS ----------------------------------------------------------------------------------------
def lbfgs_closure(opt, p):
    def closure():
        opt.zero_grad()
        loss = 0.5 * (p * tg.tensor(H, dtype="float64").matmul(p)).sum() - (p * tg.tensor(B, dtype="float64")).sum()
        loss.backward()
        return loss
    return closure


def ref_lbfgs_one_iteration_per_step(steps, lr, history_size):
    """torch's LBFGS with max_iter=1 and no line search: each step one closure, one update."""
    p, dirs, stps, ro, out = P0.copy(), [], [], [], []
    prev_g = d = t = None
    H_diag = 1.0
    for k in range(steps):
        g = quadratic_grad(p)
        if k == 0:
            d = -g
        else:
            y, s = g - prev_g, d * t
            if y @ s > 1e-10:
                if len(dirs) == history_size:
                    dirs.pop(0), stps.pop(0), ro.pop(0)
                dirs.append(y), stps.append(s), ro.append(1 / (y @ s))
                H_diag = (y @ s) / (y @ y)
            q, al = -g, [0.0] * len(dirs)
            for i in reversed(range(len(dirs))):
                al[i] = (stps[i] @ q) * ro[i]
                q = q - al[i] * dirs[i]
            d = q * H_diag
            for i in range(len(dirs)):
                d = d + (al[i] - (dirs[i] @ d) * ro[i]) * stps[i]
        prev_g = g
        t = min(1.0, 1.0 / np.abs(g).sum()) * lr if k == 0 else lr
        p = p + t * d
        out.append(p)
    return np.array(out)


def test_lbfgs_without_line_search_follows_the_two_loop_recursion():
    p = nn.Parameter(P0.copy())
    opt = LBFGS([p], lr=0.8, max_iter=1, history_size=2)
    closure = lbfgs_closure(opt, p)
    got = []
    for _ in range(8):
        opt.step(closure)
        got.append(p.numpy())
    np.testing.assert_allclose(got, ref_lbfgs_one_iteration_per_step(8, 0.8, 2), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_solves_a_quadratic_and_resumes_identically(line_search_fn):
    p = nn.Parameter(P0.copy())
    opt = LBFGS([p], lr=1, max_iter=3, line_search_fn=line_search_fn)
    loss0 = opt.step(lbfgs_closure(opt, p))
    assert isinstance(loss0, tg.Tensor)
    sd = opt.state_dict()
    twin = nn.Parameter(p.numpy())
    opt2 = LBFGS([twin], lr=5.0, max_iter=3, line_search_fn=line_search_fn)
    opt2.load_state_dict(json.loads(json.dumps(sd, default=lambda a: a.tolist())))
    for _ in range(6):
        opt.step(lbfgs_closure(opt, p))
        opt2.step(lbfgs_closure(opt2, twin))
    np.testing.assert_array_equal(p.numpy(), twin.numpy())
    np.testing.assert_allclose(p.numpy(), np.linalg.solve(H, B), atol=1e-6)
    assert opt.state[p]["func_evals"] == opt2.state[twin]["func_evals"]


def test_lbfgs_needs_a_closure_and_rejects_a_malformed_state():
    p = nn.Parameter(P0.copy())
    opt = LBFGS([p])
    with pytest.raises(ConfigError, match="closure"):
        opt.step()
    opt.step(lbfgs_closure(opt, p))
    sd = opt.state_dict()
    sd["state"][0]["old_dirs"] = np.zeros((1, 5))
    with pytest.raises(CheckpointError, match="LBFGS state is malformed"):
        LBFGS([nn.Parameter(P0.copy())]).load_state_dict(sd)


# -- swa_utils.AveragedModel ------------------------------------------------------------------------
def small_generator():
    return tg.models.dcgan.Generator(image_shape=(1, 8, 8), latent_dim=4, base_channels=2,
                                     generator=tg.Generator().manual_seed(0))


def perturb(model, rng):
    """A stand-in for an optimizer step: new random parameters and running statistics."""
    for p in model.parameters():
        p.array[...] = rng.standard_normal(p.shape).astype(p.dtype)
    for name, b in model.named_buffers():
        if isinstance(b, tg.Tensor):
            b.array[...] = np.abs(rng.standard_normal(b.shape)).astype(b.dtype) + 0.5


def test_ema_of_a_dcgan_generator_follows_the_formula_and_round_trips():
    rng = np.random.default_rng(0)
    G = small_generator()
    ema = S.AveragedModel(G, multi_avg_fn=S.get_ema_multi_avg_fn(0.9))
    ref = None
    for _ in range(5):
        perturb(G, rng)
        ema.update_parameters(G)
        now = {k: v.numpy() for k, v in G.named_parameters()}
        ref = now if ref is None else {k: 0.9 * ref[k] + 0.1 * now[k] for k in ref}
    assert int(ema.n_averaged) == 5 and ema.n_averaged.dtype == np.int64
    for k, v in ema.module.named_parameters():
        np.testing.assert_allclose(v.numpy(), ref[k], rtol=1e-5, atol=1e-6)
    for (k, a), (_, b) in zip(ema.module.named_buffers(), G.named_buffers()):   # copied, not averaged
        np.testing.assert_array_equal(np.asarray(a.numpy() if isinstance(a, tg.Tensor) else a),
                                      np.asarray(b.numpy() if isinstance(b, tg.Tensor) else b))
    sd = ema.state_dict()
    assert list(sd)[0] == "n_averaged" and all(k.startswith("module.") for k in list(sd)[1:])
    fresh = S.AveragedModel(small_generator(), multi_avg_fn=S.get_ema_multi_avg_fn(0.9))
    fresh.load_state_dict(sd)
    assert int(fresh.n_averaged) == 5
    z = tg.randn(3, 4)
    ema.eval(), fresh.eval()
    np.testing.assert_array_equal(ema(z).numpy(), fresh(z).numpy())
    assert not any(p.requires_grad is False for p in ema.parameters())   # still a model to train or run


@pytest.mark.parametrize("make", [lambda: {}, lambda: dict(avg_fn=S.get_swa_avg_fn()),
                                  lambda: dict(multi_avg_fn=S.get_swa_multi_avg_fn())])
def test_swa_is_the_running_mean(make):
    rng = np.random.default_rng(1)
    lin = nn.Linear(3, 2).double()
    swa = S.AveragedModel(lin, **make())
    seen = []
    for _ in range(6):
        perturb(lin, rng)
        seen.append(lin.weight.numpy())
        swa.update_parameters(lin)
    np.testing.assert_allclose(swa.module.weight.numpy(), np.mean(seen, axis=0), rtol=1e-13)


def test_ema_avg_fn_and_use_buffers_average_the_running_statistics():
    rng = np.random.default_rng(2)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).double()
    ema = S.AveragedModel(model, avg_fn=S.get_ema_avg_fn(0.5), use_buffers=True)
    means, counts = [], []
    for i in range(3):
        perturb(model, rng)
        model[1].num_batches_tracked[...] = 4 * i + 1
        means.append(model[1].running_mean.numpy().copy())
        counts.append(4 * i + 1)
        ema.update_parameters(model)
    want = 0.5 * (0.5 * means[0] + 0.5 * means[1]) + 0.5 * means[2]
    np.testing.assert_allclose(ema.module[1].running_mean.numpy(), want, rtol=1e-13)
    # the integer counter: the float average truncated, as torch's copy_ into an int64 buffer
    assert int(ema.module[1].num_batches_tracked) == int(0.5 * int(0.5 * 1 + 0.5 * 5) + 0.5 * 9)


def test_averaged_model_refusals():
    lin = nn.Linear(3, 2)
    with pytest.raises(ConfigError, match="only one of avg_fn and multi_avg_fn"):
        S.AveragedModel(lin, avg_fn=S.get_ema_avg_fn(), multi_avg_fn=S.get_ema_multi_avg_fn())
    with pytest.raises(ConfigError, match=r"Invalid decay value 1.5.*\[0,1\]"):
        S.get_ema_multi_avg_fn(1.5)
    swa = S.AveragedModel(lin)
    with pytest.raises(ConfigError, match="do not match"):
        swa.update_parameters(nn.Linear(3, 5))
    assert copy.deepcopy(swa).module is not swa.module


def test_an_ema_averaged_model_deep_copies_and_pickles_with_its_function():
    lin = nn.Linear(3, 2).double()
    ema = S.AveragedModel(lin, multi_avg_fn=S.get_ema_multi_avg_fn(0.5))
    ema.update_parameters(lin)
    for twin in (copy.deepcopy(ema), pickle.loads(pickle.dumps(ema))):
        with tg.no_grad():
            lin.weight.mul_(3.0)
        twin.update_parameters(lin)
        np.testing.assert_allclose(twin.module.weight.numpy(), 0.5 * (ema.module.weight.numpy() + lin.weight.numpy()))
        with tg.no_grad():
            lin.weight.div_(3.0)


def test_update_bn_recomputes_the_running_statistics_over_the_loader():
    rng = np.random.default_rng(3)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=0.3)).double()
    model.eval()
    batches = [rng.standard_normal((5, 3)) for _ in range(4)]
    loader = [(tg.tensor(x, dtype="float64"), 0) for x in batches]   # (input, label) pairs
    S.update_bn(loader, model)
    w, b = model[0].weight.numpy(), model[0].bias.numpy()
    hidden = [x @ w.T + b for x in batches]
    np.testing.assert_allclose(model[1].running_mean.numpy(), np.mean([h.mean(0) for h in hidden], 0), rtol=1e-12)
    np.testing.assert_allclose(model[1].running_var.numpy(), np.mean([h.var(0, ddof=1) for h in hidden], 0),
                               rtol=1e-12)
    assert model[1].momentum == 0.3 and not model.training and int(model[1].num_batches_tracked) == 4


@pytest.mark.parametrize("cls", [Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop])
def test_float32_parameters_keep_float32_state(cls):
    p = nn.Parameter(P0.astype(np.float32))
    opt = cls([p], lr=0.01)
    for _ in range(3):
        p.grad = tg.tensor(quadratic_grad(P0).astype(np.float32))
        opt.step()
    assert p.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state[p].values() if isinstance(v, np.ndarray))
