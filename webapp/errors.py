"""Errors the services raise for the views to answer: a snake_case code, a status, a message."""

import uuid


class AppError(Exception):
    code = "error"
    status = 400
    message = "The request could not be handled."

    def __init__(self, message: str | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message


class NotFound(AppError):
    code = "not_found"
    status = 404
    message = "Nothing here, or it is not yours."


class Forbidden(AppError):
    code = "forbidden"
    status = 403
    message = "You are not allowed to do that."


class FileTooLarge(AppError):
    code = "file_too_large"
    status = 413


class MissingFile(AppError):
    code = "missing_file"
    status = 400
    message = "Attach the photo as the multipart field 'file'."


class ServiceUnavailable(AppError):
    code = "service_unavailable"
    status = 503
    message = "A backing service is down; try again shortly."
    retry_after = 30


def parse_id(value: object) -> uuid.UUID:
    """An id from a URL; anything that is not a UUID is simply not found (404, never a 500)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound() from None
