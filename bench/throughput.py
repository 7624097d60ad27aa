"""End-to-end throughput of photogate run as `make run` runs it, beside its pipeline-only ceiling.

    .venv/bin/python -m bench.throughput [--photos 160] [--clients 4] [--mix jpeg=1,png=0,heic=0]
                                         [--backend embedded|services] [--workers N]

Before the clock starts, `--photos` distinct 12 MP photos (4000x3000) are made in the `--mix` of
formats (shares): one scene of bench.pipeline.make_photo per ten photos, each photo with patches of
its scene moved about by its own seed, so every file has its own bytes and verdict. The pipeline-only
ceiling is measured on up to 12 photos of each format in this process: the CPU ms of
make_derivatives (PDQ hashing included) plus the local moderation model on its pixels, weighted by
the mix, times the worker count: photos/s once every file is in. From the first upload the web's
work shares the cores, so that ceiling adds the upload path's own CPU, measured as the web
processes' CPU time over the run per photo.

Then photogate starts as `make run` starts it (`flask --app wsgi up`: a fresh instance folder, its
own port, WORKERS=--workers, its log in the instance folder) on `--backend embedded` (SQLite, local
disk, its own Redis) or `services` (a fresh PostgreSQL database on the local server, a Redis
database of its own, moto's S3 server). A user is made with the CLI; `--clients` threads post the
photos to a new batch job, one file per request with its upload order; the job is submitted and its
status polled until it ends.

Printed: upload files/s and MB/s; end-to-end photos/s from the first upload to the job's end (the
wait a user sees; photos are processed as they arrive, so the web's work shares the cores), and
once uploaded (photos finished after the submit, over the time from the submit to the end: the
workers with the cores to themselves), each against the ceiling; the peak resident memory of the
web (gunicorn) and worker processes (VmRSS of the `up` process tree every 50 ms); and where a
worker's time goes per photo, from the line each job logs (webapp/services/photos/processing.py) and RQ's
own lines: the median of each step, and the queue overhead between jobs (one dequeue to the
worker's next, minus the job). Last, what the speed bought: the processed AVIFs' mean bytes and
mean PSNR, each fetched through the API and compared with the pixels it was encoded from (the
worker's own, made again here).
The exit status is non-zero when a photo was refused or did not complete.
"""

import argparse
import hashlib
import inspect
import io
import itertools
import math
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import PIL
import pillow_heif
import requests
from PIL import Image

from bench.pipeline import PHOTO_SIZE, make_photo, psnr
from bench.system import PeakMemory, backend, running_photogate, wait_for_lines
from webapp.imaging import make_derivatives
from webapp.providers import registry
from webapp.testing.images import heic_bytes
from webapp.timings import timed

FORMATS = {"jpeg": ".jpg", "png": ".png", "heic": ".heic"}
PHOTOS_PER_SCENE = 10
# Where made photos are kept between runs.
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "photogate-bench", "throughput")
CEILING_PHOTOS_PER_FORMAT = 12
TERMINAL = {"completed", "completed_with_errors", "failed", "cancelled"}
# A worker's steps as processing.py names them (and the two worked out here), in the order printed.
STEPS = {
    "decode": "decode, resize, thumbnail",
    "avif": "AVIF encode",
    "pdq": "PDQ hash",
    "moderation": "moderation (in-process: the model alone)",
    "storage": "storage: read original, write 3",
    "database": "database",
    "other": "the rest of the job",
    "queue": "queue overhead between jobs",
}
TIMESTAMP = r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) "
PROCESSED = re.compile(
    TIMESTAMP + r"INFO \S+ photo processed in ([\d.]+) ms \(([\d.]+) ms CPU\): (.*) session_id=(\S+)$"
)
DEQUEUED = re.compile(TIMESTAMP + r"INFO rq\.worker Worker (\S+): \S+: (?!Job OK).*\(process-photo-(\S+)\)$")
STEP = re.compile(r"(\w+) ([\d.]+) ms")
COLOUR = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class Photo:
    """A generated photo: its place in the upload order, its format and its file's bytes."""

    number: int
    kind: str
    data: bytes

    @property
    def name(self) -> str:
        return f"photo-{self.number:05d}{FORMATS[self.kind]}"


