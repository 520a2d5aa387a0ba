"""Numbers the way the commands print them: sizes in binary units, counts with separators."""


def human_size(n):
    """4096 -> '4 KiB', 67108864 -> '64 MiB', 1879048192 -> '1.75 GiB', 1000 -> '1000 bytes'."""
    n = int(n)
    for shift, unit in ((30, "GiB"), (20, "MiB"), (10, "KiB")):
        if abs(n) >= 1 << shift:
            value = n / (1 << shift)
            text = f"{value:.2f}".rstrip("0").rstrip(".") if value < 100 else f"{value:.0f}"
            return f"{text} {unit}"
    return f"{n} byte{'s' * (n != 1)}"


def short_size(n):
    """The narrow form for table columns: '36K', '3.0M', '64M', '1.8G'."""
    n = int(n)
    for shift, unit in ((30, "G"), (20, "M"), (10, "K")):
        if n >= 1 << shift:
            value = n / (1 << shift)
            return f"{value:.1f}{unit}" if value < 10 and value != int(value) else \
                f"{value:.0f}{unit}"
    return str(n)
