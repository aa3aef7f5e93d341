"""torchvision.models' weights API for tensorgan.

torchvision's weight enums (``VGG19_Weights.IMAGENET1K_V1``, ``"DEFAULT"``, the deprecated
``pretrained=True``) name torch pickles on download.pytorch.org, which tensorgan never unpickles.
Here the enums exist (``.url``, ``.meta`` without ``"categories"``, ``.transforms()`` giving the
preprocessing as a tensorgan transform) but a model builder refuses them with a CheckpointError
that says how to convert the weights once; ``weights=`` takes instead

- the path (str / os.PathLike) of a converted file: a plain ``.npz`` of the state_dict's
  arrays (``np.savez(f, **{k: v.numpy() for k, v in m.state_dict().items()})`` in torch) or a
  tensorgan checkpoint (``tg.save(model.state_dict(), f)``);
- an ``http(s)://`` / ``file://`` URL of such a file (downloaded once into
  ``tg.hub.get_dir()/checkpoints``, as :func:`tensorgan.hub.load_state_dict_from_url`);
- a state_dict itself (a mapping of names to Tensors / arrays).
"""
from __future__ import annotations

import os
import sys
import urllib.parse
import urllib.request
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable

import numpy as np

from ...checkpoint import _META_KEY, load as tg_load
from ...errors import CheckpointError, ConfigError, DataError, InputTypeError
from ...tensor import _caller_level

__all__ = ["Weights", "WeightsEnum", "get_weight", "get_model_weights", "get_model", "list_models"]

_CONVERT = ("tensorgan never unpickles torch's .pth files; convert the weights once, in PyTorch "
            "with torchvision: `m = torchvision.models.{builder}(weights={weights}); "
            "numpy.savez('{builder}.npz', **{{k: v.numpy() for k, v in m.state_dict().items()}})`, "
            "then here `{builder}(weights='{builder}.npz')` (a path or an http(s)/file URL)")


@dataclass(eq=False)
class Weights:
    """One entry of a weights enum: where torchvision's file is, the preprocessing it expects
    (``transforms()`` builds it) and its metadata."""
    url: str
    transforms: Callable[..., Any]
    meta: dict[str, Any] = field(default_factory=dict)


class WeightsEnum(Enum):
    """Base of ``VGG16_Weights`` etc.: ``.url``, ``.transforms``, ``.meta`` as torchvision's;
    ``DEFAULT`` is an alias of the newest entry; ``verify`` turns a name into a member."""

    @classmethod
    def verify(cls, obj: Any) -> Any:
        if obj is not None:
            if type(obj) is str:
                name = obj.replace(cls.__name__ + ".", "")
                if name not in cls.__members__:
                    raise ConfigError(f"{obj!r} is not a weight of {cls.__name__}; choose from "
                                      f"{sorted(cls.__members__)}")
                obj = cls[name]
            elif not isinstance(obj, cls):
                raise InputTypeError(f"Invalid Weight class provided; expected {cls.__name__} "
                                     f"but received {obj.__class__.__name__}.")
        return obj

    def get_state_dict(self, *args: Any, **kwargs: Any) -> Any:
        raise CheckpointError(f"{self!r}.get_state_dict: {self.url} is a torch pickle. "
                              + _CONVERT.format(builder=_BUILDERS_OF.get(type(self).__name__, "<model>"),
                                                weights=repr(self)))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self) -> str:
        return self.value.url

    @property
    def transforms(self) -> Callable[..., Any]:
        return self.value.transforms

    @property
    def meta(self) -> dict[str, Any]:
        return self.value.meta


_BUILDERS_OF: dict[str, str] = {}        # "VGG16_Weights" -> "vgg16" (for the messages)
_MODELS: dict[str, Callable[..., Any]] = {}
_WEIGHTS_OF: dict[str, type] = {}


def _register(builder: Callable[..., Any], weights_enum: type) -> Callable[..., Any]:
    _MODELS[builder.__name__] = builder
    _WEIGHTS_OF[builder.__name__] = weights_enum
    _BUILDERS_OF[weights_enum.__name__] = builder.__name__
    return builder


def list_models(module: Any = None, include: Any = None, exclude: Any = None) -> list[str]:
    """The builders' names (sorted), as torchvision.models.list_models (``include`` /
    ``exclude``: fnmatch patterns)."""
    import fnmatch
    names = sorted(n for n, b in _MODELS.items()
                   if module is None or b.__module__.rsplit(".", 1)[0] == module.__name__)
    if include is not None:
        pats = [include] if isinstance(include, str) else list(include)
        names = [n for n in names if any(fnmatch.fnmatch(n, p) for p in pats)]
    if exclude is not None:
        pats = [exclude] if isinstance(exclude, str) else list(exclude)
        names = [n for n in names if not any(fnmatch.fnmatch(n, p) for p in pats)]
    return names


def get_model(name: str, **config: Any) -> Any:
    """``get_model("resnet18", num_classes=10)``: the builder of that name, called."""
    key = name.lower()
    if key not in _MODELS:
        raise ConfigError(f"Unknown model {name}; tensorgan.vision.models has {list_models()}")
    return _MODELS[key](**config)


