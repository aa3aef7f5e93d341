"""torch's ``torch.utils.tensorboard``: a :class:`SummaryWriter` that writes TensorBoard event
files, so a GAN script's ``writer.add_scalar("loss/D", errD.item(), step)`` and
``writer.add_image("samples", make_grid(fake), step)`` run as written
(``from tensorgan.utils.tensorboard import SummaryWriter``).

Built as torch's is, on the ``tensorboard`` package's own ``EventFileWriter`` and protos, with
the same event layout: the same tags, steps, values, PNG pixels, histogram buckets and hparams
protos as torch's writer (wall times and file names aside). Values may be tensors (detached,
copied from the GPU), NumPy arrays or Python numbers.

Without the ``tensorboard`` package, importing this module raises ImportError naming the extra
to install (torch's raises ImportError when tensorboard is missing, too)."""
from __future__ import annotations

import io
import os
import socket
import time
from datetime import datetime
from typing import Any

import numpy as np

try:
    from tensorboard.compat.proto.event_pb2 import Event, SessionLog
    from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
    from tensorboard.compat.proto.tensor_pb2 import TensorProto
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
    from tensorboard.plugins.hparams import api_pb2 as _hp_api
    from tensorboard.plugins.hparams import metadata as _hp_meta
    from tensorboard.plugins.hparams import plugin_data_pb2 as _hp_data
    from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData
    from tensorboard.plugins.projector.projector_config_pb2 import EmbeddingInfo, ProjectorConfig
    from tensorboard.plugins.custom_scalar import layout_pb2
    from tensorboard.plugins.mesh import metadata as _mesh_meta
    from tensorboard.plugins.mesh.plugin_data_pb2 import MeshPluginData
    from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
except ImportError as exc:                          # pragma: no cover - depends on the machine
    raise ImportError(
        "tensorgan.utils.tensorboard needs the tensorboard package: "
        "pip install 'tensorgan[tensorboard]' (or pip install tensorboard)") from exc
from google.protobuf import struct_pb2, text_format

from ..errors import (ConfigError, ConfigTypeError, DTypeError, InputTypeError, NonFiniteError,
                      ShapeError)
from ..tensor import Tensor

__all__ = ["FileWriter", "SummaryWriter"]


def _default_bins() -> list[float]:
    """TensorBoard's (and torch's) default histogram edges: +-1e-12 * 1.1**k up to 1e20, and 0.
    Built by repeated multiplication, as theirs, so the edges are bit-identical."""
    v, pos = 1e-12, []
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    return [-b for b in reversed(pos)] + [0] + pos


_DEFAULT_BINS = _default_bins()


