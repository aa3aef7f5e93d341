"""The one way the torch-comparison scripts import their peer: torch, or a one-line message."""
import sys
from pathlib import Path


def require_torch(script: str):
    """``import torch``; where it is not installed, one line naming ``script`` and how to install
    the CPU build, then exit 2 (a usage error) -- not a traceback."""
    try:
        import torch
    except ModuleNotFoundError as missing:
        if (missing.name or "").split(".")[0] != "torch":
            raise
        print(f"{Path(script).name} compares tensorgan with PyTorch and needs torch: pip install "
              f"torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu (the CPU build)",
              file=sys.stderr)
        raise SystemExit(2) from None
    return torch
