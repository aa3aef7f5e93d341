"""Typed exceptions. Every error tensorgan raises on bad input is one of these (or a plain
``TypeError``/``ValueError`` subclass of them), and its message names what was wrong, so that the
CLI can print one clear line and a library user can catch precisely what they expect."""


class TensorganError(Exception):
    """Base class of every tensorgan error."""


class ShapeError(TensorganError, ValueError, RuntimeError):
    """Tensor shapes that do not fit an op; the message names the op and the shapes. A
    RuntimeError too, as torch's shape errors are (``torch.cat`` / ``matmul`` / broadcasting
    mismatches), so ``except RuntimeError`` in torch code catches it."""


class IndexOutOfRangeError(ShapeError, IndexError):
    """An index outside a tensor's shape (an IndexError too, so iteration stops as usual)."""


class MaskShapeError(IndexOutOfRangeError):
    """A bool (or uint8) mask whose shape differs from the dims it indexes: torch's IndexError
    "The shape of the mask [k] at index 0 does not match ..." (NumPy takes a mask of no elements
    of any shape)."""


class EmptyReductionError(ShapeError, IndexError):
    """A max / min / argmax / amax / median / mode / kthvalue over an empty dim: a ShapeError, as
    tensorgan has always raised there, and an IndexError, as torch's "Expected reduction dim 0 to
    have non-zero size" is (a VQ codebook argmin over zero codes, say)."""


class DTypeError(TensorganError, TypeError, RuntimeError):
    """Unsupported dtype, or float32 mixed with float64. A RuntimeError too, as torch's dtype
    mismatches are ("expected scalar type Float but found Double")."""


class RNNInputDTypeError(DTypeError, ValueError):
    """A recurrent layer (``nn.RNN`` / ``LSTM`` / ``GRU``) given an input whose dtype is not its
    weights': a DTypeError, as tensorgan has always raised there, and a ValueError, as torch's
    "RNN input dtype (...) does not match weight dtype (...)" is."""


class DTypeValueError(DTypeError, ValueError):
    """A dtype torch refuses with a ValueError (``affine_grid``'s integer or bool theta:
    "Expected theta to have floating point type", ``Tensor.type('foo')``'s "invalid type:
    'foo'"); a DTypeError here too."""


class DTypeNotImplementedError(DTypeError, NotImplementedError):
    """An op torch does not implement for the input's dtype (``"avg_pool2d" not implemented for
    'Int'``, a NotImplementedError there -- itself a RuntimeError); a DTypeError here too."""


class InputTypeError(TensorganError, TypeError):
    """An argument of the wrong kind: a NumPy array or list where a Tensor is needed, a string
    where a number is; the message names the op and what it got."""


class TensorDataError(InputTypeError, ValueError, RuntimeError):
    """Data a tensor cannot be made from (``tensor(None)``, ``tensor(['a'])``, a dict, a set, a
    generator, a sequence holding None): an InputTypeError, as tensorgan has always raised there,
    and the RuntimeError / ValueError torch raises ("Could not infer dtype of NoneType", "too many
    dimensions 'str'")."""


class DistributionInputError(InputTypeError, ValueError):
    """A distribution given something other than a Tensor or number (``Normal(None, 1)``,
    ``log_prob(0.5)``): an InputTypeError, as tensorgan has always raised there, and the
    ValueError torch.distributions raises."""


class AutogradInputsError(InputTypeError, RuntimeError):
    """``autograd.grad(out, [])`` / ``backward(inputs=[])``: an empty ``inputs`` list, which torch
    refuses with a RuntimeError ("`inputs` argument to `grad()` cannot be empty."); the
    InputTypeError tensorgan raised there before too."""


class MissingArgumentError(InputTypeError, RuntimeError):
    """A call without an argument torch requires and refuses with a RuntimeError: ``clamp(x)``
    with neither bound, ``hstack([])`` / ``meshgrid()`` with no tensors; the InputTypeError
    tensorgan raised there before too."""

