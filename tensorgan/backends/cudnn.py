"""``tg.backends.cudnn``: torch's cuDNN flags. tensorgan does not use cuDNN, so
:func:`is_available` is False and the flags are accepted and ignored (set them freely)."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version() -> None:
    return None