@dataclass
class Ceiling:
    """CPU ms per photo in this process, by format, and the wall ms of each step."""

    cpu_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    model_cpu_ms: list[float] = field(default_factory=list)
    steps: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def per_photo(self, photos: list[Photo]) -> float:
        """CPU ms per photo of this mix: each format's median, weighted by its count."""
        return statistics.fmean(statistics.median(self.cpu_ms[photo.kind]) for photo in photos)


@dataclass
class Run:
    """What one run through the system measured; times are epoch seconds."""

    uploads: list[tuple[float, float, int, int]]  # start, end, bytes, files accepted
    sessions: dict[int, str]  # the session of each accepted photo, by its number
    submitted: float
    ended: float
    job: dict
    web_cpu_seconds: float  # the web's CPU time from the first upload to the job's end


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=int, default=160, help="photos in the batch (default 160)")
    parser.add_argument("--clients", type=int, default=4, help="parallel upload clients (default 4)")
    parser.add_argument("--mix", type=parse_mix, default="jpeg=1", help="shares of jpeg, png, heic")
    parser.add_argument("--backend", choices=("embedded", "services"), default="embedded")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="default: one per core")
    args = parser.parse_args()
    started = time.perf_counter()
    photos = make_photos(args.photos, args.mix)
    print(
        f"made or read {describe_inputs(photos)} in {time.perf_counter() - started:.0f} s (kept in {CACHE})",
        file=sys.stderr,
    )
    ceiling = measure_ceiling(photos)
    with tempfile.TemporaryDirectory() as instance, backend(args.backend) as backend_env:
        with running_photogate(Path(instance), backend_env, args.workers) as (base, token, up_pid):
            memory = PeakMemory(up_pid)
            run = upload_and_wait(base, token, photos, args.clients, memory)
            # A job logs its line after it counts its photo, so the job may end a moment before.
            wait_for_lines(Path(instance, "up.log"), "photo processed", run.job["processed"])
            processed = fetch_processed(base, token, run.sessions)
        lines = Path(instance, "up.log").read_text().splitlines()
    print_report(args, photos, ceiling, run, memory, worker_times(lines))
    print_quality(photos, processed)
    completed = run.job["status"] == "completed" and run.job["processed"] == len(photos)
    return 0 if completed else 1


def parse_mix(text: str) -> dict[str, float]:
    """`jpeg=1,png=0.5` → {"jpeg": 1.0, "png": 0.5}; formats left out have no share."""
    mix = {}
    for part in text.split(","):
        kind, _, share = part.partition("=")
        if kind.strip() not in FORMATS or not share:
            raise argparse.ArgumentTypeError(
                f"{part!r}: give format=share, format one of {', '.join(FORMATS)}"
            )
        mix[kind.strip()] = float(share)
    if any(share < 0 for share in mix.values()) or sum(mix.values()) <= 0:
        raise argparse.ArgumentTypeError("shares must not be negative, and one must be positive")
    return mix


def make_photos(count: int, mix: dict[str, float]) -> list[Photo]:
    """`count` distinct photos in the mix's formats, made on every core (a scene takes ~2.5 s, a HEIC
    ~6 s more) and kept in CACHE, where a later run with the same generator finds them."""
    kinds = kinds_for(count, mix)
    folder = CACHE / generator_version(count)
    paths = [folder / f"{number:05d}{FORMATS[kind]}" for number, kind in enumerate(kinds)]
    missing = [number for number, path in enumerate(paths) if not path.exists()]
    scenes = math.ceil(count / PHOTOS_PER_SCENE)
    wanted = [
        [(number, kinds[number]) for number in missing if number % scenes == scene] for scene in range(scenes)
    ]
    wanted = [(scene, photos) for scene, photos in enumerate(wanted) if photos]
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        for batch in pool.map(_photos_of_scene, *zip(*wanted, strict=True)) if wanted else ():
            for photo in batch:
                folder.mkdir(parents=True, exist_ok=True)
                paths[photo.number].write_bytes(photo.data)
    return [Photo(number, kind, paths[number].read_bytes()) for number, kind in enumerate(kinds)]