class ValueOverflowError(DTypeError, ValueError, OverflowError):
    """A number that does not fit the integer dtype asked for (``tensor([300], dtype=uint8)``):
    torch's RuntimeError "value cannot be converted to type uint8 without overflow" (its
    ValueError "Overflow when unpacking long long" past int64); the OverflowError NumPy raised
    there before too."""


class ShapeArgumentError(InputTypeError, RuntimeError):
    """A shape argument that is not ints (``broadcast_shapes(np.ones((2, 3)))``): torch raises
    a RuntimeError ("Input shapes should be of type ints...") or, for a string, a TypeError; this
    is both."""


class MemoryOverlapError(InputTypeError, RuntimeError):
    """An in-place write torch refuses because elements of the written-to tensor share one memory
    location (``x.expand(3, 2).mul_(2)``): a RuntimeError, as torch's ("unsupported operation:
    more than one element of the written-to tensor refers to a single memory location"), and an
    InputTypeError, as tensorgan raised there before."""


class ClampBoundsError(MissingArgumentError):
    """``clamp`` / ``clip`` given neither min nor max: a RuntimeError, as torch's ("At least one
    of 'min' or 'max' must not be None"), and an InputTypeError, as tensorgan raised there
    before."""


class ReadOnlyMemoryError(InputTypeError, RuntimeError):
    """An in-place write into memory that cannot be written: a tensor over a read-only buffer
    (``frombuffer(bytes)``, a read-only memory map). torch writes there regardless (undefined
    behaviour, after its "not writable" warning); tensorgan refuses, naming the memory. (A NumPy
    array merely flagged ``writeable=False`` over writable memory is written, as torch's.)"""


class IndexValueError(InputTypeError, IndexOutOfRangeError):
    """An index value outside the table it looks up (an embedding row past the vocabulary): an
    InputTypeError, as tensorgan has always raised there, and an IndexError (via
    IndexOutOfRangeError), as torch's "index out of range in self" is."""


class IndexDTypeError(DTypeError, InputTypeError, IndexError):
    """A floating-point tensor given as indices (gather / scatter / index_select / embedding /
    class targets / ``x[t]``): torch refuses float index dtypes outright, even when every value
    is whole -- a RuntimeError there, an IndexError for ``x[t]``; this is both (and a TypeError)."""


def float_index_error(op: str, dtype: object, name: str = "index") -> IndexDTypeError:
    """The error for a float ``name`` tensor given to ``op`` (raised by the caller): refused by
    dtype, not by value, as torch's; the message names the dtype and the way out."""
    return IndexDTypeError(f"{op}: {name} must be an integer tensor (int64 or int32 whole numbers), "
                           f"got dtype {dtype}; torch refuses float indices even when whole: "
                           f"convert with .long()")


class NegativeIntegerPowerError(InputTypeError, RuntimeError):
    """An integer tensor to a negative Python int power (``x ** -1``): torch's RuntimeError
    ("Integers to negative integer powers are not allowed."); the InputTypeError tensorgan
    raised there before too."""


class IntegerDivisionError(TensorganError, ZeroDivisionError, RuntimeError):
    """Integer ``//``, ``%``, fmod / remainder / div(rounding_mode=...) by zero: torch raises
    RuntimeError("ZeroDivisionError") there, Python's integers ZeroDivisionError; this is both
    (float tensors give inf / NaN instead, as torch's)."""


class JitArchiveError(TensorganError, NotImplementedError):
    """``tg.jit.save`` / ``tg.jit.load``: there is no TorchScript archive format here (it pickles
    code); a NotImplementedError (so a RuntimeError, as torch's loading errors are)."""


class JitInterfaceError(InputTypeError, RuntimeError):
    """``@tg.jit.interface`` on something that is not a class, or on a class that inherits from
    more than ``object`` / one ``nn.Module``: a RuntimeError, as torch's ("interface must be
    applied to a class")."""


class DeviceError(TensorganError, RuntimeError):
    """Mixed devices, or a device asked for that this machine cannot provide (and why)."""


class DeviceTypeError(DeviceError, TypeError):
    """A device built from an argument of the wrong type (``device('cuda', '0')``,
    ``device(dev, 0)``): torch's TypeError."""


