"""Where the web process keeps uploaded files while a request is parsed: on disk, not in memory.

Werkzeug keeps each file of a multipart body in memory up to 500 KB before spilling to disk, so
a 500-photo batch of small files would sit in the web process's memory all at once. Spilling at
64 KB keeps its memory flat however many files a request carries.
"""

import tempfile
from typing import IO

from flask import Request

SPOOL_BYTES = 64 * 1024
# Room for the multipart envelope and small fields around a single file.
FORM_OVERHEAD_BYTES = 64 * 1024


def limit_to_one_file(request: Request, max_file_bytes: int) -> None:
    """Refuse (413) a one-file upload request bigger than one file may be, before it is read."""
    request.max_content_length = max_file_bytes + FORM_OVERHEAD_BYTES


class DiskBackedRequest(Request):
    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="rb+")
