"""torch's remaining losses and embedding bags: multi_margin_loss, multilabel_margin_loss,
triplet_margin_with_distance_loss, ctc_loss and embedding_bag (F.* and nn.*), NLLLoss2d, and the
top-level tg.ctc_loss.  Values against NumPy loops written from torch's documentation (CTC: a
brute-force sum over every alignment), float64 gradchecks, reductions, refusals."""
import itertools
import math

import numpy as np
import pytest

import tensorgan as tg
from tensorgan import functional as F, nn
from tensorgan.errors import ConfigError, DTypeError, InputTypeError, ShapeError

REDUCE = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}


def t64(a, grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def sample(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# -- multi_margin_loss --------------------------------------------------------------------------
def np_multi_margin(x, y, p, margin, w):
    n, c = x.shape
    out = np.zeros(n)
    for i in range(n):
        for j in range(c):
            if j != y[i]:
                out[i] += w[y[i]] * max(0.0, margin - x[i, y[i]] + x[i, j]) ** p / c
    return out


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_multi_margin_loss_matches_the_documented_sum(p, reduction):
    x, y, w = sample((5, 4)), np.array([0, 3, 1, 1, 2]), np.abs(sample(4, 1)) + 0.1
    got = F.multi_margin_loss(t64(x), y, p=p, margin=0.8, weight=t64(w, False), reduction=reduction)
    np.testing.assert_allclose(got.numpy(), REDUCE[reduction](np_multi_margin(x, y, p, 0.8, w)), atol=1e-12)
    module = nn.MultiMarginLoss(p=p, margin=0.8, weight=t64(w, False), reduction=reduction)
    np.testing.assert_allclose(module(t64(x), y).numpy(), got.numpy(), atol=1e-12)
    assert tg.gradcheck(lambda a: F.multi_margin_loss(a, y, p=p, margin=0.8, weight=t64(w, False),
                                                      reduction=reduction), [t64(x)])


def test_multi_margin_loss_unbatched_and_legacy_reduction():
    x = sample(4)
    got = F.multi_margin_loss(t64(x), 2)
    assert got.shape == ()
    np.testing.assert_allclose(got.numpy(), np_multi_margin(x[None], [2], 1, 1.0, np.ones(4))[0])
    with pytest.warns(UserWarning, match="deprecated"):
        summed = nn.MultiMarginLoss(size_average=False)(t64(sample((3, 4))), [0, 1, 2])
    assert summed.shape == ()
    one_class = F.multi_margin_loss(t64(1.5), tg.tensor(0))           # 0-d input: one class
    assert one_class.shape == () and one_class.item() == 0.0
    assert F.multilabel_margin_loss(t64(1.5), tg.tensor(0)).item() == 0.0


def test_multi_margin_loss_refusals():
    x = t64(sample((3, 4)))
    with pytest.raises(ConfigError, match="p == 1 and p == 2.*p=3"):
        F.multi_margin_loss(x, [0, 1, 2], p=3)
    with pytest.raises(ConfigError, match=r"\[0, 4\).*\[0, 4\]"):
        F.multi_margin_loss(x, [0, 1, 4])
    with pytest.raises(ShapeError, match=r"target must have shape \(3,\)"):
        F.multi_margin_loss(x, [0, 1])
    with pytest.raises(ShapeError, match=r"weight must have shape \(4,\).*\(3,\)"):
        F.multi_margin_loss(x, [0, 1, 2], weight=t64([1.0, 2.0, 3.0], False))
    with pytest.raises(ShapeError, match=r"\(N, C\) or \(C,\).*\(2, 3, 4\)"):
        F.multi_margin_loss(t64(sample((2, 3, 4))), [0, 1])
    with pytest.raises(ConfigError, match="reduction"):
        F.multi_margin_loss(x, [0, 1, 2], reduction="avg")


# -- multilabel_margin_loss ---------------------------------------------------------------------
def np_multilabel_margin(x, y):
    n, c = x.shape
    out = np.zeros(n)
    for i in range(n):
        labels = []
        for v in y[i]:
            if v == -1:
                break
            labels.append(v)
        for j in labels:
            for k in range(c):
                if k not in labels:
                    out[i] += max(0.0, 1.0 - (x[i, j] - x[i, k])) / c
    return out


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_multilabel_margin_loss_stops_at_the_first_minus_one(reduction):
    x = sample((4, 4))
    y = np.array([[3, 0, -1, 1], [1, 2, 3, -1], [-1, 0, 0, 0], [0, 1, 2, 3]])
    got = F.multilabel_margin_loss(t64(x), y, reduction=reduction)
    np.testing.assert_allclose(got.numpy(), REDUCE[reduction](np_multilabel_margin(x, y)), atol=1e-12)
    np.testing.assert_allclose(nn.MultiLabelMarginLoss(reduction=reduction)(t64(x), y).numpy(), got.numpy())
    assert tg.gradcheck(lambda a: F.multilabel_margin_loss(a, y, reduction=reduction), [t64(x)])
    assert tg.gradgradcheck(lambda a: F.multilabel_margin_loss(a, y, reduction=reduction) ** 2, [t64(x)])
    unbatched = F.multilabel_margin_loss(t64(x[0]), y[0])
    assert unbatched.shape == () and np.isclose(unbatched.item(), np_multilabel_margin(x[:1], y[:1])[0])


def test_multilabel_margin_loss_refusals():
    x = t64(sample((2, 3)))
    with pytest.raises(ShapeError, match=r"target shape \(2, 2\) != input shape \(2, 3\)"):
        F.multilabel_margin_loss(x, np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(ConfigError, match=r"\[0, 3\).*\[0, 5\]"):
        F.multilabel_margin_loss(x, np.array([[0, 5, -1], [1, -1, 0]]))
    with pytest.raises(DTypeError, match="integer"):
        F.multilabel_margin_loss(x, np.zeros((2, 3)))


# -- triplet_margin_with_distance_loss ----------------------------------------------------------
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance_loss(swap):
    a, p, n = sample((5, 3), 1), sample((5, 3), 2), sample((5, 3), 3)

    def cosine_distance(u, v):
        return 1.0 - F.cosine_similarity(u, v)

    def np_cos(u, v):
        return 1.0 - (u * v).sum(1) / np.maximum(np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1), 1e-8)

    d_neg = np_cos(a, n) if not swap else np.minimum(np_cos(a, n), np_cos(p, n))
    want = np.maximum(0.0, 0.5 + np_cos(a, p) - d_neg)
    got = F.triplet_margin_with_distance_loss(t64(a), t64(p), t64(n), distance_function=cosine_distance,
                                              margin=0.5, swap=swap, reduction="none")
    np.testing.assert_allclose(got.numpy(), want, atol=1e-12)
    default = nn.TripletMarginWithDistanceLoss(swap=swap)(t64(a), t64(p), t64(n))
    np.testing.assert_allclose(default.numpy(),
                               F.triplet_margin_loss(t64(a), t64(p), t64(n), swap=swap).numpy())
    assert tg.gradcheck(lambda *t: F.triplet_margin_with_distance_loss(
        *t, distance_function=cosine_distance, swap=swap), [t64(a), t64(p), t64(n)])


def test_triplet_margin_with_distance_loss_refusals():
    a = t64(sample((2, 3)))
    with pytest.raises(ConfigError, match="margin must be greater than 0, got -1"):
        F.triplet_margin_with_distance_loss(a, a, a, margin=-1.0)
    with pytest.raises(InputTypeError, match="distance_function must be callable"):
        nn.TripletMarginWithDistanceLoss(distance_function="cosine")
    with pytest.raises(ShapeError, match="same number of dimensions"):
        F.triplet_margin_with_distance_loss(a, a, t64(sample(3)))


# -- ctc_loss -----------------------------------------------------------------------------------
def np_ctc_brute_force(lp, target, blank):
    """-log sum over every length-T path that collapses (merge repeats, drop blanks) to target."""
    t_len, classes = lp.shape
    total = 0.0
    for path in itertools.product(range(classes), repeat=t_len):
        collapsed = [c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1])]
        if collapsed == list(target):
            total += math.exp(sum(lp[t, c] for t, c in enumerate(path)))
    return -math.log(total) if total else math.inf