class CapturableDeviceError(DeviceError, AssertionError):
    """An optimizer made with ``capturable=True`` stepped parameters on the CPU (torch raises
    AssertionError there: capture needs an accelerator)."""


class DataError(TensorganError, ValueError):
    """A dataset file or folder that is missing, truncated, corrupt or inconsistent."""


class OutOfRangeDataError(DataError, RuntimeError):
    """Values outside the range an op is defined on (binary_cross_entropy's input or target
    outside [0, 1], NaN included): a DataError, as tensorgan has always raised there, and a
    RuntimeError, as torch's ("all elements of input should be between 0 and 1") is."""


class CheckpointError(TensorganError, ValueError):
    """A checkpoint that is not one, needs pickle, or does not match the model it is loaded into."""


class StateDictMismatchError(CheckpointError, RuntimeError):
    """``Module.load_state_dict`` given a state dict that does not fit the module: missing or
    unexpected keys (with ``strict=True``), or a value of the wrong shape. A CheckpointError, as
    tensorgan has always raised there, and a RuntimeError, as torch's "Error(s) in loading
    state_dict for ..." is."""


class RNGStateTypeError(CheckpointError, TypeError):
    """``set_rng_state`` / ``Generator.set_state`` given something that is not a generator state
    tensor (a float tensor, a list): a CheckpointError, as tensorgan raised there, and a
    TypeError, as torch's "RNG state must be a torch.ByteTensor" is."""


class RNGStateError(CheckpointError, RuntimeError):
    """``set_rng_state`` / ``Generator.set_state`` given a uint8 tensor whose bytes are not a
    tensorgan generator state (torch's mt19937 state, truncated bytes): a CheckpointError and a
    RuntimeError, as torch's "Expected a CPUGeneratorImplState of size ..." is."""


class HubError(TensorganError, RuntimeError):
    """A ``hubconf.py`` that cannot be used: running it raised, or a package its ``dependencies``
    list names is missing (torch.hub's RuntimeError there); the message names the file."""


class ConfigError(TensorganError, ValueError):
    """An invalid hyperparameter or option (negative learning rate, batch size 0, ...)."""


class SeedTypeError(ConfigError, RuntimeError):
    """``Generator.manual_seed`` given a seed that is not an integer (a float, a string): a
    ConfigError, as tensorgan has always raised there, and a RuntimeError, as torch's "manual_seed
    expected a long, but got float"."""


class ClassIndexError(ConfigError, IndexError, RuntimeError):
    """A class-index target outside ``[0, C)`` (``cross_entropy`` / ``nll_loss`` /
    ``multi_margin_loss`` / ``multilabel_margin_loss``): a ConfigError, as tensorgan has always
    raised there, an IndexError as torch's "Target 7 is out of bounds" (nll / cross entropy) and a
    RuntimeError as its "target out of range" (the margin losses)."""


class QuantileArgError(ConfigError, RuntimeError):
    """``quantile`` / ``nanquantile`` given ``q`` outside [0, 1] or an unknown ``interpolation``:
    a ConfigError, as tensorgan has always raised there, and a RuntimeError, as torch's
    "quantile() q must be in the range [0, 1]" is."""


class ReparametrizeKeysError(ConfigError, RuntimeError):
    """``functional_call(..., strict=True)`` given parameter / buffer names that do not match
    the module's: a ConfigError, as tensorgan has always raised there, and a RuntimeError, as
    torch's "Error(s) in reparametrizing for ..." is."""


class FunctionalOptionError(ConfigError, RuntimeError):
    """A loss's or activation's option torch refuses with a RuntimeError (smooth_l1_loss's
    negative beta, huber_loss's delta <= 0, softshrink's negative lambd, cross_entropy's
    label_smoothing above 1, gelu's unknown approximate, rrelu's lower > upper, celu's alpha 0),
    or a functional's argument torch's C++ checks refuse (conv groups 0, a stride of the wrong
    count, ctc_loss's blank, embedding_bag's offsets, pad's value in reflect mode): a ConfigError,
    as tensorgan has always raised there, and a RuntimeError, as torch's."""


