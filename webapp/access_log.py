"""gunicorn's access log as `make run` writes it: a line per request, but none per htmx poll.

Job pages, photo cards and the admin queues poll every second or two while work runs; a line for
each buried what an operator reads. Those GETs are logged only at LOG_LEVEL=DEBUG; one that fails
(4xx, 5xx) is always logged.
"""

import logging

from gunicorn.glogging import Logger


class PollsAtDebug(Logger):
    """gunicorn's logger, leaving htmx's successful GETs (its polls and swaps) to DEBUG."""

    def access(self, resp, req, environ, request_time) -> None:
        if self.loglevel > logging.DEBUG and is_htmx_read(environ, resp.status_code):
            return
        super().access(resp, req, environ, request_time)


def is_htmx_read(environ: dict, status: int | None) -> bool:
    """A GET that htmx sent (it marks each with `HX-Request: true`) and that succeeded."""
    return (
        environ.get("REQUEST_METHOD") == "GET"
        and environ.get("HTTP_HX_REQUEST") == "true"
        and status is not None
        and status < 400
    )