def _to_numpy(x: Any, what: str) -> np.ndarray:
    """A tensor (detached, on the host), a NumPy array or a number as a NumPy array."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, Tensor):
        return x.detach().numpy()
    if np.isscalar(x) and not isinstance(x, (str, bytes)):
        return np.array([x])
    raise InputTypeError(f"{what}: expected a Tensor, a NumPy array or a number, got "
                         f"{type(x).__name__}")


def _check_finite(a: np.ndarray, what: str) -> None:
    """Media cannot hold NaN / inf: casting them to pixels or samples gives arbitrary bytes."""
    if a.dtype.kind == "c":
        raise DTypeError(f"{what}: complex values cannot be logged (got {a.dtype}); pass .real or .abs()")
    if a.dtype.kind == "f" and a.size and not np.isfinite(a).all():
        bad = np.flatnonzero(~np.isfinite(a))
        raise NonFiniteError(f"{what}: {bad.size} NaN / inf value(s) (the first at flat index "
                             f"{bad[0]}: {a.reshape(-1)[bad[0]]}); media cannot store them (a pixel, a sample or a "
                             f"vertex has no NaN)")


# -- summaries -------------------------------------------------------------------------------------
def _scalar(tag: str, value: Any, new_style: bool = False,
            double_precision: bool = False) -> Summary:
    arr = _to_numpy(value, "add_scalar").squeeze()
    if arr.ndim != 0:
        raise ShapeError(f"add_scalar({tag!r}): the value must hold one element, got shape "
                         f"{tuple(arr.shape)}")
    x = float(arr)
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=x)])
    proto = (TensorProto(double_val=[x], dtype="DT_DOUBLE") if double_precision
             else TensorProto(float_val=[x], dtype="DT_FLOAT"))
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    return Summary(value=[Summary.Value(tag=tag, tensor=proto, metadata=meta)])


def _histogram(values: np.ndarray, bins: Any, max_bins: int | None) -> HistogramProto:
    """numpy's histogram over ``bins``, cut to the buckets from one left of the first non-empty
    one to the last non-empty one (TensorBoard stores right edges only)."""
    values = values.astype(float).reshape(-1)
    if values.size == 0:
        raise ShapeError("add_histogram: the values are empty")
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:   # merge runs of `group` buckets
        group = len(counts) // max_bins
        counts = np.pad(counts, (0, -len(counts) % group)).reshape(-1, group).sum(axis=-1)
        limits = np.concatenate([limits[:-1:group], limits[-1:]])
    nonzero = np.flatnonzero(counts)
    if nonzero.size == 0:
        raise ShapeError("add_histogram: no value falls inside the bins (NaN or out of range?)")
    first, last = int(nonzero[0]), int(nonzero[-1])
    if first > 0:
        counts = counts[first - 1:last + 1]
    else:
        counts = np.concatenate([[0], counts[:last + 1]])
    limits = limits[first:last + 2]
    return HistogramProto(min=values.min(), max=values.max(), num=len(values), sum=values.sum(),
                          sum_squares=values.dot(values), bucket_limit=limits.tolist(),
                          bucket=counts.tolist())


def _grid(batch: np.ndarray, ncols: int = 8) -> np.ndarray:
    """(N, C, H, W) -> one (3, rows*H, ncols*W) image, row by row, no padding (1 channel -> 3)."""
    if batch.shape[1] == 1:
        batch = np.concatenate([batch] * 3, axis=1)
    n, c, h, w = batch.shape
    if c != 3:
        raise ShapeError(f"add_images: images need 1 or 3 channels, got {c} (shape {batch.shape})")
    ncols = min(n, ncols)
    nrows = -(-n // ncols)
    canvas = np.zeros((3, nrows * h, ncols * w), dtype=batch.dtype)
    for i in range(n):
        r, q = divmod(i, ncols)
        canvas[:, r * h:(r + 1) * h, q * w:(q + 1) * w] = batch[i]
    return canvas


def _to_hwc(img: np.ndarray, dataformats: str, what: str) -> np.ndarray:
    fmt = dataformats.upper()
    letters = {4: "NCHW", 3: "HWC", 2: "HW"}.get(len(fmt))
    if letters is None or sorted(fmt) != sorted(letters):
        raise ConfigError(f"{what}: dataformats must order the letters of NCHW, CHW/HWC or HW "
                          f"once each, got {dataformats!r}")
    if img.ndim != len(fmt):
        raise ShapeError(f"{what}: dataformats {dataformats!r} needs a {len(fmt)}-D image, got "
                         f"shape {tuple(img.shape)}")
    img = img.transpose([fmt.index(c) for c in letters])
    if len(fmt) == 4:
        return _grid(img).transpose(1, 2, 0)
    if len(fmt) == 2:
        return np.stack([img] * 3, axis=2)
    if img.shape[2] == 1:
        img = np.concatenate([img] * 3, axis=2)
    return img


def _image(tag: str, img: Any, dataformats: str, what: str) -> Summary:
    """uint8 images as they are; any other dtype is taken as [0, 1] and scaled by 255 (float32
    arithmetic, clipped, truncated), then PNG-encoded."""
    from PIL import Image
    hwc = _to_hwc(_to_numpy(img, what), dataformats, what)
    scale = 1 if hwc.dtype == np.uint8 else 255
    pixels = (hwc.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    h, w, c = pixels.shape
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return Summary(value=[Summary.Value(tag=tag, image=Summary.Image(
        height=h, width=w, colorspace=c, encoded_image_string=buf.getvalue()))])


def _video(tag: str, vid: Any, fps: float) -> Summary:
    """(N, T, C, H, W) clips -> one animated GIF (Pillow) of T frames, the N clips tiled in a
    grid of 2**k rows (N padded with black clips to a power of two, as torch lays them out);
    uint8 as it is, any other dtype taken as [0, 1]."""
    from PIL import Image
    v = _to_numpy(vid, "add_video")
    if v.ndim != 5:
        raise ShapeError(f"add_video: vid_tensor must be (N, T, C, H, W), got shape {tuple(v.shape)}")
    if not (isinstance(fps, (int, float)) and not isinstance(fps, bool) and fps > 0):
        raise ConfigError(f"add_video: fps must be a positive number, got {fps!r}")
    if 0 in v.shape:
        raise ShapeError(f"add_video: vid_tensor is empty (shape {tuple(v.shape)} as (N, T, C, H, W))")
    _check_finite(v, "add_video")
    v = v.astype(np.float32) / 255.0 if v.dtype == np.uint8 else v.astype(np.float32)
    n, t, c, h, w = v.shape
    if c not in (1, 3):
        raise ShapeError(f"add_video: frames need 1 or 3 channels, got {c} (shape {v.shape})")
    padded = 1 << (n - 1).bit_length()
    if padded != n:
        v = np.concatenate([v, np.zeros((padded - n, t, c, h, w), np.float32)])
    rows = 2 ** ((n.bit_length() - 1) // 2)
    cols = padded // rows
    frames = v.reshape(rows, cols, t, c, h, w).transpose(2, 0, 4, 1, 5, 3).reshape(t, rows * h, cols * w, c)
    frames = (frames * 255).clip(0, 255).astype(np.uint8)
    images = [Image.fromarray(f[:, :, 0] if c == 1 else f) for f in frames]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:],
                   duration=max(1, round(1000 / fps)), loop=0)
    return Summary(value=[Summary.Value(tag=tag, image=Summary.Image(
        height=rows * h, width=cols * w, colorspace=c, encoded_image_string=buf.getvalue()))])


def _audio(tag: str, snd: Any, sample_rate: int) -> Summary:
    """A mono clip in [-1, 1] (anything else is clipped, with a warning) -> 16-bit WAV."""
    import warnings
    import wave
    a = _to_numpy(snd, "add_audio").squeeze()
    if a.ndim != 1:
        raise ShapeError(f"add_audio: snd_tensor must be one mono clip (1-D after squeeze), "
                         f"got shape {tuple(a.shape)}")
    _check_finite(a, "add_audio")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or not 1 <= sample_rate < 2**32:
        raise ConfigError(f"add_audio: sample_rate must be a positive int, got {sample_rate!r}")
    if a.size and np.abs(a).max() > 1:
        warnings.warn("add_audio: amplitude outside [-1, 1], clipped", stacklevel=3)
        a = a.clip(-1, 1)
    pcm = (a * np.iinfo(np.int16).max).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(int(sample_rate))
        wav.writeframes(pcm.tobytes())
    return Summary(value=[Summary.Value(tag=tag, audio=Summary.Audio(
        sample_rate=int(sample_rate), num_channels=1, length_frames=pcm.shape[0],
        encoded_audio_string=buf.getvalue(), content_type="audio/wav"))])


def _custom_scalars(layout: dict) -> Summary:
    """``{category: {chart: ['Multiline', [tags]] or ['Margin', [value, lower, upper]]}}`` -> the
    custom_scalars plugin's layout."""
    if not isinstance(layout, dict):
        raise InputTypeError(f"add_custom_scalars: layout must be a dict, got {type(layout).__name__}")
    categories = []
    for title, charts in layout.items():
        if not isinstance(title, str) or not isinstance(charts, dict):
            raise ConfigTypeError(f"add_custom_scalars: layout must map category names (str) to "
                                  f"dicts of charts, got {title!r}: {type(charts).__name__}")
        made = []
        for name, chart in charts.items():
            if not (isinstance(name, str) and isinstance(chart, (list, tuple)) and len(chart) == 2):
                raise ConfigError(f"add_custom_scalars: chart {name!r} of {title!r} must be named by "
                                  f"a str and be ['Multiline' or 'Margin', [tags]], got {chart!r}")
            kind, tags = chart
            if kind not in ("Multiline", "Margin"):
                raise ConfigError(f"add_custom_scalars: chart {name!r} has type {kind!r}; the types "
                                  f"are 'Multiline' and 'Margin'")
            if isinstance(tags, str) or not isinstance(tags, (list, tuple)) or not all(
                    isinstance(tag, str) for tag in tags):
                raise ConfigTypeError(f"add_custom_scalars: the tags of chart {name!r} must be a "
                                      f"list of str, got {tags!r}")
            if kind == "Margin":
                if len(tags) != 3:
                    raise ConfigError(f"add_custom_scalars: Margin chart {name!r} needs three tags "
                                      f"(value, lower, upper), got {tags!r}")
                series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1], upper=tags[2])
                made.append(layout_pb2.Chart(title=name, margin=layout_pb2.MarginChartContent(series=[series])))
            else:
                made.append(layout_pb2.Chart(title=name, multiline=layout_pb2.MultilineChartContent(tag=tags)))
        categories.append(layout_pb2.Category(title=title, chart=made))
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="custom_scalars"))
    tensor = TensorProto(dtype="DT_STRING", tensor_shape=TensorShapeProto(),
                         string_val=[layout_pb2.Layout(category=categories).SerializeToString()])
    return Summary(value=[Summary.Value(tag="custom_scalars__config__", tensor=tensor, metadata=meta)])