class RangeArgError(ConfigError, RuntimeError):
    """``arange``'s bounds and step torch refuses with a RuntimeError ("upper bound and lower
    bound inconsistent with step sign", "unsupported range: nan -> 0"): a ConfigError, as
    tensorgan has always raised there, and a RuntimeError, as torch's."""


class RangeStepError(RangeArgError, InputTypeError):
    """``arange``'s step 0 (or a float step an integer dtype cuts to 0): torch's RuntimeError /
    ValueError "step must be nonzero"; also the InputTypeError tensorgan raised before."""


class DiffOrderError(InputTypeError, RuntimeError):
    """``diff``'s negative ``n``: torch's RuntimeError "order must be non-negative"; also the
    InputTypeError tensorgan raised before."""


class SamplingWeightsError(ConfigError, RuntimeError):
    """``multinomial`` refusing its weights or its sample count (a NaN / inf / negative weight, a
    row summing to 0, more draws without replacement than nonzero weights, ``num_samples <= 0``):
    a ConfigError, as tensorgan has always raised there, and a RuntimeError, as torch's "invalid
    multinomial distribution" / "cannot sample n_sample > prob_dist.size(-1) samples" are, so
    ``except RuntimeError`` around a sampling loop catches it as in torch."""


class SamplingParameterError(ConfigError, InputTypeError, RuntimeError):
    """A random draw's parameter outside its domain: a probability outside [0, 1] (``bernoulli``,
    ``bernoulli_``), a negative or NaN Poisson rate, a negative std (``normal`` / ``normal_``),
    ``uniform_``'s from > to, ``randint``'s low >= high, a rate / scale / std <= 0
    (``exponential_``, ``cauchy_``, ``log_normal_``), ``geometric_``'s p outside (0, 1).  torch
    refuses each with a RuntimeError ("Expected p_in >= 0 && p_in <= 1", "invalid Poisson rate",
    "normal expects std >= 0.0", ...), so ``except RuntimeError`` catches it as there; also the
    ConfigError / InputTypeError tensorgan raised before."""


class ShapeNotImplementedError(ShapeError, NotImplementedError):
    """A shape torch's op does not implement and refuses with a NotImplementedError (a
    RuntimeError there): ``affine_grid``'s size of a length other than 4 or 5 ("affine_grid
    only supports 4D and 5D sizes"); a ShapeError here too."""


class PadShapeNotImplementedError(ShapeNotImplementedError):
    """``F.pad`` in a reflect / replicate / circular mode with a padding length its input's rank
    does not take: torch pads the last 1, 2 or 3 dims of a tensor with one or two dims more (a
    batch and / or a channel dim) and raises NotImplementedError ("Padding size 4 is not
    supported for 2D input tensor") for anything else, e.g. padding every dim of a 2-D image."""


class SequencePackingError(ConfigError, RuntimeError):
    """An option of the packed-sequence utilities torch refuses with a RuntimeError: lengths not
    in decreasing order under ``enforce_sorted=True`` (``pack_padded_sequence`` /
    ``pack_sequence``), a ``padding_side`` other than 'left' / 'right' (``pad_sequence``): a
    ConfigError, as tensorgan has always raised there, and a RuntimeError, as torch's are."""


class NormHookError(ConfigError, RuntimeError):
    """``weight_norm`` / ``spectral_norm`` applied a second time to the same parameter: a
    ConfigError, as tensorgan raised there, and a RuntimeError, as torch's "Cannot register two
    weight_norm hooks on the same parameter weight" is."""


class NormParameterError(ConfigError, AttributeError, KeyError):
    """``weight_norm`` / ``spectral_norm`` of a name that is not one of the module's parameters:
    a ConfigError, as tensorgan raised there, an AttributeError (torch's ``weight_norm``) and a
    KeyError (torch's ``spectral_norm``)."""

    def __str__(self) -> str:        # the message itself, not KeyError's quoted repr
        return Exception.__str__(self)


class PruneParameterError(ConfigError, AttributeError):
    """``nn.utils.prune`` asked to prune a name the module does not have: a ConfigError, as
    tensorgan raised there, and an AttributeError, as torch's ``getattr(module, name)`` is."""