def get_model_weights(name: Any) -> type:
    """The weights enum class of a builder (its name or the function)."""
    key = name if isinstance(name, str) else getattr(name, "__name__", "")
    if key.lower() not in _WEIGHTS_OF:
        raise ConfigError(f"Unknown model {name!r}; tensorgan.vision.models has {list_models()}")
    return _WEIGHTS_OF[key.lower()]


def get_weight(name: str) -> WeightsEnum:
    """``get_weight("ResNet50_Weights.IMAGENET1K_V2")``: that enum member."""
    try:
        enum_name, value = name.split(".")
    except ValueError:
        raise ConfigError(f"Invalid weight name provided: '{name}'.") from None
    for enum_cls in _WEIGHTS_OF.values():
        if enum_cls.__name__ == enum_name:
            return enum_cls.verify(value)
    raise ConfigError(f"The weight enum '{enum_name}' for the specific method couldn't be retrieved.")


def _is_url(s: str) -> bool:
    return urllib.parse.urlparse(s).scheme in ("http", "https", "file")


def _read_weights_file(path: str, origin: str) -> dict[str, Any]:
    """A converted state_dict from ``path``: a tensorgan checkpoint (``tg.save``) or a plain
    ``.npz`` of arrays (``np.savez``); a torch pickle is refused by tg.load's message."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile):
        names = None
    if names is not None and names and all(n.endswith(".npy") for n in names) and (
            _META_KEY + ".npy") not in names and not any(n.endswith("data.pkl") for n in names):
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except ValueError as exc:
            raise CheckpointError(f"{origin}: {path} holds object arrays (pickled); save plain "
                                  f"numeric arrays with np.savez") from exc
        if not any("." in k for k in arrays) and len(arrays) > 1 and all(k.startswith("arr_") for k in arrays):
            raise CheckpointError(f"{origin}: {path} holds unnamed arrays (np.savez(f, *arrays)); "
                                  f"save the state_dict by name: np.savez(f, **state_dict)")
        return arrays
    obj = tg_load(path)
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{origin}: {path} does not hold a state_dict (got {type(obj).__name__})")
    return dict(obj)


def _fetch(url: str, origin: str) -> str:
    from ... import hub
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        return urllib.request.url2pathname(parsed.path)
    name = os.path.basename(parsed.path)
    if not name:
        raise ConfigError(f"{origin}: the URL {url!r} names no file")
    cached = os.path.join(hub.get_dir(), "checkpoints", name)
    if not os.path.exists(cached):
        try:
            os.makedirs(os.path.dirname(cached), exist_ok=True)
        except OSError as exc:
            raise DataError(f"{origin}: cannot create {os.path.dirname(cached)} for the download "
                            f"of {url} ({exc}); set another folder with tg.hub.set_dir") from exc
        sys.stderr.write(f'Downloading: "{url}" to {cached}\n')
        hub.download_url_to_file(url, cached, progress=False)
    return cached


def _resolve_weights(builder: str, weights: Any, enum_cls: type, kwargs: dict[str, Any]) -> Any:
    """``weights=`` / the deprecated ``pretrained=`` of a builder -> None or a state_dict;
    the enums and ``pretrained=True`` are refused with the way to convert torchvision's file."""
    if "pretrained" in kwargs:
        pretrained = kwargs.pop("pretrained")
        if weights is not None and pretrained:
            raise ConfigError(f"{builder}: pass weights= or the deprecated pretrained=, not both")
        warnings.warn("The parameter 'pretrained' is deprecated since 0.13 and may be removed in "
                      "the future, please use 'weights' instead.", UserWarning, stacklevel=_caller_level())
        if pretrained:
            weights = enum_cls.DEFAULT
    if weights is None:
        return None
    if isinstance(weights, WeightsEnum) or (isinstance(weights, str) and (
            weights.replace(enum_cls.__name__ + ".", "") in enum_cls.__members__)):
        member = enum_cls.verify(weights) if not isinstance(weights, WeightsEnum) else weights
        if not isinstance(member, enum_cls):
            raise InputTypeError(f"{builder}: Invalid Weight class provided; expected "
                                 f"{enum_cls.__name__} but received {type(member).__name__}.")
        raise CheckpointError(f"{builder}(weights={member!r}): torchvision's weights are a torch "
                              f"pickle ({member.url}). " + _CONVERT.format(builder=builder, weights=repr(member)))
    if isinstance(weights, Mapping):
        return dict(weights)
    if isinstance(weights, (str, os.PathLike)):
        text = os.fspath(weights)
        if isinstance(text, bytes):
            text = os.fsdecode(text)
        path = _fetch(text, builder) if _is_url(text) else text
        if not os.path.isfile(path):
            raise CheckpointError(f"{builder}: weights={text!r} is neither an existing file, an "
                                  f"http(s)/file URL nor one of {enum_cls.__name__}'s names "
                                  f"{sorted(enum_cls.__members__)}")
        if path == text or urllib.parse.urlparse(text).scheme == "file":
            return _read_weights_file(path, builder)
        try:
            return _read_weights_file(path, builder)
        except CheckpointError as exc:       # a bad download stays cached: say how to refetch
            raise CheckpointError(f"{exc} (downloaded from {text}; delete {path} to fetch it "
                                  f"again)") from exc
    raise InputTypeError(f"{builder}: weights must be None, a path or URL of converted weights, or a "
                         f"state_dict, got {type(weights).__name__}")


def _load(model: Any, state_dict: Any) -> None:
    model.load_state_dict(state_dict, strict=True)