def generator_version(count: int) -> str:
    """What the photos' bytes depend on: the code that draws and encodes them, its encoders' versions,
    and the count (it sets how many scenes there are)."""
    made_by = [make_photo, variant, encode, heic_bytes]
    parts = [inspect.getsource(function) for function in made_by]
    parts += [
        PIL.__version__,
        pillow_heif.__version__,
        str(pillow_heif.libheif_info()),
        str(count),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def kinds_for(count: int, mix: dict[str, float]) -> list[str]:
    """`count` formats in the mix's shares (largest remainder), shuffled through the upload order."""
    exact = {kind: count * share / sum(mix.values()) for kind, share in mix.items()}
    counts = {kind: math.floor(value) for kind, value in exact.items()}
    for kind in sorted(exact, key=lambda kind: counts[kind] - exact[kind])[: count - sum(counts.values())]:
        counts[kind] += 1
    kinds = [kind for kind, number in counts.items() for _ in range(number)]
    random.Random(0).shuffle(kinds)
    return kinds


def _photos_of_scene(scene: int, wanted: list[tuple[int, str]]) -> list[Photo]:
    picture = make_photo(scene)
    return [Photo(number, kind, encode(variant(picture, number), kind)) for number, kind in wanted]


def variant(scene: Image.Image, seed: int) -> Image.Image:
    """The scene with a dozen patches of itself pasted elsewhere: its own bytes, the same texture."""
    rng = random.Random(seed)
    photo = scene.copy()
    width, height = PHOTO_SIZE
    for _ in range(12):
        size = rng.randrange(200, 1000), rng.randrange(200, 1000)
        left, top = rng.randrange(width - size[0]), rng.randrange(height - size[1])
        patch = scene.crop((left, top, left + size[0], top + size[1]))
        photo.paste(patch, (rng.randrange(width - size[0]), rng.randrange(height - size[1])))
    return photo


def encode(photo: Image.Image, kind: str) -> bytes:
    if kind == "heic":
        # x265's fastest preset: its default takes ~16 s a photo here; decoding costs ~20 % less.
        return heic_bytes(photo, quality=60, enc_params={"preset": "ultrafast"})
    buffer = io.BytesIO()
    if kind == "jpeg":
        photo.save(buffer, "JPEG", quality=90)
    else:
        photo.save(buffer, "PNG")
    return buffer.getvalue()


def describe_inputs(photos: list[Photo]) -> str:
    """How many photos of each format, and their median size."""
    by_kind = defaultdict(list)
    for photo in photos:
        by_kind[photo.kind].append(len(photo.data))
    return "; ".join(
        f"{len(sizes)} {kind.upper()} of median {statistics.median(sizes) / 1e6:.1f} MB"
        for kind, sizes in by_kind.items()
    )


def measure_ceiling(photos: list[Photo]) -> Ceiling:
    """The worker's CPU work for a photo, in this process: derivatives and PDQ, then the local model."""
    model = registry.get("local")
    model.moderate(registry.Photo(make_derivatives(photos[0].data).pixels, None, None))  # loads the model
    ceiling = Ceiling()
    for kind in FORMATS:
        for photo in [photo for photo in photos if photo.kind == kind][:CEILING_PHOTOS_PER_FORMAT]:
            steps: dict[str, float] = {}
            start = time.process_time()
            derivatives = make_derivatives(photo.data, timings=steps)
            model_start = time.process_time()
            with timed(steps, "moderation"):
                model.moderate(registry.Photo(derivatives.pixels, None, None))
            ceiling.cpu_ms[kind].append((time.process_time() - start) * 1000)
            ceiling.model_cpu_ms.append((time.process_time() - model_start) * 1000)
            for step, ms in steps.items():
                ceiling.steps[step].append(ms)
    return ceiling


def upload_and_wait(base: str, token: str, photos: list[Photo], clients: int, memory: PeakMemory) -> Run:
    """Post every photo to a new job from `clients` threads, submit it and poll until it ends."""
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    job_id = api.post(f"{base}/api/bulk-nsfw/jobs", json={}).json()["job_id"]
    # Bodies are made before the clock: the client's own work should not be measured.
    bodies = [multipart(photo) for photo in photos]
    sessions = threading.local()

    def upload(body: tuple[bytes, str]) -> tuple[float, float, int, list[dict]]:
        if not hasattr(sessions, "api"):
            sessions.api = requests.Session()
            sessions.api.headers.update(api.headers)
        start = time.time()
        answer = sessions.api.post(
            f"{base}/api/bulk-nsfw/jobs/{job_id}/files", data=body[0], headers={"Content-Type": body[1]}
        )
        return start, time.time(), len(body[0]), answer.json().get("images", []) if answer.ok else []

    memory.start()
    web_cpu = memory.cpu_seconds("web")
    with ThreadPoolExecutor(clients) as pool:
        answers = list(pool.map(upload, bodies))
    submitted = time.time()
    api.post(f"{base}/api/bulk-nsfw/jobs/{job_id}/submit").raise_for_status()
    job = wait_for_end(api, f"{base}/api/bulk-nsfw/{job_id}/status")
    web_cpu = memory.cpu_seconds("web") - web_cpu
    memory.stop()
    ended = datetime.fromisoformat(job["completed_at"]).timestamp() if job["completed_at"] else time.time()
    uploads = [(start, end, size, len(images)) for start, end, size, images in answers]
    sessions_by_number = {
        image["upload_order"]: image["session_id"] for *_, images in answers for image in images
    }
    return Run(uploads, sessions_by_number, submitted, ended, job, web_cpu)


def wait_for_end(api: requests.Session, status_url: str) -> dict:
    """Poll the job's status (its counters, one image) until the job has ended."""
    while (job := api.get(status_url, params={"per_page": 1}).json())["status"] not in TERMINAL:
        time.sleep(0.5)
    return job


def multipart(photo: Photo) -> tuple[bytes, str]:
    """One file with its upload order, as a multipart/form-data body and its content type."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="upload_order"\r\n\r\n{photo.number}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{photo.name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    body = head.encode() + photo.data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def fetch_processed(base: str, token: str, sessions: dict[int, str]) -> dict[int, bytes]:
    """The processed AVIF of each photo, by its number, as a client downloads it through the API."""
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"

    def download(session_id: str) -> bytes:
        images = api.get(f"{base}/api/photos/{session_id}").json()["images"]
        url = next(image["url"] for image in images if image["kind"] == "processed")
        return api.get(url if url.startswith("http") else base + url).content

    with ThreadPoolExecutor(4) as pool:
        return dict(zip(sessions, pool.map(download, sessions.values()), strict=True))


def print_quality(photos: list[Photo], processed: dict[int, bytes]) -> None:
    """The processed AVIFs' mean bytes and mean PSNR against the pixels each was encoded from."""
    originals = {photo.number: photo.data for photo in photos}
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        scores = list(pool.map(processed_psnr, [originals[n] for n in processed], processed.values()))
    sizes = [len(data) for data in processed.values()]
    print(
        f"processed AVIF: {len(sizes)} photos, mean {statistics.fmean(sizes) / 1024:.1f} KiB,"
        f" mean PSNR {statistics.fmean(scores):.2f} dB (min {min(scores):.2f}) against its encoder input"
    )


def processed_psnr(original: bytes, avif: bytes) -> float:
    """PSNR of a processed AVIF against the worker's pixels for its original, made again here."""
    return psnr(make_derivatives(original).pixels, avif)


def worker_times(lines: list[str]) -> dict[str, list[float]]:
    """Wall ms per photo of each step the jobs logged, the rest of each job, the queue overhead from
    one dequeue to the same worker's next (minus the job), the whole cycle, the job's CPU ms, and
    when each job ended (`done_at`, epoch seconds)."""
    jobs, dequeued = {}, defaultdict(list)
    times = defaultdict(list)
    for line in (COLOUR.sub("", raw) for raw in lines):
        if match := PROCESSED.match(line):
            steps = {name: float(ms) for name, ms in STEP.findall(match[4])}
            jobs[match[5]] = (float(match[2]), float(match[3]), steps)
            times["done_at"].append(_timestamp(match[1]))
        elif match := DEQUEUED.match(line):
            dequeued[match[2]].append((_timestamp(match[1]), match[3]))
    for wall, cpu, steps in jobs.values():
        for name, ms in steps.items():
            times[name].append(ms)
        times["other"].append(wall - sum(steps.values()))
        times["job"].append(wall)
        times["cpu"].append(cpu)
    for taken in dequeued.values():
        taken.sort()
        for (start, session_id), (following, _) in itertools.pairwise(taken):
            cycle = (following - start) * 1000
            times["cycle"].append(cycle)
            if session_id in jobs:
                times["queue"].append(cycle - jobs[session_id][0])
    return times


def _timestamp(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def print_report(
    args: argparse.Namespace,
    photos: list[Photo],
    ceiling: Ceiling,
    run: Run,
    memory: PeakMemory,
    worker: dict,
) -> None:
    """Uploads, end to end against the ceiling, memory, then where a worker's time goes."""
    count, job = len(photos), run.job
    first, last = min(u[0] for u in run.uploads), max(u[1] for u in run.uploads)
    upload_seconds, megabytes = last - first, sum(u[2] for u in run.uploads) / 1e6
    accepted = sum(u[3] for u in run.uploads)
    ceiling_cpu = ceiling.per_photo(photos)
    pipeline_rate = args.workers * 1000 / ceiling_cpu
    # While files arrive the web's work shares the cores: the upload path's own CPU joins the ceiling.
    web_cpu = run.web_cpu_seconds * 1000 / count
    ceiling_rate = min(pipeline_rate, os.cpu_count() * 1000 / (ceiling_cpu + web_cpu))
    from_upload = count / (run.ended - first)
    # Photos are processed as they arrive: once every file is in, the workers have the cores alone.
    finished_after = sum(1 for done in worker["done_at"] if done > run.submitted)
    once_uploaded = finished_after / (run.ended - run.submitted)
    print(
        f"\nphotogate throughput: {count} photos ({describe_inputs(photos)}), {args.clients} clients,"
        f" backend {args.backend}, {args.workers} workers on {os.cpu_count()} cores"
    )
    print(
        f"job: {job['status']}; {accepted} accepted, {job['processed']} processed, {job['failed']} failed;"
        f" approved {job['approved']}, flagged {job['flagged']}, rejected {job['rejected']}"
    )
    print(
        f"upload:      {upload_seconds:6.1f} s  {count / upload_seconds:6.2f} files/s"
        f"  {megabytes / upload_seconds:6.1f} MB/s  ({megabytes:.0f} MB; median request"
        f" {statistics.median(u[1] - u[0] for u in run.uploads) * 1000:.0f} ms)"
    )
    print(f"end to end:  {run.ended - first:6.1f} s  {from_upload:6.2f} photos/s  from the first upload")
    print(
        f"             {run.ended - run.submitted:6.1f} s  {once_uploaded:6.2f} photos/s  once uploaded"
        f" ({finished_after} photos finished after the submit)"
    )
    print(
        f"ceiling:     {ceiling_cpu:6.0f} CPU ms a photo in this process (the model"
        f" {statistics.median(ceiling.model_cpu_ms):.0f}) x {args.workers} workers:"
        f" {pipeline_rate:.2f} photos/s once uploaded"
    )
    print(
        f"             {ceiling_cpu + web_cpu:6.0f} CPU ms with the upload path's ({web_cpu:.0f}, the web's"
        f" CPU in this run) on {os.cpu_count()} cores: {ceiling_rate:.2f} photos/s from the first upload"
    )
    print(
        f"ratio:       {from_upload / ceiling_rate:6.0%} of the ceiling from the first upload,"
        f" {once_uploaded / pipeline_rate:.0%} once uploaded"
    )
    for group in ("web", "workers"):
        idle, peak = memory.idle.get(group, (0, 0, 0)), memory.peak.get(group, (0, 0, 0))
        print(
            f"peak RSS {group + ':':<8} {peak[0]:4.0f} MiB in all (idle {idle[0]:.0f}, up to {peak[2]}"
            f" processes), largest process {peak[1]:.0f} MiB (idle {idle[1]:.0f})"
        )
    print_worker_times(worker, ceiling, args.workers * (run.ended - first) * 1000 / count)


def print_worker_times(worker: dict[str, list[float]], ceiling: Ceiling, per_photo_and_worker: float) -> None:
    """The median of each step in the workers beside the same step in this process, then the totals."""
    print(f"\nwhere a worker's time goes per photo: medians over {len(worker['job'])} jobs, wall ms")
    print(f"  {'step':<42} {'worker':>8} {'in-process':>10}")
    for step, label in STEPS.items():
        mine = f"{statistics.median(ceiling.steps[step]):10.1f}" if step in ceiling.steps else ""
        print(f"  {label:<42} {_median(worker[step]):8.1f} {mine}".rstrip())
    in_process = sum(statistics.median(values) for values in ceiling.steps.values())
    print(
        f"  {'one photo: dequeue to the next dequeue':<42} {_median(worker['cycle']):8.1f} {in_process:10.1f}"
    )
    print(
        f"a job (process_session) took {_median(worker['job']):.1f} ms wall and"
        f" {_median(worker['cpu']):.1f} ms CPU; first upload to end x workers / photos ="
        f" {per_photo_and_worker:.1f} ms a photo, against a mean cycle of"
        f" {statistics.fmean(worker['cycle'] or [math.nan]):.1f} (the rest: waiting for the first file,"
        " the tail)"
    )


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


if __name__ == "__main__":
    sys.exit(main())
