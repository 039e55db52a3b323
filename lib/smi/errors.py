"""The one exception type the command line turns into a one-line message."""


class SmiError(Exception):
    """A problem with the user's input or data, reported as one line and exit code 2.

    The message must name the file, line or field at fault, so that a user can
    fix it without reading a traceback.
    """
