"""Random numbers with explicit, saveable state.

Every random draw in tensorgan (initial weights, noise vectors, dropout masks) comes from a
:class:`Generator` wrapping NumPy's PCG64 on the host (data shuffling from a NumPy PCG64 Generator
too: ``DataLoader(generator=)`` takes either kind); GPU tensors get the host draw
copied over, so a seed gives the same numbers on every device. ``get_state()`` (and
``tg.get_rng_state()``) return the state as torch's do, a uint8 tensor -- here the bytes of the
PCG64 state's JSON, so checkpoints store it as a plain array, without pickle; ``set_state`` takes
that tensor back (or the plain dict, :meth:`Generator.state_dict_form`).
"""
from __future__ import annotations

import contextlib
import json
from typing import Any, Iterator

import numpy as np

from .errors import (CheckpointError, ConfigError, InputTypeError, RNGStateError, RNGStateTypeError,
                     SeedTypeError)


def _drawn(dtype) -> np.dtype:
    """The dtype NumPy's generator draws for ``dtype``: float16 is drawn in float32, then cast."""
    dt = np.dtype(dtype)
    return np.dtype(np.float32) if dt == np.float16 else dt


def fillable(a: Any) -> bool:
    """Whether draws can be made straight into array ``a`` (a host float32 / float64 array,
    C-contiguous and writable): a 400 MB ``normal_`` then needs no second buffer and no copy."""
    return isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.dtype.itemsize >= 4 \
        and a.flags.c_contiguous and a.flags.writeable


class Generator:
    """A seeded source of random numbers (PCG64). ``Generator(seed)``, or torch's
    ``Generator(device='cpu')`` / ``Generator('cuda')`` (a device as the first argument): the
    device is recorded as ``.device``; draws are made on the host whatever it is (see above)."""

    def __init__(self, seed: Any = None, device: Any = None):
        from .backend import Device, device as _device
        if isinstance(seed, (str, Device)):             # torch's positional is the device
            if device is not None:
                raise ConfigError(f"Generator: device given twice ({seed!r} and device={device!r})")
            seed, device = None, seed
        self.device = _device("cpu" if device is None else device)
        if self.device.type == "cuda" and self.device.index is None:
            self.device = _device("cuda:0")     # torch's: the current CUDA device, indexed
        self.manual_seed(seed)

    def manual_seed(self, seed: int | None) -> "Generator":
        """Reseed. A negative seed is allowed, as in PyTorch (it is taken modulo 2**64, which
        ``initial_seed()`` returns); one outside -2**63 .. 2**64 - 1 is a ConfigError. ``None``:
        a seed from the OS's entropy, recorded, so ``initial_seed()`` is an int as torch's is."""
        if seed is None:        # (torch's idiom np.random.seed(torch.initial_seed() % 2**32) needs an int)
            seed = _entropy_seed()
        if isinstance(seed, np.random.SeedSequence):    # SeedSequence: derived streams
            self._initial_seed, entropy = seed, seed
        elif isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
            raise SeedTypeError(f"manual_seed: seed must be an integer or None, got "
                                f"{type(seed).__name__} {seed!r}")
        else:
            entropy = check_seed_range(int(seed), "manual_seed") % 2**64
            self._initial_seed = entropy    # torch's initial_seed(): a negative seed modulo 2**64
        fresh = np.random.PCG64(entropy)
        if getattr(self, "rng", None) is None:
            self.rng = np.random.Generator(fresh)
        else:       # in place: whoever holds self.rng (a DataLoader) follows the reseed, as in torch
            self.rng.bit_generator.state = fresh.state
        return self

    def initial_seed(self) -> int | None:
        """The seed of the last (manual_)seed: an int (or the SeedSequence of a derived stream)."""
        return self._initial_seed

    def seed(self) -> int:
        """Reseed from the OS's entropy and return the seed (torch's ``Generator.seed()``)."""
        fresh = _entropy_seed()
        self.manual_seed(fresh)
        return fresh

    def normal(self, shape: tuple, dtype=np.float32, mean: float = 0.0, std: float = 1.0,
               out: np.ndarray | None = None) -> np.ndarray:
        """Draws of N(mean, std^2); ``out`` (a C-contiguous float32 / float64 array of ``shape``,
        see :func:`fillable`): drawn straight into it, the same values, no temporary."""
        if out is None:
            out = self.rng.standard_normal(shape, dtype=_drawn(dtype))
        else:
            self.rng.standard_normal(dtype=out.dtype, out=out)
        if std != 1.0:
            out *= std
        if mean != 0.0 or std == 0.0:    # (+ 0.0 turns std 0's -0.0 draws into 0.0, as torch's z * std + mean)
            out += mean
        return out.astype(dtype, copy=False)

    def uniform(self, shape: tuple, dtype=np.float32, low: float = 0.0, high: float = 1.0,
                out: np.ndarray | None = None) -> np.ndarray:
        """Draws of U(low, high); ``out`` as in :meth:`normal`."""
        if out is None:
            out = self.rng.random(shape, dtype=_drawn(dtype))
        else:
            self.rng.random(dtype=out.dtype, out=out)
        if (low, high) != (0.0, 1.0):       # in place: the same roundings as out * (b - a) + a
            out *= high - low
            out += low
        return out.astype(dtype, copy=False)

    def permutation(self, n: int) -> np.ndarray:
        return self.rng.permutation(n)

    def state_dict_form(self) -> dict[str, Any]:
        """The full generator state as plain Python data (ints and strings)."""
        return self.rng.bit_generator.state

    def get_state(self) -> Any:
        """The state as torch's ``Generator.get_state()``: a uint8 tensor (``.clone()``,
        ``tg.save`` and ``set_state`` take it) -- the bytes of the PCG64 state's JSON."""
        from .tensor import Tensor
        data = json.dumps(self.state_dict_form(), separators=(",", ":")).encode()
        return Tensor._from(np.frombuffer(data, dtype=np.uint8).copy(), device="cpu")

    def set_state(self, state: Any) -> "Generator":
        """Restore from :meth:`get_state`'s uint8 tensor (or a uint8 array of the same bytes)
        or from :meth:`state_dict_form`'s dict; returns the generator, as torch's."""
        if not isinstance(state, (dict, str)):
            state = _decoded_state(state)
        if not isinstance(state, dict) or state.get("bit_generator") != "PCG64":
            got = state.get("bit_generator") if isinstance(state, dict) else type(state).__name__
            raise CheckpointError(f"not a PCG64 generator state: {got!r}")
        try:
            self.rng.bit_generator.state = state
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"malformed PCG64 generator state ({type(exc).__name__}: {exc})") from None
        return self

    def state_json(self) -> str:
        return json.dumps(self.state_dict_form())

    def load_state_json(self, text: str) -> None:
        try:
            state = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"generator state is not JSON ({exc})") from None
        self.set_state(state)