def log_softmax_np(z):
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


CTC_TARGETS = np.array([[1, 2, 2], [3, 0, 0], [2, 1, 0], [1, 1, 3]])
CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS = np.array([5, 4, 5, 3]), np.array([3, 1, 0, 2])


@pytest.mark.parametrize("blank", [0, 4])
def test_ctc_loss_is_the_sum_over_all_alignments(blank):
    z = sample((5, 4, 5), 7)
    lp = log_softmax_np(z)
    targets = np.where(CTC_TARGETS == blank, 3, CTC_TARGETS) if blank else CTC_TARGETS + (CTC_TARGETS == 0)
    want = np.array([np_ctc_brute_force(lp[:CTC_INPUT_LENGTHS[n], n], targets[n, :CTC_TARGET_LENGTHS[n]], blank)
                     for n in range(4)])
    got = F.ctc_loss(t64(lp), targets, CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS, blank=blank, reduction="none")
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10)
    mean = F.ctc_loss(t64(lp), targets, CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS, blank=blank)
    np.testing.assert_allclose(mean.item(), np.mean(want / np.maximum(CTC_TARGET_LENGTHS, 1)))
    summed = nn.CTCLoss(blank=blank, reduction="sum")(t64(lp), targets, CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS)
    np.testing.assert_allclose(summed.item(), want.sum())
    concatenated = np.concatenate([targets[n, :k] for n, k in enumerate(CTC_TARGET_LENGTHS)])
    np.testing.assert_allclose(F.ctc_loss(t64(lp), concatenated, tg.tensor(CTC_INPUT_LENGTHS),
                                          tg.tensor(CTC_TARGET_LENGTHS), blank=blank,
                                          reduction="none").numpy(), want, rtol=1e-10)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ctc_loss_gradcheck_through_log_softmax(reduction):
    """torch's CTC gradient is with respect to the logits of normalised log-probabilities, so
    it is checked through log_softmax (as torch's own tests do)."""
    z = t64(sample((5, 4, 5), 3))
    assert tg.gradcheck(lambda a: F.ctc_loss(F.log_softmax(a, 2), CTC_TARGETS + (CTC_TARGETS == 0),
                                             CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS, reduction=reduction), [z])


