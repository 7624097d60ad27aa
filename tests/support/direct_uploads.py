"""A client of uploads straight to the bucket, as any API client would be: declare, POST to S3, complete."""

import hashlib

import requests

CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}


def declared(data: bytes, filename: str = "photo.jpg", content_type: str | None = None, **extra) -> dict:
    """What a client declares of a file it is about to send."""
    content_type = content_type or CONTENT_TYPES[filename.rsplit(".", 1)[-1]]
    return {
        "filename": filename,
        "size": len(data),
        "content_type": content_type,
        "sha256": hashlib.sha256(data).hexdigest(),
    } | extra


def issue(client, headers: dict[str, str], files: list[dict], **body) -> dict:
    """Ask for presigned POSTs; the answer's JSON (the request must succeed)."""
    response = client.post("/api/uploads", headers=headers, json={"files": files} | body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def post_to_bucket(upload: dict, data: bytes, filename: str = "photo.jpg") -> requests.Response:
    """Send the file to S3 with its presigned form: the fields, then the file, as a browser does."""
    return requests.post(upload["url"], data=upload["fields"], files={"file": (filename, data)}, timeout=30)


def complete(client, headers: dict[str, str], upload: dict):
    return client.post(upload["complete_url"], headers=headers)


def send(client, headers: dict[str, str], data: bytes, filename: str = "photo.jpg", job_id=None, order=None):
    """Declare one file (into a job, at an upload order, when given), send it to the bucket and complete
    it; the complete answer."""
    file = declared(data, filename) | ({"upload_order": order} if order is not None else {})
    (upload,) = issue(client, headers, [file], **({"job_id": job_id} if job_id else {}))["uploads"]
    assert post_to_bucket(upload, data, filename).status_code == 204
    return complete(client, headers, upload)
