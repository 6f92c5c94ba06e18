"""The only desktop code that speaks HTTP. Never imports Qt.

``ApiClient`` lives in ``hms_desktop.api.client`` and is imported lazily by callers, so
showing the login window does not wait for httpx to load.
"""

from hms_desktop.api.errors import (
    ApiError,
    ApiProblem,
    ServerUnavailableError,
    UnexpectedAnswerError,
)

__all__ = ["ApiError", "ApiProblem", "ServerUnavailableError", "UnexpectedAnswerError"]
