"""What a failed HTTP call to a platform tells about what the platform did."""

from __future__ import annotations

import aiohttp


def unknown_outcome(exc: BaseException) -> bool:
    """Whether a call that failed with `exc` may still have been carried out: a
    timeout, or the connection lost once the request was on its way (the platform
    may have posted the message and only the answer was lost). A connection that
    was never made (refused, no route, a name that does not resolve) sent nothing."""
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectionRefusedError):
        return False
    return isinstance(
        exc,
        TimeoutError
        | ConnectionResetError
        | aiohttp.ServerDisconnectedError
        | aiohttp.ClientPayloadError
        | aiohttp.ClientOSError,
    )
