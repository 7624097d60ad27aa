"""A stand-in for Rekognition's DetectModerationLabels on loopback, for workers in their own processes.

Workers reach it through REKOGNITION_ENDPOINT_URL. It reads the S3 object it is named from the suite's
S3 (moto) and answers the labels `answer` gives for the image's pixels, in Rekognition's JSON shape;
so a test chooses each photo's answer by what it draws.
"""

import io
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from PIL import Image

MODEL_VERSION = "7.0"


class RekognitionStandIn:
    def __init__(self, s3_endpoint: str, answer: Callable[[Image.Image], list[dict]]):
        self.asked: list[str] = []  # the S3 keys it was asked about, in turn
        self._s3 = boto3.client("s3", endpoint_url=s3_endpoint)
        self._answer = answer
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "RekognitionStandIn":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def labels_for(self, request: dict) -> list[dict]:
        where = request["Image"]["S3Object"]
        self.asked.append(where["Name"])
        body = self._s3.get_object(Bucket=where["Bucket"], Key=where["Name"])["Body"].read()
        return self._answer(Image.open(io.BytesIO(body)).convert("RGB"))

    def _handler(self):
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                target = self.headers.get("X-Amz-Target", "")
                if not target.endswith("DetectModerationLabels"):
                    self._send(400, {"__type": "InvalidParameterException", "message": target})
                    return
                labels = stand_in.labels_for(request)
                self._send(200, {"ModerationLabels": labels, "ModerationModelVersion": MODEL_VERSION})

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        return Handler
