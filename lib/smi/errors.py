"""The one exception type the command line turns into a one-line message."""


class SmiError(ValueError):
    """A problem with the user's input or data, reported as one line and exit code 2.

    The message must name the file, line or field at fault, so that a user can
    fix it without reading a traceback. It subclasses :class:`ValueError`, so
    library users can catch it as they catch any bad-value error.
    """
