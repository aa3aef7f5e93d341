"""Typed exceptions. Every error tensorgan raises on bad input is one of these (or a plain
``TypeError``/``ValueError`` subclass of them), and its message names what was wrong, so that the
CLI can print one clear line and a library user can catch precisely what they expect."""


class TensorganError(Exception):
    """Base class of every tensorgan error."""


class ShapeError(TensorganError, ValueError):
    """Tensor shapes that do not fit an op; the message names the op and the shapes."""


class DTypeError(TensorganError, TypeError):
    """Unsupported dtype, or float32 mixed with float64."""


class DeviceError(TensorganError, RuntimeError):
    """Mixed devices, or a device asked for that this machine cannot provide (and why)."""


class DataError(TensorganError, ValueError):
    """A dataset file or folder that is missing, truncated, corrupt or inconsistent."""


class CheckpointError(TensorganError, ValueError):
    """A checkpoint that is not one, needs pickle, or does not match the model it is loaded into."""


class ConfigError(TensorganError, ValueError):
    """An invalid hyperparameter or option (negative learning rate, batch size 0, ...)."""


class NonFiniteError(TensorganError, FloatingPointError):
    """A loss or gradient became NaN or infinite during training."""