def test_ctc_loss_gradient_is_torchs_formula_and_zero_after_the_input_length():
    """d/d log_probs = exp(lp) - (posterior of each class per frame): rows sum to 0 for the
    frames within the input length, and the frames past it get 0."""
    lp = t64(log_softmax_np(sample((5, 4, 5), 3)))
    F.ctc_loss(lp, CTC_TARGETS + (CTC_TARGETS == 0), CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS,
               reduction="sum").backward()
    g = lp.grad.numpy()
    for n, length in enumerate(CTC_INPUT_LENGTHS):
        np.testing.assert_allclose(g[:length, n].sum(-1), 0.0, atol=1e-12)
        assert not g[length:, n].any()


def test_ctc_loss_impossible_alignments_and_zero_infinity():
    lp = log_softmax_np(sample((3, 2, 4), 5))
    targets, il, tl = np.array([[1, 1, 2], [1, 2, 3]]), [3, 3], [3, 2]   # 1,1,2 needs 4 frames
    loss = F.ctc_loss(t64(lp), targets, il, tl, reduction="none")
    assert np.isinf(loss.numpy()[0]) and np.isfinite(loss.numpy()[1])
    x = t64(lp)
    zeroed = F.ctc_loss(x, targets, il, tl, reduction="none", zero_infinity=True)
    assert zeroed.numpy()[0] == 0.0 and zeroed.numpy()[1] == loss.numpy()[1]
    zeroed.sum().backward()
    assert not x.grad.numpy()[:, 0].any() and np.isfinite(x.grad.numpy()).all()


def test_ctc_loss_unbatched_and_top_level():
    lp = log_softmax_np(sample((4, 3), 2))
    got = F.ctc_loss(t64(lp), [1, 2], [4], [2], reduction="none")
    assert got.shape == ()
    np.testing.assert_allclose(got.item(), np_ctc_brute_force(lp, [1, 2], 0), rtol=1e-10)
    batched = t64(lp[:, None])
    per_sample = tg.ctc_loss(batched, [[1, 2]], [4], [2])        # torch's top level: 0 = 'none'
    assert per_sample.shape == (1,)
    np.testing.assert_allclose(tg.ctc_loss(batched, [[1, 2]], [4], [2], 0, 1).item(), got.item() / 2)
    with pytest.raises(ConfigError, match="reduction is an int"):
        tg.ctc_loss(batched, [[1, 2]], [4], [2], 0, "mean")


def test_ctc_loss_refusals():
    lp = t64(log_softmax_np(sample((4, 2, 3))))
    with pytest.raises(ConfigError, match="input_lengths must be at most T=4"):
        F.ctc_loss(lp, [[1], [2]], [5, 4], [1, 1])
    with pytest.raises(ShapeError, match=r"\(N=2, S\).*longest target length 2.*\(2, 1\)"):
        F.ctc_loss(lp, [[1], [2]], [4, 4], [2, 1])
    with pytest.raises(ShapeError, match="hold 2 labels but the target lengths add up to 3"):
        F.ctc_loss(lp, [1, 2], [4, 4], [2, 1])
    with pytest.raises(ConfigError, match=r"\[0, 3\).*\[1, 3\]"):
        F.ctc_loss(lp, [[1], [3]], [4, 4], [1, 1])
    with pytest.raises(ConfigError, match="must not be the blank"):
        F.ctc_loss(lp, [[1], [0]], [4, 4], [1, 1])
    with pytest.raises(ShapeError, match="one entry per sample"):
        F.ctc_loss(lp, [[1], [2]], [4], [1, 1])
    with pytest.raises(ShapeError, match=r"\(T, N, C\) or \(T, C\)"):
        F.ctc_loss(t64(sample(3)), [1], [1], [1])
    with pytest.raises(ShapeError, match=r"must not be empty, got shape \(4, 0, 3\)"):
        F.ctc_loss(t64(np.zeros((4, 0, 3))), np.zeros((0, 1), dtype=np.int64), [], [])
    with pytest.raises(DTypeError, match="integer class indices"):
        F.ctc_loss(lp, [[1.5], [2]], [4, 4], [1, 1])
    with pytest.raises(ConfigError, match=r"blank must be a class index in \[0, 3\), got 3"):
        F.ctc_loss(lp, [[1], [2]], [4, 4], [1, 1], blank=3)