class NormDimError(ConfigError, IndexError):
    """``weight_norm`` / ``spectral_norm`` given a ``dim`` outside the weight's dims: a
    ConfigError, as tensorgan raised there, and an IndexError, as torch's "Dimension out of
    range" is."""


class SpectralConfigError(ConfigError, RuntimeError):
    """``stft`` / ``istft`` refusing an option torch refuses with a RuntimeError (``n_fft`` or
    ``hop_length`` <= 0, ``win_length`` outside ``(0, n_fft]``, a window whose overlap-added
    square vanishes -- the NOLA condition, a negative ``length``, ``return_complex`` not given):
    a ConfigError, as tensorgan raised there, and a RuntimeError, as torch's are, so ``except
    RuntimeError`` around an audio pipeline catches it as in torch."""


class FFTNormError(ConfigError, RuntimeError):
    """A ``tg.fft`` transform given a ``norm`` string other than "backward" / "ortho" / "forward":
    a ConfigError, as tensorgan raised there, and a RuntimeError, as torch's "Invalid
    normalization mode" is."""


class DistanceOrderError(ConfigError, RuntimeError):
    """``cdist`` / ``pdist`` given a negative or NaN ``p``: a ConfigError, as tensorgan raised
    there, and a RuntimeError, as torch's "only supports non-negative p values" is."""


class WindowArgError(ConfigError, RuntimeError):
    """A convolution / pooling / unfold window argument out of its range: a stride, dilation or
    kernel size below 1, a negative padding or output size, an ``output_padding`` not below the
    stride or dilation, a pool padding over half its kernel, ``padding='same'`` with a stride, an
    ``unfold`` / ``slice_scatter`` step below 1, an ``interpolate`` scale factor that is not
    positive and finite. A
    ConfigError, as tensorgan has always raised there, and a RuntimeError, as torch's ("non-positive
    stride is not supported", "pad should be at most half of effective kernel size", ...) are, so
    ``except RuntimeError`` around a model's forward catches it as in torch."""


class ModeNotImplementedError(ConfigError, NotImplementedError):
    """A ``mode`` string the op does not know (``F.interpolate(x, mode='foo')``, ``F.pad(x, p,
    mode='foo')``): a ConfigError, as tensorgan has always raised there, and a
    NotImplementedError, as torch's ("Input Error: Only 3D, 4D and 5D input Tensors supported
    ... (got foo)", "Unrecognised padding mode foo") are."""


class SparseLayoutError(ConfigError, NotImplementedError):
    """A sparse op given a tensor of a layout it does not take (``tg.sparse.softmax`` or
    ``x.sparse_mask`` of a dense tensor, ``tg.sparse.addmm`` adding into a sparse one, a CSR
    tensor of other than 2 dims): a ConfigError, and a NotImplementedError (so a RuntimeError),
    as torch's "Could not run 'aten::_sparse_softmax' ..." is."""


class ConfigTypeError(ConfigError, InputTypeError):
    """A hyperparameter of the wrong kind (``nn.Linear(2.0, 3)``, ``kernel_size=2.5``): a
    ConfigError, as tensorgan has always raised there, and a TypeError, as torch's is."""


class MissingKeyError(ConfigError, KeyError):
    """A state entry that is needed and absent ('initial_lr' in an optimizer's parameter group
    when a scheduler resumes at last_epoch >= 0): a ConfigError, and a KeyError as torch's is."""

    def __str__(self) -> str:     # the message as written, not KeyError's repr of it
        return str(self.args[0]) if self.args else ""


