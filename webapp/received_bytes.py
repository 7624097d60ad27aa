"""The request body bytes the web tier received, counted in Redis across every process and node.

What uploads straight to the bucket spare the web shows here: `/metrics` reports the count as
`photogate_http_received_bytes_total`.
"""

import logging

from flask import Flask, request
from redis.exceptions import RedisError

from webapp.queue import redis_connection

log = logging.getLogger(__name__)

RECEIVED_KEY = "photogate:http-received-bytes"


def init_app(app: Flask) -> None:
    app.before_request(_count_body)


def _count_body() -> None:
    size = request.content_length
    if not size:
        return
    try:
        redis_connection().incrby(RECEIVED_KEY, size)
    except RedisError:
        # A lost count must not cost the request: the request is what matters.
        log.warning("request body not counted: Redis did not answer")
