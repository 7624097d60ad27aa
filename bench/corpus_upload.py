"""Upload a real-world image corpus to a running photogate and judge every answer, end to end.

    make run   # in another terminal; then create a user and take its token
    .venv/bin/python -m bench.corpus_upload http://127.0.0.1:5000 TOKEN ../shared/corpus

Every file of the corpus's MANIFEST.tsv is POSTed to /api/photos/upload, four at a time (the
web server's threads all busy), with no hint from its name. Each answer must fit the file's
class (see bench/corpus.py) and come within 10 s; every accepted photo is then followed to a
terminal state, and a completed one's processed AVIF is fetched with its URL alone and compared
with the upright reference. While the uploads run, the resident memory of every gunicorn process
on this machine is sampled every 20 ms; the peak above the idle level is printed. The exit status
is non-zero when a file deviates or the web processes grow more than 200 MiB.
"""

import argparse
import csv
import io
import json
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from bench.corpus import (
    MAX_SECONDS,
    MAX_UPRIGHT_DIFFERENCE,
    Result,
    _difference_from_upright,
    _judge,
    summarise,
)

MAX_GROWTH_MIB = 200
TERMINAL = {"completed", "failed"}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("base_url")
    parser.add_argument("token")
    parser.add_argument("corpus", type=Path)
    args = parser.parse_args()
    with open(args.corpus / "MANIFEST.tsv", newline="") as manifest:
        rows = list(csv.DictReader(manifest, delimiter="\t"))
    api = Api(args.base_url.rstrip("/"), args.token)
    memory = WebMemory()
    memory.start()
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda row: (row, api.upload((args.corpus / row["path"]).read_bytes())), rows)
        )
    growth = memory.stop()
    results = [follow(api, args.corpus, row, answer) for row, answer in answers]
    for result in results:
        print(
            f"{result.expected:6} {result.outcome:9} {result.seconds:6.3f} s  {result.path}  {result.detail}"
        )
    summarise(results)
    print(f"web processes: idle {memory.idle_mib:.0f} MiB, peak while validating +{growth:.0f} MiB")
    too_big = growth > MAX_GROWTH_MIB
    if too_big:
        print(f"MISSED: web processes grew more than {MAX_GROWTH_MIB} MiB")
    return 1 if too_big or any(result.problems for result in results) else 0


class Api:
    """photogate's JSON API, as a client without a browser sees it."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url, self.headers = base_url, {"Authorization": f"Bearer {token}"}

    def upload(self, data: bytes) -> tuple[int, dict, float]:
        """POST one file named `upload.bin`; returns (status, JSON body, seconds)."""
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload.bin"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {**self.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
        start = time.perf_counter()
        status, answer = self._call(
            urllib.request.Request(self.base_url + "/api/photos/upload", body, headers)
        )
        return status, answer, time.perf_counter() - start

    def photo(self, session_id: str) -> dict:
        return self._call(
            urllib.request.Request(f"{self.base_url}/api/photos/{session_id}", headers=self.headers)
        )[1]

    @staticmethod
    def _call(request: urllib.request.Request) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            try:
                return error.code, json.load(error)
            except ValueError:
                return error.code, {}


def follow(api: Api, corpus: Path, row: dict[str, str], answer: tuple[int, dict, float]) -> Result:
    """Judge the upload's answer, then the photo's terminal state and its processed AVIF."""
    status, body, seconds = answer
    result = Result(row["path"], row["class"], seconds=seconds)
    if status >= 500:
        result.outcome, result.detail = "crashed", f"HTTP {status}"
    elif status >= 400:
        result.outcome, result.detail = "refused", f"{status} {body.get('error', {}).get('code')}"
    else:
        photo = _wait_for_terminal(api, body["session_id"])
        result.outcome = photo["status"]
        if photo["status"] == "failed":
            result.detail = photo["error"]
        elif photo["status"] == "completed":
            _check_processed(photo, (corpus / row["path"]).read_bytes(), result)
    _judge(result, row)
    if result.seconds > MAX_SECONDS:
        result.problems.append(f"the answer took {result.seconds:.1f} s")
    return result


def _wait_for_terminal(api: Api, session_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while (photo := api.photo(session_id))["status"] not in TERMINAL and time.monotonic() < deadline:
        time.sleep(0.2)
    return photo


def _check_processed(photo: dict, data: bytes, result: Result) -> None:
    images = {image["kind"]: image for image in photo["images"]}
    original = images["original"]
    result.detail = f"{original['width']}x{original['height']}"
    with urllib.request.urlopen(images["processed"]["url"], timeout=30) as response:  # the link alone
        processed = Image.open(io.BytesIO(response.read()))
        processed.load()
    result.detail += f" -> {processed.width}x{processed.height}"
    difference = _difference_from_upright(data, processed)
    if difference > MAX_UPRIGHT_DIFFERENCE:
        result.problems.append(f"processed.avif is not upright (mean difference {difference:.0f})")


class WebMemory:
    """Samples the summed resident memory of this machine's gunicorn workers in a thread."""

    def __init__(self) -> None:
        self.idle_mib, self._peak, self._done = 0.0, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample)

    def start(self) -> None:
        self.idle_mib = self._peak = _gunicorn_rss_mib()
        self._thread.start()

    def stop(self) -> float:
        """Stop sampling; the peak above idle, in MiB."""
        self._done.set()
        self._thread.join()
        return self._peak - self.idle_mib

    def _sample(self) -> None:
        while not self._done.is_set():
            self._peak = max(self._peak, _gunicorn_rss_mib())
            time.sleep(0.02)


def _gunicorn_rss_mib() -> float:
    total = 0
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and b"gunicorn" in (proc / "cmdline").read_bytes():
                status = (proc / "status").read_text()
                total += int(
                    next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]
                )
        except (OSError, StopIteration):
            continue
    return total / 1024


if __name__ == "__main__":
    sys.exit(main())
