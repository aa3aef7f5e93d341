"""``tg.backends.cpu``: torch.backends.cpu.get_cpu_capability()."""


def get_cpu_capability() -> str:
    return "DEFAULT"
