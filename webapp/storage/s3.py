"""Storage on S3 (or any S3-compatible store) through one boto3 client per process."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from webapp.storage import LinkedFile, NotServedHere, ObjectMissing, StorageUnavailable

# botocore waits 60 s to connect and retries 5 times by default: an unreachable endpoint would
# hang an upload for minutes. Fail within seconds and let the caller answer 503 or retry the job.
CLIENT_CONFIG = Config(
    connect_timeout=5,
    read_timeout=30,
    retries={"mode": "standard", "total_max_attempts": 3},
    max_pool_connections=16,
)


# DeleteObjects takes at most 1,000 keys a request.
DELETE_BATCH = 1000


class S3Storage:
    # Clients may send originals straight to the bucket with a presigned POST (direct_uploads.py).
    accepts_direct_uploads = True

    def __init__(self, bucket: str, endpoint_url: str | None, region: str):
        self.bucket = bucket
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=CLIENT_CONFIG
        )

    def put(self, key: str, body: bytes | BinaryIO, content_type: str) -> None:
        with _unavailable_on_error():
            if isinstance(body, bytes):
                self.client.put_object(Bucket=self.bucket, Key=key, Body=body, **_headers(content_type))
            else:
                # Streams large originals in parts instead of reading them into memory.
                self.client.upload_fileobj(body, self.bucket, key, ExtraArgs=_headers(content_type))

    def put_all(self, objects: dict[str, tuple[bytes, str]]) -> None:
        # One request per object, all at once: a photo's derivatives cost one round trip, not three.
        # boto3's clients are thread-safe, and its pool holds more connections than a photo needs.
        with ThreadPoolExecutor(len(objects) or 1) as pool:
            list(pool.map(lambda key: self.put(key, *objects[key]), objects))

    def get(self, key: str) -> bytes:
        with _unavailable_on_error():
            try:
                return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except self.client.exceptions.NoSuchKey as exc:
                raise ObjectMissing(key) from exc

    def get_start(self, key: str, length: int) -> tuple[bytes, int]:
        """The object's first `length` bytes (all of it when smaller) and its whole size: one ranged GET."""
        with _unavailable_on_error():
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{length - 1}")
            except self.client.exceptions.NoSuchKey as exc:
                raise ObjectMissing(key) from exc
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "InvalidRange":
                    return b"", 0  # an empty object has no first byte to send
                raise
            # "bytes 0-65535/3046000": the size after the slash.
            size = answer.get("ContentRange", "").rpartition("/")[2]
            return answer["Body"].read(), int(size) if size.isdecimal() else answer["ContentLength"]

    def presigned_post(self, key: str, content_type: str, size: int, expires: int) -> dict:
        """A form that lets a browser POST exactly one object of `size` bytes under `key` for `expires` s.

        S3 checks every condition of the signed policy: a request for another key, another content
        type, another size or after the expiry is refused with 403 and stores nothing.
        """
        fields = {"Content-Type": content_type, "Cache-Control": _headers(content_type)["CacheControl"]}
        conditions = [
            {"Content-Type": content_type},
            {"Cache-Control": fields["Cache-Control"]},
            ["content-length-range", size, size],
        ]
        return self.client.generate_presigned_post(
            self.bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=expires
        )

    def move(self, key: str, new_key: str, content_type: str) -> None:
        """Keep an object under another key (and content type); the copy is made inside S3."""
        with _unavailable_on_error():
            self.client.copy_object(
                Bucket=self.bucket,
                Key=new_key,
                CopySource={"Bucket": self.bucket, "Key": key},
                MetadataDirective="REPLACE",
                **_headers(content_type),
            )
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def allow_origins(self, origins: list[str], max_age: int) -> None:
        """Let pages of `origins` POST to the bucket (its CORS rules), replacing the rules it had."""
        rule = {
            "AllowedOrigins": origins,
            "AllowedMethods": ["POST"],
            "AllowedHeaders": ["*"],
            "MaxAgeSeconds": max_age,
        }
        with _unavailable_on_error():
            self.client.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": [rule]})

    def delete_prefix(self, prefix: str) -> None:
        with _unavailable_on_error():
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
            for page in pages:
                self.delete_keys([item["Key"] for item in page.get("Contents", [])])

    def delete_keys(self, keys: list[str]) -> None:
        with _unavailable_on_error():
            for start in range(0, len(keys), DELETE_BATCH):
                batch = [{"Key": key} for key in keys[start : start + DELETE_BATCH]]
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

    def url(self, key: str, expires: int, base_url: str = "", disposition: str | None = None) -> str:
        # Presigned links go to S3, so this app's address has no part in them.
        # The browser may keep the response no longer than the link lives, and only for itself.
        params = {"Bucket": self.bucket, "Key": key, "ResponseCacheControl": f"private, max-age={expires}"}
        if disposition:
            params["ResponseContentDisposition"] = disposition
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)

    def linked_file(self, key: str, token: str) -> LinkedFile:
        raise NotServedHere(key)

    def ping(self) -> None:
        with _unavailable_on_error():
            self.client.head_bucket(Bucket=self.bucket)


def _headers(content_type: str) -> dict:
    # Presigned links override this with their own lifetime; it covers any other way to the object.
    return {"ContentType": content_type, "CacheControl": "private, max-age=86400"}


@contextmanager
def _unavailable_on_error() -> Iterator[None]:
    """Turn connection failures and S3 server errors into StorageUnavailable."""
    try:
        yield
    except BotoCoreError as exc:
        raise StorageUnavailable(f"S3 did not answer: {exc}") from exc
    except ClientError as exc:
        if exc.response["ResponseMetadata"].get("HTTPStatusCode", 500) >= 500:
            raise StorageUnavailable(f"S3 answered with an error: {exc}") from exc
        raise
