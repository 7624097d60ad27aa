"""Log lines that name what they concern: the session, bulk job and virtual image given as `extra`.

    log.warning("photo failed: %s", reason, extra={"session_id": str(session_id)})

prints `... photo failed: <reason> session_id=<id>`, so one photo's story can be found with grep
across every web and worker process.
"""

import logging

CONTEXT_FIELDS = ("session_id", "job_id", "virtual_image_id")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class ContextFormatter(logging.Formatter):
    """Ends each line with `name=value` for each of CONTEXT_FIELDS the record carries."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        # formatMessage, not format: the context stays on the message's line, above any traceback.
        line = super().formatMessage(record)
        context = " ".join(
            f"{name}={getattr(record, name)}"
            for name in CONTEXT_FIELDS
            if getattr(record, name, None) is not None
        )
        return f"{line} {context}" if context else line


def configure_logging(level: str | int) -> None:
    """Log to stderr at `level` with context; like basicConfig, leaves a logging set up before alone."""
    handler = logging.StreamHandler()
    handler.setFormatter(ContextFormatter(LOG_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        # faiss tries its AVX512 and AVX2 builds first and logs each one it cannot load, with a
        # ModuleNotFoundError, at INFO: that reads as a failure at every start. Its warnings and
        # errors still show; LOG_LEVEL=DEBUG shows the rest.
        logging.getLogger("faiss.loader").setLevel(logging.WARNING)
