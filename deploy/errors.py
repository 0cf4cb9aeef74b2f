"""The one error type the deploy commands raise for a problem the user can fix; the CLI prints its message."""


class DeployError(Exception):
    """A deployment step cannot go ahead; the message says why and what to do."""