def _mesh(tag: str, parts: list, config_dict: dict | None) -> Summary:
    """The mesh plugin's tensors (vertices / faces / colors, each (B, N, 3)), one summary value
    each, tagged ``<tag>_VERTEX`` and so on, with the components bitmask of those given."""
    import json
    given = [(np.asarray(_to_numpy(t, "add_mesh"), dtype=np.float64), kind) for t, kind in parts
             if t is not None]
    if not given or parts[0][0] is None:
        raise ConfigError("add_mesh: give vertices (and optionally faces / colors)")
    components = _mesh_meta.get_components_bitmask([kind for _, kind in given])
    try:
        config = "{}" if config_dict is None else json.dumps(config_dict, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise ConfigTypeError(f"add_mesh: config_dict must be JSON-serialisable ({exc})") from exc
    values = []
    for arr, kind in given:
        if arr.ndim != 3 or arr.shape[2] != 3:
            raise ShapeError(f"add_mesh: {MeshPluginData.ContentType.Name(kind).lower()} must be "
                             f"(B, N, 3), got shape {tuple(arr.shape)}")
        _check_mesh_part(arr, kind, given[0][0])
        meta = _mesh_meta.create_summary_metadata(tag, None, kind, components, arr.shape, None,
                                                  json_config=config)
        tensor = TensorProto(dtype="DT_FLOAT", float_val=arr.reshape(-1).tolist(),
                             tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=n)
                                                                for n in arr.shape]))
        values.append(Summary.Value(tag=_mesh_meta.get_instance_name(tag, kind), tensor=tensor,
                                    metadata=meta))
    return Summary(value=values)


