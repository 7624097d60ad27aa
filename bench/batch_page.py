"""How the batch page copes with thousands of files, in Debian's headless Chromium.

    .venv/bin/python -m bench.batch_page [--files 2000] [--runs 3]

Starts photogate as `make run` does (its own instance folder and port: SQLite, local disk, its own
Redis, gunicorn and the workers), creates a user, logs in, and hands the batch page `--files`
generated small JPEGs at once, `--runs` times (a new job each). For each run it prints:
- queued: seconds from handing the files over until the page counts them all;
- uploaded: seconds until the page has submitted the job (every file stored);
- the longest main-thread task Chromium reported (Long Tasks API: only tasks over 50 ms are
  reported) and the longest gap between two animation frames while the files were queued;
- the page's JavaScript heap and DOM node count once the files are queued (Chrome DevTools
  Protocol `Performance.getMetrics`).
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

from bench.system import EMAIL, PASSWORD, running_photogate
from webapp.testing.browser import CHROMIUM_ARGS, chromium_path, log_in

# Installed before the page's own scripts: what the page does is observed, not changed.
OBSERVE = """
window.benchLongTasks = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.benchLongTasks.push(entry.duration);
}).observe({ type: "longtask", buffered: true });
window.benchFrameGaps = [];
let last = performance.now();
(function frame(now) {
  window.benchFrameGaps.push(now - last);
  last = now;
  requestAnimationFrame(frame);
})(last);
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=2000, help="files per batch")
    parser.add_argument("--runs", type=int, default=3, help="batches, each a new job")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as folder,
        tempfile.TemporaryDirectory() as instance,
        running_photogate(Path(instance), {}, os.cpu_count()) as (base, _token, _pid),
    ):
        # Files on disk, as a person picks them: handed over as buffers, Playwright itself would decode
        # megabytes of base64 on the page's main thread and be measured instead of the page.
        files = [photo(Path(folder), number) for number in range(args.files)]
        results = [run(base, files) for _ in range(args.runs)]
    print_results(results, args.files)
    return 0


def photo(folder: Path, number: int) -> Path:
    """A small, distinct JPEG (noise seeded by its number) in `folder`."""
    rng = random.Random(number)
    pixels = Image.frombytes("RGB", (96, 72), rng.randbytes(96 * 72 * 3))
    path = folder / f"bench-{number:05d}.jpg"
    pixels.save(path, "JPEG", quality=80)
    return path


def run(base: str, files: list[Path]) -> dict:
    """One batch through the page: its timings and what the page held once the files were queued."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        # The bench polls the page with scripts of its own, which the page's policy would refuse.
        page = browser.new_page(bypass_csp=True)
        page.add_init_script(OBSERVE)
        log_in(page, base, EMAIL, PASSWORD)
        page.goto(base + "/batch")
        devtools = page.context.new_cdp_session(page)
        devtools.send("Performance.enable")
        started = time.perf_counter()
        page.set_input_files("#batch-input", files)
        page.wait_for_function(f"document.getElementById('batch-progress').max === {len(files)}", polling=10)
        queued = time.perf_counter() - started
        metrics = {item["name"]: item["value"] for item in devtools.send("Performance.getMetrics")["metrics"]}
        frame_gap = page.evaluate("Math.max(...window.benchFrameGaps.slice(1))")
        page.wait_for_function(
            "document.getElementById('batch-state').textContent.startsWith('Submitted')",
            timeout=600_000,
            polling=100,
        )
        uploaded = time.perf_counter() - started
        long_tasks = page.evaluate("window.benchLongTasks")
        state = page.inner_text("#batch-state")
        browser.close()
    return {
        "queued": queued,
        "uploaded": uploaded,
        "longest_task": max(long_tasks, default=0.0),
        "long_tasks": len(long_tasks),
        "frame_gap": frame_gap,
        "heap_mib": metrics["JSHeapUsedSize"] / 2**20,
        "nodes": metrics["Nodes"],
        "state": state,
    }


def print_results(results: list[dict], files: int) -> None:
    print(f"\nbatch page, {files} files per batch, {len(results)} batches (medians last):")
    print(
        f"{'queued s':>9} {'uploaded s':>11} {'files/s':>8} {'longest task ms':>16} {'long tasks':>11}"
        f" {'frame gap ms':>13} {'JS heap MiB':>12} {'DOM nodes':>10}"
    )
    columns = ("queued", "uploaded", "longest_task", "long_tasks", "frame_gap", "heap_mib", "nodes")
    for result in results:
        print(row(result, files))
    print(row({name: statistics.median(result[name] for result in results) for name in columns}, files))
    for result in results:
        print(f"  page said: {result['state']}")


def row(result: dict, files: int) -> str:
    return (
        f"{result['queued']:>9.2f} {result['uploaded']:>11.1f} {files / result['uploaded']:>8.1f}"
        f" {result['longest_task']:>16.0f} {result['long_tasks']:>11.0f} {result['frame_gap']:>13.0f}"
        f" {result['heap_mib']:>12.1f} {result['nodes']:>10.0f}"
    )


if __name__ == "__main__":
    sys.exit(main())
