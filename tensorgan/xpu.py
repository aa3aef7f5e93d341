"""``torch.xpu.is_available()`` / ``device_count()``: Intel GPUs, which tensorgan does not use."""

__all__ = ["is_available", "device_count"]


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0
