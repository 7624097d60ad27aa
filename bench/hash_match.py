"""Benchmark hash-bank matching, PDQ hashing, and what the bank index costs a worker.

    .venv/bin/python -m bench.hash_match [--sizes 10000,100000,1000000] [--lookups 300] [--runs 20] [--warm]

One reject bank on a private PostgreSQL database is filled with random PDQ hashes up to each size in
turn (one revision per step, rows made by the database itself). At each size:
- a fresh `BankIndex().refresh(connection)` is timed, what a worker pays at start, and the process's
  VmRSS is read before and after it: the increase is what the index costs a worker (the total is
  this process's, which holds the process index of the size before too);
- `--lookups` queries that match (a stored hash with FLIPPED_BITS bits flipped) and as many that
  do not (random hashes), in random order, are each timed through the worker's whole lookup,
  `hash_matching.find_match` (revision check, index search, the candidates' rows, the lookup count
  in a Redis database of our own), and through the bare index search, `BankIndex.candidates`.
  Before each call the CPU caches are flushed, as the rest of a photo's work would leave them in a
  worker; `--warm` times the calls back to back instead.
Then the largest index is refreshed after adding 1 entry; a hash list of `--import-lines` random
hashes is imported into a bank of its own, twice (the second time every hash is present already);
and a 12 MP JPEG's pixels, as `make_derivatives` decoded them, are hashed: its PDQ hash and its crops'.

Targets: find_match ≤ 5 ms median at 1,000,000 entries, PDQ ≤ 15 ms median. The exit status is
non-zero when one is missed.
"""

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from bench.pipeline import PHOTO_SIZE, make_photo
from bench.support import bench_app, median, timed
from webapp.extensions import db
from webapp.imaging import crop_fingerprints, fingerprint, make_derivatives
from webapp.models import Role
from webapp.queue import redis_connection
from webapp.services.accounts import users
from webapp.services.banks import bank_entries, bank_index, banks, hash_lists, hash_matching

TARGET_MATCH_MS = 5.0
TARGET_MATCH_ENTRIES = 1_000_000
TARGET_PDQ_MS = 15.0
# Well within a bank's default distance (31): each such query must find the entry it came from.
FLIPPED_BITS = 8
# PDQ's best quality: every query is a hash to match on.
QUALITY = 100
KINDS = ("no match", "match")
REFRESH_ROUNDS = 10
# Twice the L3 cache here (32 MiB): writing across it leaves nothing of a lookup's data or code cached.
FLUSH_BYTES = 64 * 2**20
CACHE_LINE = 64
# Made by the database: an import (`hash_lists.import_hashes`, measured on its own below) would leave its
# memory in the process whose RSS is measured.
FILL = text(
    "INSERT INTO hash_bank_entries"
    " (id, bank_id, pdq_hash, origin, enabled, revision, created_at, updated_at)"
    " SELECT gen_random_uuid(), CAST(:bank_id AS uuid), md5(random()::text) || md5(random()::text),"
    " 'import'::bank_entry_origin, true, :revision, now(), now() FROM generate_series(1, :count)"
)
SAMPLE = text("SELECT pdq_hash FROM hash_bank_entries ORDER BY random() LIMIT :count")


@dataclass
class BankSize:
    """What one bank size measured: the fresh load, the RSS around it, and lookups by query kind."""

    entries: int
    load_s: float
    rss_before_kib: int
    rss_after_kib: int
    find_ms: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    index_ms: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})

    @property
    def index_mib(self) -> float:
        """What loading the index added to the process's resident memory."""
        return (self.rss_after_kib - self.rss_before_kib) / 1024


