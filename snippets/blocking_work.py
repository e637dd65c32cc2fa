"""CPU-bound work in pure Python, in a module of its own: a process pool's
workers import this module, not the whole app."""


def checksum(text: str) -> int:
    """Tens of milliseconds of arithmetic in pure Python: it holds the GIL."""
    total = sum(text.encode())
    for n in range(400_000):
        total = (total * 31 + n) % 1_000_003
    return total
