"""``torch.backends.cudnn``'s flags: settable as in torch, read by nothing (no cuDNN here)."""

__all__ = ["enabled", "benchmark", "deterministic", "allow_tf32", "is_available", "version"]

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    return None