def main() -> int:
    """Fill the bank size by size, measure at each, hash the photo, print the tables, judge the targets."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=_sizes, default=[10_000, 100_000, 1_000_000], help="bank sizes")
    parser.add_argument("--lookups", type=int, default=300, help="lookups of each kind per size")
    parser.add_argument("--runs", type=int, default=20, help="hashing runs")
    parser.add_argument("--warm", action="store_true", help="time lookups back to back, caches warm")
    parser.add_argument("--import-lines", type=int, default=100_000, help="lines of the imported list")
    args = parser.parse_args()
    # find_match counts each lookup in Redis: the app's database of its own keeps others' counts apart.
    with tempfile.TemporaryDirectory() as tmp, bench_app(Path(tmp)) as app, app.app_context():
        results, refreshes = measure_banks(args.sizes, args.lookups, args.warm)
        redis_connection().delete(hash_matching.LOOKUPS_KEY)
        imports = measure_import(args.import_lines)
    hashing, decoded = measure_hashing(args.runs)
    print_banks(results, refreshes, args.lookups, args.warm)
    print(
        f"import of a {args.import_lines:,}-line hash list (`hash_lists.import_hashes`): {imports[0]:.1f} s"
        f" ({args.import_lines / imports[0]:,.0f} lines/s); again, every hash present: {imports[1]:.1f} s"
    )
    print_hashing(hashing, decoded, args.runs)
    failures = judge(results[-1], hashing)
    for failure in failures:
        print(f"MISSED: {failure}")
    return 1 if failures else 0


def _sizes(value: str) -> list[int]:
    """Ascending sizes from a comma-separated list: the bank grows from one to the next."""
    return sorted(int(part) for part in value.split(","))


def measure_banks(sizes: list[int], lookups: int, warm: bool) -> tuple[list[BankSize], list[float]]:
    """Measure each size in turn, then the incremental refresh at the largest."""
    # As in a worker, FAISS is made single-threaded before any search.
    bank_index.current()
    bank = banks.create_bank("bench", "reject")
    rng = random.Random(5)
    results, filled = [], 0
    for size in sizes:
        started = time.perf_counter()
        fill(bank.id, size - filled)
        filled = size
        print(f"bank filled to {size:,} entries in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        result = load_fresh(size)
        run_lookups(result, lookups, rng, warm)
        results.append(result)
    return results, refresh_after_adding_one(bank.id)


def fill(bank_id: uuid.UUID, count: int) -> None:
    """Add `count` random entries to the bank in one revision, as `bank_entries.add` would stamp them."""
    revision = bank_entries.next_revision()
    db.session.execute(FILL, {"bank_id": str(bank_id), "revision": revision, "count": count})
    db.session.commit()


def load_fresh(entries: int) -> BankSize:
    """Time a new index loading every entry, with the VmRSS before and after (it is dropped on return)."""
    before = rss_kib()
    index = bank_index.BankIndex()
    with db.engine.connect() as connection:
        seconds = timed(lambda: index.refresh(connection)) / 1000
    assert index.hashes == entries, (index.hashes, entries)
    return BankSize(entries, seconds, before, rss_kib())


def run_lookups(result: BankSize, count: int, rng: random.Random, warm: bool) -> None:
    """Time `count` matching and `count` non-matching queries, shuffled, through both functions."""
    index = bank_index.current()
    stored = db.session.scalars(SAMPLE, {"count": count}).all()
    queries = [("match", flip(pdq_hash, rng)) for pdq_hash in stored]
    queries += [("no match", f"{rng.getrandbits(256):064x}") for _ in range(count)]
    rng.shuffle(queries)
    scratch = bytearray(0 if warm else FLUSH_BYTES)
    for kind, query in queries:
        flush_caches(scratch)
        find_ms, match = _clocked(lambda q=query: hash_matching.find_match(q, QUALITY))
        flush_caches(scratch)
        index_ms, candidates = _clocked(lambda q=query: index.candidates(q))
        # Random hashes lie ~128 bits apart, so a non-matching query has no candidate at all.
        assert (match.distance if match else None) == (FLIPPED_BITS if kind == "match" else None), match
        assert bool(candidates) == (kind == "match"), candidates
        result.find_ms[kind].append(find_ms)
        result.index_ms[kind].append(index_ms)


def flip(pdq_hash: str, rng: random.Random) -> str:
    """The hash with FLIPPED_BITS of its 256 bits flipped."""
    mask = sum(1 << bit for bit in rng.sample(range(256), FLIPPED_BITS))
    return f"{int(pdq_hash, 16) ^ mask:064x}"


def flush_caches(scratch: bytearray) -> None:
    """Write one byte of each cache line of a buffer bigger than the CPU caches (none when it is empty).

    In a worker a lookup comes between a photo's decode and its encodes, which evict the index, the
    lookup's Python objects and SQLAlchemy's code from the caches; back to back, each lookup would
    warm them for the next, and find_match would look faster than a worker sees it.
    """
    scratch[::CACHE_LINE] = bytes(len(scratch) // CACHE_LINE)


def refresh_after_adding_one(bank_id: uuid.UUID) -> list[float]:
    """Milliseconds of the process's refresh (`bank_index.current()`) each time one entry was added."""
    samples = []
    for _ in range(REFRESH_ROUNDS):
        before = bank_index.current().hashes
        fill(bank_id, 1)
        samples.append(timed(bank_index.current))
        assert bank_index.current().hashes == before + 1
    return samples