def _check_mesh_part(arr: np.ndarray, kind: int, vertices: np.ndarray) -> None:
    """Faces index existing vertices with whole numbers; colours (one per vertex) lie in
    [0, 255]; every part has the vertices' batch size; nothing is NaN / inf."""
    name = MeshPluginData.ContentType.Name(kind).lower()
    _check_finite(arr, f"add_mesh ({name})")
    if kind == MeshPluginData.VERTEX:
        return
    if vertices.ndim == 3 and arr.shape[0] != vertices.shape[0]:
        raise ShapeError(f"add_mesh: {name} has batch size {arr.shape[0]} but the vertices "
                         f"{vertices.shape[0]}")
    n = vertices.shape[1] if vertices.ndim == 3 else 0
    if kind == MeshPluginData.FACE and arr.size:
        if (arr != np.round(arr)).any() or arr.min() < 0 or arr.max() >= n:
            raise ConfigError(f"add_mesh: faces must hold whole vertex indices in [0, {n}), got "
                              f"values in [{arr.min()}, {arr.max()}]")
    if kind == MeshPluginData.COLOR:
        if arr.shape[1] != n:
            raise ShapeError(f"add_mesh: colors has {arr.shape[1]} entries per mesh but there are "
                             f"{n} vertices (one colour each)")
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise ConfigError(f"add_mesh: colors must lie in [0, 255], got values in "
                              f"[{arr.min()}, {arr.max()}]")


def _figure_to_chw(figure: Any, close: bool) -> np.ndarray:
    try:
        import matplotlib.pyplot as plt
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError as exc:
        raise ImportError("add_figure needs matplotlib: pip install 'tensorgan[plot]'") from exc
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    w, h = figure.canvas.get_width_height()
    rgb = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8).reshape(h, w, 4)[:, :, :3]
    if close:
        plt.close(figure)
    return np.moveaxis(rgb, 2, 0)


def _text(tag: str, text: str) -> Summary:
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name="text", content=TextPluginData(version=0).SerializeToString()))
    proto = TensorProto(dtype="DT_STRING", string_val=[str(text).encode("utf_8")],
                        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=meta, tensor=proto)])


def _pr_curve(tag: str, labels: np.ndarray, predictions: np.ndarray, num_thresholds: int,
              weights: Any) -> Summary:
    """TensorBoard's pr_curves data: a (6, num_thresholds) float table of tp, fp, tn, fn,
    precision and recall at the thresholds i / (num_thresholds - 1) (at most 127, as torch's)."""
    n = min(num_thresholds, 127)
    bucket = np.int32(np.floor(predictions * (n - 1)))
    pos = labels.astype(np.float64)
    w = 1.0 if weights is None else weights
    tp_b, _ = np.histogram(bucket, bins=n, range=(0, n - 1), weights=pos * w)
    fp_b, _ = np.histogram(bucket, bins=n, range=(0, n - 1), weights=(1.0 - pos) * w)
    tp, fp = np.cumsum(tp_b[::-1])[::-1], np.cumsum(fp_b[::-1])[::-1]   # count at >= threshold
    tn, fn = fp[0] - fp, tp[0] - tp
    precision, recall = tp / np.maximum(1e-7, tp + fp), tp / np.maximum(1e-7, tp + fn)
    data = np.stack((tp, fp, tn, fn, precision, recall))
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name="pr_curves",
        content=PrCurvePluginData(version=0, num_thresholds=n).SerializeToString()))
    proto = TensorProto(dtype="DT_FLOAT", float_val=data.reshape(-1).tolist(),
                        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=k)
                                                           for k in data.shape]))
    return Summary(value=[Summary.Value(tag=tag, metadata=meta, tensor=proto)])