def _entropy_seed() -> int:
    """A fresh seed from the OS's entropy, below 2**63."""
    return int(np.random.SeedSequence().entropy) % 2**63


def _decoded_state(state: Any) -> Any:
    """The dict a :meth:`Generator.get_state` tensor (or array) holds; CheckpointError if it is
    not one (torch's ByteTensor of another generator, arbitrary bytes)."""
    array = np.asarray(state.detach().cpu().numpy() if hasattr(state, "detach") else state)
    if array.dtype != np.uint8 or array.ndim != 1:
        raise RNGStateTypeError(f"a generator state is a 1-D uint8 tensor (from get_state() / "
                              f"get_rng_state()) or its dict, got {type(state).__name__} "
                              f"{array.dtype} of shape {array.shape}")
    try:
        return json.loads(array.tobytes().decode())
    except (UnicodeDecodeError, ValueError) as exc:
        raise RNGStateError(f"not a tensorgan PCG64 generator state ({len(array)} bytes that are not "
                              f"its JSON: {type(exc).__name__}); torch's mt19937 ByteTensor states "
                              f"cannot be loaded") from None


def check_seed_range(seed: int, where: str) -> int:
    """``seed`` if torch takes it (a signed or unsigned 64-bit integer, -2**63 <= seed < 2**64),
    else ConfigError (torch: 'Overflow when unpacking long long')."""
    if not -2**63 <= seed < 2**64:
        raise ConfigError(f"{where}: seed {seed} is out of range: a seed must fit in 64 bits "
                          f"(-2**63 <= seed < 2**64, as torch's); reduce it, e.g. seed % 2**64")
    return seed


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Reseed the default generator (used when no generator/seed is passed). As torch's
    ``manual_seed`` (which calls ``int(seed)``), a whole float (``42.0`` from a JSON / YAML
    config) or a numeric string (``args.seed`` from argparse without ``type=int``) is taken as
    its int; a fractional float is a ConfigError (torch would truncate it silently)."""
    if isinstance(seed, (float, np.floating, str, bytes)):
        seed = _whole_seed(seed)
    return default_generator.manual_seed(seed)


def _whole_seed(seed: Any) -> int:
    """``int(seed)`` for a float or string seed that is a whole number, else ConfigError."""
    try:
        whole = int(seed) if isinstance(seed, (str, bytes)) else int(seed) if float(seed).is_integer() else None
    except (ValueError, OverflowError):
        whole = None
    if whole is None:
        raise ConfigError(f"manual_seed: seed must be a whole number, got {seed!r}")
    return whole


def seed() -> int:
    """Reseed the default generator from the OS's entropy and return the seed (torch.seed)."""
    return default_generator.seed()


