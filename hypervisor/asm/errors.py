"""AsmError: a mistake in assembly source, located by file, line and column."""


class AsmError(Exception):
    """One user error.  ``str(err)`` is the one-line message the command line prints:

        prog.s:3:5: error: unknown instruction 'addx' (did you mean 'add'?)

    Attributes: filename, line, col (1-based; 0 when unknown), message, text (the offending
    source text, may be empty) and hint (may be empty).
    """

    def __init__(self, message, filename="<string>", line=0, col=0, text="", hint=""):
        self.message, self.filename, self.line, self.col = message, filename, line, col
        self.text, self.hint = text, hint
        super().__init__(str(self))

    def __str__(self):
        return self._line("error: ")

    @property
    def located(self):
        """The message without the word "error", for a caller that prints its own
        ("hv run: error: prog.s:3:5: unknown instruction 'addx' ...")."""
        return self._line("")

    @property
    def errors(self):
        return [self]

    def _line(self, severity):
        where = self.filename
        if self.line:
            where += f":{self.line}"
            if self.col:
                where += f":{self.col}"
        msg = f"{where}: {severity}{self.message}"
        if self.text and f"'{self.text}'" not in self.message:
            msg += f": '{self.text}'"
        if self.hint:
            msg += f" ({self.hint})"
        return msg


MAX_SHOWN = 20      # errors listed in full; GNU as lists them all, a screenful is enough


class AsmErrors(AsmError):
    """Several errors (every one found in the sources, in order).  The attributes are those
    of the first; `errors` has them all; str() is one line per error, at most MAX_SHOWN,
    then a line saying how many more there are."""

    def __init__(self, errors):
        self._all = list(errors)
        first = self._all[0]
        super().__init__(first.message, first.filename, first.line, first.col, first.text,
                         first.hint)

    @property
    def errors(self):
        return list(self._all)

    def _lines(self, located):
        shown = [e.located if located else str(e) for e in self._all[:MAX_SHOWN]]
        more = len(self._all) - MAX_SHOWN
        if more > 0:
            shown.append(f"{self._all[0].filename}: {more} more error{'s' if more > 1 else ''}")
        return "\n".join(shown)

    def __str__(self):
        return self._lines(False)

    @property
    def located(self):
        return self._lines(True)


class Location:
    """Where a statement or operand came from; `error()` builds an AsmError there."""
    __slots__ = ("filename", "line", "col")

    def __init__(self, filename, line, col=1):
        self.filename, self.line, self.col = filename, line, col

    def at(self, col):
        return Location(self.filename, self.line, col)

    def error(self, message, text="", hint=""):
        return AsmError(message, self.filename, self.line, self.col, text, hint)

    def __repr__(self):
        return f"{self.filename}:{self.line}:{self.col}"