def _hparams_summary(tag: str, **content: Any) -> Summary:
    data = _hp_data.HParamsPluginData(version=_hp_meta.PLUGIN_DATA_VERSION, **content)
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name=_hp_meta.PLUGIN_NAME, content=data.SerializeToString()))
    return Summary(value=[Summary.Value(tag=tag, metadata=meta)])


def _hparams(hparam_dict: dict, metric_dict: dict, domains: dict | None) -> tuple[Summary, ...]:
    """The hparams plugin's Experiment, SessionStartInfo and SessionEndInfo summaries. As
    torch's: numbers (bools included: Python's bools are ints) are FLOAT64, strings STRING, None
    is skipped; a one-element tensor or array is a number."""
    domains = domains or {}
    if not isinstance(domains, dict):
        raise InputTypeError("add_hparams: hparam_domain_discrete must be a dict")
    for k, v in domains.items():
        if k not in hparam_dict or not isinstance(v, list) or \
                not all(isinstance(d, type(hparam_dict[k])) for d in v):
            raise InputTypeError(f"add_hparams: hparam_domain_discrete[{k!r}] must be a list of "
                                 f"values of the type of hparam_dict[{k!r}]")
    infos, start = [], _hp_data.SessionStartInfo()
    for k, v in hparam_dict.items():
        if v is None:
            continue
        if not isinstance(v, (int, float, str)) and isinstance(v, (Tensor, np.ndarray, np.number)):
            arr = _to_numpy(v, "add_hparams").reshape(-1)
            if arr.size != 1:
                raise ShapeError(f"add_hparams: hparam {k!r} must hold one element, got "
                                 f"{arr.size}")
            start.hparams[k].number_value = float(arr[0])
            infos.append(_hp_api.HParamInfo(name=k, type=_hp_api.DATA_TYPE_FLOAT64))
            continue
        if isinstance(v, (int, float)):
            start.hparams[k].number_value = v
            kind, field = _hp_api.DATA_TYPE_FLOAT64, "number_value"
        elif isinstance(v, str):
            start.hparams[k].string_value = v
            kind, field = _hp_api.DATA_TYPE_STRING, "string_value"
        else:
            raise InputTypeError(f"add_hparams: hparam {k!r} must be an int, float, str, bool, "
                                 f"None or one-element Tensor, got {type(v).__name__}")
        domain = (struct_pb2.ListValue(values=[struct_pb2.Value(**{field: d}) for d in domains[k]])
                  if k in domains else None)
        infos.append(_hp_api.HParamInfo(name=k, type=kind, domain_discrete=domain))
    metrics = [_hp_api.MetricInfo(name=_hp_api.MetricName(tag=k)) for k in metric_dict]
    exp = _hparams_summary(_hp_meta.EXPERIMENT_TAG, experiment=_hp_api.Experiment(
        hparam_infos=infos, metric_infos=metrics))
    ssi = _hparams_summary(_hp_meta.SESSION_START_INFO_TAG, session_start_info=start)
    sei = _hparams_summary(_hp_meta.SESSION_END_INFO_TAG, session_end_info=_hp_data.SessionEndInfo(
        status=_hp_api.STATUS_SUCCESS))
    return exp, ssi, sei


def _check_tag(tag: Any, op: str, name: str = "tag") -> None:
    """A summary tag must be a str (torch's writer hands it to protobuf, which fails with a bare
    'bad argument type for built-in operation')."""
    if not isinstance(tag, str):
        raise InputTypeError(f"SummaryWriter.{op}: {name} must be a str, got "
                             f"{type(tag).__name__} {tag!r}")


def _embedding_tag(tag: str) -> str:
    """torch's SummaryWriter._encode: ``%``, ``/`` and ``\\`` percent-escaped (a tag is a folder)."""
    return tag.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


