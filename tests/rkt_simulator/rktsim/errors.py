"""Exceptions that end a simulated rkt command."""


class RktError(Exception):
    """A run-time error: MESSAGE goes to stderr as one line and rkt exits RC.

    rkt prints run-time errors as "<leaf command>: <message>" and exits 254;
    the message given here already carries the command prefix.
    """

    def __init__(self, message, rc=254, stdout=""):
        super().__init__(message)
        self.message = message
        self.rc = rc
        self.stdout = stdout


class UsageError(Exception):
    """A cobra flag-parse error: usage on stdout, "Error: MESSAGE" on stderr, rc 254."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message