def initial_seed() -> int | None:
    """The default generator's seed (an int; one from the OS's entropy if none was set)."""
    return default_generator.initial_seed()


def get_rng_state() -> Any:
    """The default generator's state as torch.get_rng_state's: a uint8 tensor (see
    :meth:`Generator.get_state`)."""
    return default_generator.get_state()


def set_rng_state(state: Any) -> None:
    """Restore the default generator from :func:`get_rng_state`'s tensor (or the dict form)."""
    default_generator.set_state(state)


@contextlib.contextmanager
def fork_rng(devices: Any = None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str | None = None) -> Iterator[None]:
    """torch.random.fork_rng: the default generator's state is restored when the block exits
    (normally or by an exception), so draws inside it do not move the stream outside.  One
    generator serves every device here (GPU tensors get host draws), so ``devices`` /
    ``device_type`` select nothing more; ``enabled=False`` forks nothing."""
    if not isinstance(enabled, (bool, np.bool_)):
        raise ConfigError(f"{_caller}: enabled must be a bool, got {enabled!r}")
    if not enabled or device_type == "meta":
        yield
        return
    saved = default_generator.state_dict_form()
    try:
        yield
    finally:
        default_generator.set_state(saved)


def resolve(generator: Generator | None = None, seed: int | None = None, *,
            device: Any = None) -> Generator:
    """The generator to draw from: ``generator``, a fresh one of ``seed``, or the default one.
    With the ``device`` the draws are for, a generator made for another device (``Generator(
    'cuda')`` drawing CPU tensors) is refused, as torch refuses it ("Expected a 'cpu' device type
    for generator but found 'cuda'"). A CPU generator serves every device (GPU tensors get host
    draws: the Trainer's noise generators feed CUDA tensors), so only a non-CPU one is checked."""
    if generator is not None and seed is not None:
        raise ConfigError("pass either generator= or seed=, not both")
    if seed is not None:
        if not isinstance(seed, (int, np.integer, np.random.SeedSequence)):  # not Generator's device form
            raise ConfigError(f"seed must be an integer or None, got {seed!r}")
        return Generator(seed)
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise InputTypeError(f"generator must be a tensorgan.Generator, got {type(generator).__name__}")
    if device is not None and generator.device.type not in ("cpu", getattr(device, "type", device)):
        from .errors import DeviceError
        raise DeviceError(f"expected a {getattr(device, 'type', device)!r} device type for the "
                          f"generator, but found {generator.device.type!r} (as torch: a generator "
                          f"draws for tensors of its own device type)")
    return generator


def numpy_rng(generator: Any, owner: str, fresh: bool = False) -> np.random.Generator | None:
    """The NumPy stream behind a ``generator=`` argument: a ``tg.Generator``'s own, or a
    ``numpy.random.Generator`` as it is. ``None`` gives None, or with ``fresh=True`` a new PCG64
    stream seeded from the default generator (as torch's samplers draw a seed from torch's default
    generator, so that ``tg.manual_seed`` fixes them)."""
    if generator is None:
        if not fresh:
            return None
        return np.random.Generator(np.random.PCG64(int(default_generator.rng.integers(2 ** 63))))
    if isinstance(generator, Generator):
        return generator.rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise ConfigError(f"{owner}: generator must be a tensorgan.Generator or a "
                      f"numpy.random.Generator, got {type(generator).__name__}")