def _embedding_files(mat: np.ndarray, metadata: Any, label_img: Any, save_path: str,
                     metadata_header: Any) -> None:
    """torch's tensors.tsv / metadata.tsv / sprite.png for the embedding projector."""
    if metadata is not None:
        metadata = list(metadata)
        if mat.shape[0] != len(metadata):
            raise ShapeError(f"add_embedding: {len(metadata)} metadata labels for {mat.shape[0]} "
                             "data points (mat's rows)")
        if not metadata_header:
            lines = [str(x) for x in metadata]
        else:
            if len(metadata_header) != len(metadata[0]):
                raise ShapeError(f"add_embedding: metadata_header has {len(metadata_header)} "
                                 f"columns but each metadata row {len(metadata[0])}")
            lines = ["\t".join(str(e) for e in row) for row in [list(metadata_header)] + metadata]
        with open(os.path.join(save_path, "metadata.tsv"), "wb") as f:
            f.write(("\n".join(lines) + "\n").encode())
    if label_img is not None:
        from PIL import Image
        imgs = _to_numpy(label_img, "add_embedding")
        if imgs.ndim != 4 or imgs.shape[0] != mat.shape[0]:
            raise ShapeError(f"add_embedding: label_img must be (N, C, H, W) with N = "
                             f"{mat.shape[0]} (mat's rows), got shape {tuple(imgs.shape)}")
        grid = _grid(imgs, ncols=int(np.ceil(imgs.shape[0] ** 0.5))).transpose(1, 2, 0)
        side = grid.shape[1]                     # a square sprite, as wide as the grid
        if grid.shape[0] > side:
            raise ShapeError(f"add_embedding: label_img {tuple(imgs.shape)} does not fit a "
                             f"square sprite {side} pixels wide (images taller than wide)")
        square = np.zeros((side, side, 3))
        square[:grid.shape[0]] = grid
        buf = io.BytesIO()
        Image.fromarray(np.uint8((square * 255).clip(0, 255))).save(buf, format="PNG")
        with open(os.path.join(save_path, "sprite.png"), "wb") as f:
            f.write(buf.getvalue())
    if mat.ndim != 2:
        raise ShapeError(f"add_embedding: mat must be 2-D (N data points, D features), got shape "
                         f"{tuple(mat.shape)}")
    with open(os.path.join(save_path, "tensors.tsv"), "wb") as f:
        for row in mat:
            f.write(("\t".join(str(v.item()) for v in row) + "\n").encode())


# -- writers ---------------------------------------------------------------------------------------
class FileWriter:
    """One event file in ``log_dir`` (tensorboard's EventFileWriter: queued, written by a thread
    every ``flush_secs`` or when ``max_queue`` events wait)."""

    def __init__(self, log_dir: Any, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str = "") -> None:
        self.event_writer = EventFileWriter(str(log_dir), max_queue, flush_secs, filename_suffix)

    def get_logdir(self) -> str:
        return self.event_writer.get_logdir()

    def add_event(self, event: Event, step: Any = None, walltime: float | None = None) -> None:
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary: Summary, global_step: Any = None,
                    walltime: float | None = None) -> None:
        self.add_event(Event(summary=summary), global_step, walltime)

    def flush(self) -> None:
        self.event_writer.flush()

    def close(self) -> None:
        self.event_writer.close()

    def reopen(self) -> None:
        self.event_writer.reopen()