# -- embedding_bag ------------------------------------------------------------------------------
def np_embedding_bag(index, weight, starts, ends, mode, psw=None, pad=None):
    out = np.zeros((len(starts), weight.shape[1]))
    for b, (s, e) in enumerate(zip(starts, ends)):
        kept = [i for i in range(s, e) if index[i] != pad]
        rows = np.array([weight[index[i]] * (1.0 if psw is None else psw[i]) for i in kept])
        if kept:
            out[b] = rows.sum(0) if mode == "sum" else rows.mean(0) if mode == "mean" else rows.max(0)
    return out


INDEX, OFFSETS = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0]), np.array([0, 2, 2, 5])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("pad", [None, 4])
def test_embedding_bag_matches_bag_loops(mode, pad):
    w = sample((10, 3), 4)
    ends = np.append(OFFSETS[1:], INDEX.size)
    want = np_embedding_bag(INDEX, w, OFFSETS, ends, mode, pad=pad)
    got = F.embedding_bag(INDEX, t64(w), OFFSETS, mode=mode, padding_idx=pad)
    np.testing.assert_allclose(got.numpy(), want, atol=1e-12)
    last = F.embedding_bag(INDEX, t64(w), np.append(OFFSETS, 10), mode=mode, padding_idx=pad,
                           include_last_offset=True)
    np.testing.assert_allclose(last.numpy(), want, atol=1e-12)
    assert tg.gradcheck(lambda a: F.embedding_bag(INDEX, a, OFFSETS, mode=mode, padding_idx=pad), [t64(w)])
    fixed = F.embedding_bag(INDEX.reshape(2, 5), t64(w), mode=mode)
    np.testing.assert_allclose(fixed.numpy(), np_embedding_bag(INDEX, w, [0, 5], [5, 10], mode), atol=1e-12)


def test_embedding_bag_per_sample_weights_and_max_gradient_to_the_first_maximum():
    w, psw = sample((10, 3), 4), sample(10, 5)
    ends = np.append(OFFSETS[1:], INDEX.size)
    got = F.embedding_bag(INDEX, t64(w), OFFSETS, mode="sum", per_sample_weights=t64(psw), padding_idx=2)
    np.testing.assert_allclose(got.numpy(), np_embedding_bag(INDEX, w, OFFSETS, ends, "sum", psw, 2), atol=1e-12)
    assert tg.gradcheck(lambda a, s: F.embedding_bag(INDEX, a, OFFSETS, mode="sum", per_sample_weights=s),
                        [t64(w), t64(psw)])
    weight = t64(np.ones((3, 2)))
    F.embedding_bag([[0, 1, 0]], weight, mode="max").sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy(), [[1, 1], [0, 0], [0, 0]])


def test_embedding_bag_module_and_from_pretrained():
    bag = nn.EmbeddingBag(10, 3, mode="sum", padding_idx=0)
    assert bag.weight.shape == (10, 3) and not bag.weight.numpy()[0].any()
    np.testing.assert_allclose(bag(INDEX, OFFSETS).numpy(),
                               F.embedding_bag(INDEX, bag.weight, OFFSETS, mode="sum", padding_idx=0).numpy())
    w = t64(sample((4, 2)), grad=False)
    frozen = nn.EmbeddingBag.from_pretrained(w, mode="max")
    assert not frozen.weight.requires_grad and frozen.mode == "max"
    np.testing.assert_array_equal(frozen.weight.numpy(), w.numpy())
    trainable = nn.Embedding.from_pretrained(w, freeze=False)
    assert trainable.weight.requires_grad
    np.testing.assert_array_equal(trainable(np.array([3, 1])).numpy(), w.numpy()[[3, 1]])


