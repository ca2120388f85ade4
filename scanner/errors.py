"""The one domain exception: anything the user can fix (bad policy, bad option) -> exit 2."""


class ResidencyError(Exception):
    """A usage or configuration error with a message meant for the user, never a traceback."""

    exit_code = 2
