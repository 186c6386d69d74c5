"""CSV cells a spreadsheet will not run: a cell starting with = + - @ tab or CR is prefixed with a quote (OWASP).

Kernel helper: no project app.
"""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class Echo:
    """A file-like object whose write returns the line, for csv.writer in a streaming response."""

    def write(self, value):
        return value