def test_embedding_bag_refusals():
    w = t64(sample((5, 2)))
    with pytest.raises(ConfigError, match="needs offsets"):
        F.embedding_bag([1, 2], w)
    with pytest.raises(ConfigError, match="offsets must be None for 2-D input"):
        F.embedding_bag([[1, 2]], w, [0])
    with pytest.raises(ConfigError, match=r"\[0, 5\).*\[1, 7\]"):
        F.embedding_bag([1, 7], w, [0])
    with pytest.raises(ConfigError, match="per_sample_weights is only supported for mode='sum'"):
        F.embedding_bag([1, 2], w, [0], per_sample_weights=t64([1.0, 2.0]))
    with pytest.raises(ConfigError, match=r"start at 0.*got \[1\]"):
        F.embedding_bag([1, 2], w, [1])
    with pytest.raises(ConfigError, match="mode must be"):
        nn.EmbeddingBag(5, 2, mode="min")
    # (max_norm is supported now: tests/test_port_more_tutorials.py checks its renorm)


def test_nll_loss_2d_is_the_deprecated_nll_loss():
    logp = t64(log_softmax_np(sample((2, 3, 2, 2))), grad=False)
    target = np.array([[[0, 1], [2, 1]], [[1, 1], [0, 2]]])
    with pytest.warns(UserWarning, match="deprecated"):
        loss = nn.NLLLoss2d()
    np.testing.assert_allclose(loss(logp, target).numpy(), nn.NLLLoss()(logp, target).numpy())


# -- AdaptiveLogSoftmaxWithLoss -----------------------------------------------------------------
def np_adaptive_log_prob(module, x):
    """All classes' log-probabilities from the module's weights, as torch's documentation
    describes: shortlist from the head, each cluster's log-softmax plus its head entry."""
    def lin(layer, a):
        out = a @ layer.weight.numpy().T
        return out if layer.bias is None else out + layer.bias.numpy()

    head = log_softmax_np(lin(module.head, x))
    parts = [head[:, :module.shortlist_size]]
    for i, cluster in enumerate(module.tail):
        parts.append(log_softmax_np(lin(cluster[1], lin(cluster[0], x))) + head[:, module.shortlist_size + i, None])
    return np.concatenate(parts, 1)


def test_adaptive_log_softmax_with_loss():
    module = nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10, 15], div_value=2.0, head_bias=True, dtype="float64")
    assert sorted(module.state_dict()) == ["head.bias", "head.weight", "tail.0.0.weight", "tail.0.1.weight",
                                           "tail.1.0.weight", "tail.1.1.weight", "tail.2.0.weight",
                                           "tail.2.1.weight"]
    x, y = sample((9, 8), 2), np.array([0, 3, 4, 9, 10, 14, 15, 19, 2])
    full = np_adaptive_log_prob(module, x)
    np.testing.assert_allclose(np.exp(full).sum(1), 1.0)
    np.testing.assert_allclose(module.log_prob(t64(x)).numpy(), full, atol=1e-12)
    output, loss = module(t64(x), y)
    np.testing.assert_allclose(output.numpy(), full[np.arange(9), y], atol=1e-12)
    np.testing.assert_allclose(loss.item(), -full[np.arange(9), y].mean())
    np.testing.assert_array_equal(module.predict(t64(x)).numpy(), full.argmax(1))
    single = module(t64(x[1]), tg.tensor(3))
    assert single.output.shape == () and np.isclose(single.output.item(), full[1, 3])
    assert tg.gradcheck(lambda a: module(a, y).loss, [t64(x)])


def test_adaptive_log_softmax_refusals():
    with pytest.raises(ConfigError, match=r"cutoffs should be.*between 1 and n_classes-1 \(9\), got \[4, 2\]"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, [4, 2])
    with pytest.raises(ConfigError, match="cutoffs"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, [4, 10])
    module = nn.AdaptiveLogSoftmaxWithLoss(8, 10, [4], dtype="float64")
    with pytest.raises(ConfigError, match=r"\[0, 9\].*\[0, 10\]"):
        module(t64(sample((2, 8))), [0, 10])
    with pytest.raises(ShapeError, match=r"1-D target \(3,\) needs 2-D input with as many rows, got \(2, 8\)"):
        module(t64(sample((2, 8))), [0, 1, 2])


def test_ctc_loss_has_no_double_backward_as_torch():
    lp = t64(log_softmax_np(sample((4, 1, 3))))
    loss = F.ctc_loss(lp, [[1, 2]], [4], [2])
    with pytest.raises(tg.errors.TensorganError, match="CTC has no differentiable backward"):
        tg.autograd.grad(loss, lp, create_graph=True)
