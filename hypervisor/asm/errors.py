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
        where = self.filename
        if self.line:
            where += f":{self.line}"
            if self.col:
                where += f":{self.col}"
        msg = f"{where}: error: {self.message}"
        if self.text and f"'{self.text}'" not in self.message:
            msg += f": '{self.text}'"
        if self.hint:
            msg += f" ({self.hint})"
        return msg


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