class SummaryWriter:
    """torch's ``SummaryWriter``: event files for TensorBoard in ``log_dir`` (default
    ``runs/<Mon DD_HH-MM-SS>_<host><comment>``). ``purge_step`` marks a restart at that step
    (TensorBoard hides the old events from it on); after :meth:`close`, another ``add_*`` opens a
    new event file in the same directory."""

    def __init__(self, log_dir: Any = None, comment: str = "", purge_step: int | None = None,
                 max_queue: int = 10, flush_secs: float = 120, filename_suffix: str = "") -> None:
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", stamp + "_" + socket.gethostname() + comment)
        self.log_dir = log_dir
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.default_bins = list(_DEFAULT_BINS)
        self.file_writer: FileWriter | None = None
        self.all_writers: dict[str, FileWriter] | None = None
        self._get_file_writer()

    def _get_file_writer(self) -> FileWriter:
        if self.file_writer is None or self.all_writers is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs,
                                          self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                step, self.purge_step = self.purge_step, None
                self.file_writer.add_event(Event(step=step, file_version="brain.Event:2"))
                self.file_writer.add_event(Event(step=step, session_log=SessionLog(
                    status=SessionLog.START)))
        return self.file_writer

    def get_logdir(self) -> Any:
        return self.log_dir

    def _add(self, summary: Summary, global_step: Any, walltime: float | None) -> None:
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_scalar(self, tag: str, scalar_value: Any, global_step: Any = None,
                   walltime: float | None = None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        _check_tag(tag, "add_scalar")
        self._add(_scalar(tag, scalar_value, new_style, double_precision), global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step: Any = None,
                    walltime: float | None = None) -> None:
        """Each ``tag`` goes to its own run, ``<log_dir>/<main_tag>_<tag>`` (``/`` in main_tag
        becomes ``_``), all under the tag ``main_tag``: one chart with a line per tag."""
        _check_tag(main_tag, "add_scalars", "main_tag")
        for tag in tag_scalar_dict:
            _check_tag(tag, "add_scalars", "each key of tag_scalar_dict")
        walltime = time.time() if walltime is None else walltime
        root = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            run = root + "/" + main_tag.replace("/", "_") + "_" + tag
            if run not in self.all_writers:
                self.all_writers[run] = FileWriter(run, self.max_queue, self.flush_secs,
                                                   self.filename_suffix)
            self.all_writers[run].add_summary(_scalar(main_tag, value), global_step, walltime)

    def add_histogram(self, tag: str, values: Any, global_step: Any = None,
                      bins: Any = "tensorflow", walltime: float | None = None,
                      max_bins: int | None = None) -> None:
        """``bins``: ``'tensorflow'`` (TensorBoard's log-spaced edges), or anything
        ``numpy.histogram`` takes (``'auto'``, ``'fd'``, a count, edges)."""
        _check_tag(tag, "add_histogram")
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        self._add(Summary(value=[Summary.Value(tag=tag, histo=_histogram(
            _to_numpy(values, "add_histogram"), bins, max_bins))]), global_step, walltime)

    def add_histogram_raw(self, tag: str, min: float, max: float, num: int, sum: float,
                          sum_squares: float, bucket_limits: Any, bucket_counts: Any,
                          global_step: Any = None, walltime: float | None = None) -> None:
        _check_tag(tag, "add_histogram_raw")
        if len(bucket_limits) != len(bucket_counts):
            raise ShapeError(f"add_histogram_raw: {len(bucket_limits)} bucket_limits but "
                             f"{len(bucket_counts)} bucket_counts")
        hist = HistogramProto(min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
                              bucket_limit=bucket_limits, bucket=bucket_counts)
        self._add(Summary(value=[Summary.Value(tag=tag, histo=hist)]), global_step, walltime)

    def add_image(self, tag: str, img_tensor: Any, global_step: Any = None,
                  walltime: float | None = None, dataformats: str = "CHW") -> None:
        """One image: ``CHW`` (default), ``HWC`` or ``HW``; uint8 in [0, 255], anything else in
        [0, 1]. One channel becomes three."""
        _check_tag(tag, "add_image")
        self._add(_image(tag, img_tensor, dataformats, "add_image"), global_step, walltime)

    def add_images(self, tag: str, img_tensor: Any, global_step: Any = None,
                   walltime: float | None = None, dataformats: str = "NCHW") -> None:
        """A batch (``NCHW`` or ``NHWC``) as one grid image, 8 per row, no padding."""
        _check_tag(tag, "add_images")
        self._add(_image(tag, img_tensor, dataformats, "add_images"), global_step, walltime)

    def add_figure(self, tag: str, figure: Any, global_step: Any = None, close: bool = True,
                   walltime: float | None = None) -> None:
        """A matplotlib figure (or a list of them: one grid) rendered by Agg."""
        _check_tag(tag, "add_figure")
        if isinstance(figure, list):
            img = np.stack([_figure_to_chw(f, close) for f in figure])
            self.add_image(tag, img, global_step, walltime, dataformats="NCHW")
        else:
            self.add_image(tag, _figure_to_chw(figure, close), global_step, walltime)

    def add_video(self, tag: str, vid_tensor: Any, global_step: Any = None, fps: float = 4,
                  walltime: float | None = None) -> None:
        """Clips (N, T, C, H, W) as one animated GIF (Pillow; torch needs moviepy)."""
        _check_tag(tag, "add_video")
        self._add(_video(tag, vid_tensor, fps), global_step, walltime)

    def add_audio(self, tag: str, snd_tensor: Any, global_step: Any = None,
                  sample_rate: int = 44100, walltime: float | None = None) -> None:
        """A mono clip with values in [-1, 1], stored as 16-bit WAV."""
        _check_tag(tag, "add_audio")
        self._add(_audio(tag, snd_tensor, sample_rate), global_step, walltime)

    def add_custom_scalars(self, layout: dict) -> None:
        """Charts that gather scalar tags: ``{'GAN': {'loss': ['Multiline', ['loss/D',
        'loss/G']]}}``; ``['Margin', [value, lower, upper]]`` shades a band."""
        self._add(_custom_scalars(layout), None, None)

    def add_custom_scalars_multilinechart(self, tags: list, category: str = "default",
                                          title: str = "untitled") -> None:
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(self, tags: list, category: str = "default",
                                       title: str = "untitled") -> None:
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    def add_mesh(self, tag: str, vertices: Any, colors: Any = None, faces: Any = None,
                 config_dict: dict | None = None, global_step: Any = None,
                 walltime: float | None = None) -> None:
        """A 3-D mesh or point cloud for the mesh plugin: ``vertices`` (B, N, 3), optional
        ``faces`` (B, F, 3) vertex indices and ``colors`` (B, N, 3) in [0, 255]."""
        _check_tag(tag, "add_mesh")
        parts = [(vertices, MeshPluginData.VERTEX), (faces, MeshPluginData.FACE),
                 (colors, MeshPluginData.COLOR)]
        self._add(_mesh(tag, parts, config_dict), global_step, walltime)

    def add_text(self, tag: str, text_string: str, global_step: Any = None,
                 walltime: float | None = None) -> None:
        _check_tag(tag, "add_text")
        self._add(_text(tag, text_string), global_step, walltime)

    def add_embedding(self, mat: Any, metadata: Any = None, label_img: Any = None,
                      global_step: Any = None, tag: str = "default",
                      metadata_header: Any = None) -> None:
        """Data for TensorBoard's embedding projector, laid out as torch's: ``mat`` (N, D) in
        ``<log_dir>/<step:05d>/<tag>/tensors.tsv``, ``metadata`` (one label, or with
        ``metadata_header`` one row, per point) in ``metadata.tsv``, ``label_img`` (N, C, H, W)
        as a square ``sprite.png``, all listed in ``<log_dir>/projector_config.pbtxt``."""
        _check_tag(tag, "add_embedding")
        mat = _to_numpy(mat, "add_embedding")
        if global_step is None:
            global_step = 0
        subdir = f"{str(global_step).zfill(5)}/{_embedding_tag(tag)}"
        save_path = os.path.join(self._get_file_writer().get_logdir(), subdir)
        if os.path.exists(save_path):
            if not os.path.isdir(save_path):
                raise NotADirectoryError(f"Path: `{save_path}` exists, but is a file. "
                                         "Cannot proceed.")
            print("warning: Embedding dir exists, did you set global_step for add_embedding()?")
        else:
            os.makedirs(save_path)
        _embedding_files(mat, metadata, label_img, save_path, metadata_header)
        info = EmbeddingInfo(tensor_name=f"{tag}:{str(global_step).zfill(5)}",
                             tensor_path=subdir + "/tensors.tsv")
        if metadata is not None:
            info.metadata_path = subdir + "/metadata.tsv"
        if label_img is not None:
            info.sprite.image_path = subdir + "/sprite.png"
            info.sprite.single_image_dim.extend([label_img.shape[3], label_img.shape[2]])
        if not hasattr(self, "_projector_config"):
            self._projector_config = ProjectorConfig()
        self._projector_config.embeddings.extend([info])
        with open(os.path.join(self._get_file_writer().get_logdir(),
                               "projector_config.pbtxt"), "wb") as f:
            f.write(text_format.MessageToString(self._projector_config).encode())

    def add_pr_curve(self, tag: str, labels: Any, predictions: Any, global_step: Any = None,
                     num_thresholds: int = 127, weights: Any = None,
                     walltime: float | None = None) -> None:
        """A precision-recall curve of binary ``labels`` against ``predictions`` in [0, 1]."""
        _check_tag(tag, "add_pr_curve")
        labels = _to_numpy(labels, "add_pr_curve")
        predictions = _to_numpy(predictions, "add_pr_curve")
        if labels.shape != predictions.shape:
            raise ShapeError(f"add_pr_curve: labels {tuple(labels.shape)} and predictions "
                             f"{tuple(predictions.shape)} differ in shape")
        self._add(_pr_curve(tag, labels, predictions, num_thresholds, weights), global_step,
                  walltime)

    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """torch's traces the model with TorchScript; tensorgan has no tracer."""
        raise NotImplementedError("SummaryWriter.add_graph: tensorgan has no TorchScript-style "
                                  "tracer to draw the model's graph; print(model) shows its layers")

    def add_hparams(self, hparam_dict: dict, metric_dict: dict,
                    hparam_domain_discrete: dict | None = None, run_name: str | None = None,
                    global_step: Any = None) -> None:
        """The hparams plugin's three summaries and each metric (a scalar) in a sub-run,
        ``<log_dir>/<run_name>`` (default: the current time.time())."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise InputTypeError("add_hparams: hparam_dict and metric_dict must be dicts, got "
                                 f"{type(hparam_dict).__name__} and {type(metric_dict).__name__}")
        for k in metric_dict:
            _check_tag(k, "add_hparams", "each key of metric_dict")
        summaries = _hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        run = os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(log_dir=run) as sub:
            for s in summaries:
                sub.file_writer.add_summary(s, global_step)
            for k, v in metric_dict.items():
                sub.add_scalar(k, v, global_step)

    def flush(self) -> None:
        for writer in (self.all_writers or {}).values():
            writer.flush()

    def close(self) -> None:
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self) -> "SummaryWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