class NameKeyError(ConfigError, KeyError):
    """A name a module cannot hold a parameter, buffer or submodule under ('' or one with a '.',
    which state_dict keys split on): a ConfigError, and a KeyError as torch's is."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class NonFiniteError(TensorganError, FloatingPointError, RuntimeError):
    """A loss or gradient became NaN or infinite during training (a RuntimeError too, as torch's
    ``clip_grad_norm_(..., error_if_nonfinite=True)`` error: ``except RuntimeError`` catches it)."""


class LinAlgError(TensorganError, RuntimeError):
    """A matrix that a linear-algebra op cannot handle: singular in inv / solve, not
    positive-definite in cholesky (torch.linalg.LinAlgError, a RuntimeError too); the message
    names the op, the batch element and the shape."""


class LinAlgOptionError(ConfigError, RuntimeError):
    """An option a linear-algebra op does not know (lstsq's driver): a ConfigError, and a
    RuntimeError, as torch raises there."""


class UninitializedParameterError(TensorganError, ValueError):
    """A lazy module's UninitializedParameter / UninitializedBuffer used before its first
    forward gave it a shape (torch raises ValueError / RuntimeError there)."""


class AnomalyError(TensorganError, RuntimeError):
    """Anomaly detection (``tg.autograd.detect_anomaly``): a backward step produced NaN."""


class AutogradError(TensorganError, RuntimeError):
    """A use autograd cannot honour (torch's RuntimeError there, so ``except RuntimeError`` in
    torch code catches it): an in-place update of a leaf that requires grad outside no_grad(),
    backward through a freed graph or from a tensor that does not require grad, ``.numpy()`` of
    a tensor that requires grad, ...; the message names the op and the way out."""


class AutogradNotSupportedError(AutogradError, NotImplementedError):
    """An autograd feature of torch's that tensorgan's engine cannot provide (the message says
    why and what to do instead)."""


class ActivationCheckpointError(AutogradError, ShapeError):
    """torch.utils.checkpoint.CheckpointError: a checkpointed region recomputed in backward did
    not match its forward (other tensors saved, other shapes)."""


class NotOverriddenError(TensorganError, NotImplementedError):
    """A hook method called on a class that does not override it (``Module.get_extra_state``):
    a NotImplementedError, so a RuntimeError as torch's is."""


class NoRightInverseError(TensorganError, NotImplementedError):
    """A parametrization that cannot invert its map (``orthogonal``'s matrix_exp / cayley
    without ``use_trivialization``): assigning the parametrized tensor is a NotImplementedError,
    as torch's; at registration the original is kept as it is."""


class AmpError(TensorganError, RuntimeError):
    """A mixed-precision call out of order (torch's RuntimeError there): ``GradScaler.unscale_``
    twice or after ``step`` before ``update``, ``step`` twice, ``unscale_`` / ``step`` /
    ``update`` before any ``scale``; the message names the call and the way out."""


class FloatFunctionalForwardError(TensorganError, RuntimeError):
    """``nn.quantized.FloatFunctional()(x)``: the module has no forward, only its ops (``add`` /
    ``mul`` / ``cat`` ...); a RuntimeError, as torch's."""


class VmapRandomnessError(TensorganError, RuntimeError):
    """A random op (dropout, ``randn``, ...) called inside ``tg.func.vmap`` with
    ``randomness='error'`` (the default): a RuntimeError, as torch's; the message names the
    flags that allow it."""


class CollateError(DataError, RuntimeError):
    """``default_collate`` given a batch whose items do not stack (arrays of different shapes,
    tuples of different lengths): a DataError, as tensorgan has always raised there, and a
    RuntimeError, as torch's "stack expects each tensor to be equal size" is."""


class CollateTypeError(DataError, TypeError):
    """``default_collate`` given items it cannot batch (None, an object, an array of strings): a
    DataError, as tensorgan has always raised there, and a TypeError, as torch's
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists" is."""


class DatasetSizeError(ShapeError, AssertionError):
    """``TensorDataset`` given tensors whose first dims differ: a ShapeError, as tensorgan has
    always raised there, and an AssertionError, as torch's "Size mismatch between tensors" is."""


class DatasetArgumentError(ConfigError, InputTypeError, AssertionError):
    """A dataset combinator given what it cannot combine (``ConcatDataset([])``, a map dataset
    in ``ChainDataset``): a ConfigError / InputTypeError, as tensorgan has raised there, and an
    AssertionError, as torch's asserts are."""


class EmptySamplerSourceError(ConfigError, RuntimeError, ZeroDivisionError):
    """A ``RandomSampler`` with ``num_samples`` over an empty data source: nothing to draw from.
    A RuntimeError, as torch's with replacement ("random_ expects 'from' to be less than 'to'"),
    and a ZeroDivisionError, as torch's without."""