def measure_import(lines: int) -> tuple[float, float]:
    """Seconds to import a list of `lines` random hashes with notes into a new bank, then again."""
    rng = random.Random(11)
    listing = "pdq,note\n" + "".join(f"{rng.getrandbits(256):064x},line {line}\n" for line in range(lines))
    data = listing.encode()
    bank = banks.create_bank("bench import", "flag")
    admin = users.create_user("bench@example.com", password="bench-password", role=Role.ADMIN)
    first = timed(lambda: hash_lists.import_hashes(bank, io.BytesIO(data), admin)) / 1000
    again = timed(lambda: hash_lists.import_hashes(bank, io.BytesIO(data), admin)) / 1000
    return first, again


def measure_hashing(runs: int) -> tuple[dict[str, list[float]], tuple[int, int]]:
    """Milliseconds of fingerprint and crop_fingerprints on a 12 MP JPEG's decoded pixels, interleaved;
    and the decoded size."""
    buffer = io.BytesIO()
    make_photo().save(buffer, "JPEG", quality=90, subsampling="4:2:0")
    pixels = make_derivatives(buffer.getvalue()).pixels
    steps = {"fingerprint": fingerprint, "crop_fingerprints": crop_fingerprints}
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for run in range(-1, runs):  # run -1 warms up: the first call imports numpy and pdqhash
        for name, step in steps.items():
            ms = timed(lambda step=step: step(pixels))
            if run >= 0:
                samples[name].append(ms)
    return samples, pixels.size


def _clocked(function: Callable[[], object]) -> tuple[float, object]:
    """Wall milliseconds of one call, and what it returned."""
    start = time.perf_counter()
    result = function()
    return (time.perf_counter() - start) * 1000, result


def rss_kib() -> int:
    """This process's resident memory (VmRSS) in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def print_banks(results: list[BankSize], refreshes: list[float], lookups: int, warm: bool) -> None:
    """Print the lookup table with each size's load time and index memory, then the refresh."""
    caches = "back to back, caches warm" if warm else "CPU caches flushed before each"
    print(
        f"\nbank index by size: fresh load (s) and its VmRSS increase (MiB); {lookups} matching"
        f" ({FLIPPED_BITS} bits flipped) and {lookups} non-matching lookups, shuffled, {caches} (wall ms)"
    )
    print(
        f"{'entries':>10} {'load s':>7} {'+MiB':>6}  {'query':<8}  {'find_match median':>17} {'p99':>6}"
        f"  {'candidates median':>17} {'p99':>6}"
    )
    for result in results:
        load = f"{result.entries:>10,} {result.load_s:>7.2f} {result.index_mib:>6.1f}"
        for kind in KINDS:
            found, index = result.find_ms[kind], result.index_ms[kind]
            print(
                f"{load}  {kind:<8}  {median(found):>17.2f} {p99(found):>6.2f}"
                f"  {median(index):>17.2f} {p99(index):>6.2f}"
            )
            load = " " * len(load)
    largest = results[-1]
    print(
        f"\nworker memory with the {largest.entries:,}-entry index loaded:"
        f" VmRSS {largest.rss_after_kib / 1024:.1f} MiB, +{largest.index_mib:.1f} MiB over the"
        f" {largest.rss_before_kib / 1024:.1f} MiB before loading it"
        f" ({largest.index_mib * 2**20 / largest.entries:.0f} bytes per entry)"
    )
    print(
        f"incremental refresh after adding 1 entry to it (bank_index.current()):"
        f" {median(refreshes):.2f} ms median of {len(refreshes)}, max {max(refreshes):.2f} ms"
    )


def print_hashing(samples: dict[str, list[float]], decoded: tuple[int, int], runs: int) -> None:
    """Print the hashing medians."""
    print(
        f"\nhashing a {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} JPEG's pixels as make_derivatives decoded them"
        f" ({decoded[0]}x{decoded[1]}), median of {runs} runs:"
    )
    for name, values in samples.items():
        print(f"  {name:<18} {median(values):6.2f} ms   (min {min(values):.2f}, max {max(values):.2f})")


def judge(largest: BankSize, hashing: dict[str, list[float]]) -> list[str]:
    """Print each target met; return each one missed."""
    checks = [
        (
            f"find_match median ({kind}) {median(largest.find_ms[kind]):.2f} ms at {largest.entries:,}"
            f" entries, target ≤ {TARGET_MATCH_MS} ms at {TARGET_MATCH_ENTRIES:,}",
            median(largest.find_ms[kind]) <= TARGET_MATCH_MS,
        )
        for kind in KINDS
    ]
    pdq = median(hashing["fingerprint"])
    checks.append((f"PDQ fingerprint median {pdq:.2f} ms, target ≤ {TARGET_PDQ_MS} ms", pdq <= TARGET_PDQ_MS))
    print()
    for verdict, met in checks:
        if met:
            print(f"OK: {verdict}")
    return [verdict for verdict, met in checks if not met]


if __name__ == "__main__":
    sys.exit(main())
