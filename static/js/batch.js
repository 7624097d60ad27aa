// The batch page: a job is created first, then its files are uploaded a few at a time and the job is
// submitted once every file is stored or refused. Built for thousands of files on networks that drop:
// - each file is retried with exponential backoff and jitter on network errors, 5xx, 408 and 429
//   (waiting at least what Retry-After says), never on a refusal (another 4xx), and shows its attempts;
// - how many upload at once follows how fast the server answers;
// - the whole batch can be paused, and the browser warns before leaving while files are in flight;
// - a job still `uploading` is continued from `/batch?job=<id>`: the files picked again are hashed
//   (SHA-256, in a worker) and the job says which it holds; only the missing ones are sent;
// - when the form has `data-uploads-url` (the server offers direct uploads), each file is hashed ahead
//   of its turn and goes straight to the bucket (batch-direct.js), never through the web server;
// - only files that need attention (uploading, retrying, refused, failed, stored after retries) have
//   a row; the rest are counted, so the page stays light with thousands of files;
// - a button shows only while pressing it means something, and a press checks that again.
(() => {
  "use strict";

  const MAX_ATTEMPTS = 6;
  const BACKOFF_FIRST_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  const PARALLEL = { min: 1, start: 4, max: 8 };
  // An answer within FAST_MS lets one more upload run at once; one slower than SLOW_MS, one fewer.
  const FAST_MS = 2000;
  const SLOW_MS = 10000;
  const UPLOAD_TIMEOUT_MS = 120000;
  const CHECK_BATCH = 500;
  const ENQUEUE_SLICE = 250;
  const NEEDS_ATTENTION = new Set(["uploading", "retrying", "refused", "failed"]);
  const UNFINISHED = new Set(["hashing", "waiting", "uploading", "retrying"]);

  const form = document.getElementById("batch-form");
  const input = document.getElementById("batch-input");
  const provider = document.getElementById("batch-provider");
  const callback = document.getElementById("batch-callback");
  const rows = document.getElementById("batch-files");
  const stateText = document.getElementById("batch-state");
  const progress = document.getElementById("batch-progress");
  const pauseButton = document.getElementById("batch-pause");
  const retryButton = document.getElementById("batch-retry-failed");
  const submitButton = document.getElementById("batch-submit");
  const newBatchLink = document.getElementById("batch-new");
  const parallelText = document.getElementById("batch-parallel");
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const direct = form.dataset.uploadsUrl
    ? photogateDirectUploads({
        url: form.dataset.uploadsUrl,
        csrfToken,
        timeoutMs: UPLOAD_TIMEOUT_MS,
        failure,
        showProgress,
      })
    : null;

  const counts = Object.fromEntries(
    ["hashing", "waiting", "uploading", "retrying", "stored", "present", "refused", "failed"].map((name) => [name, 0]),
  );
  const waiting = [];
  const failed = new Set();
  let job = form.dataset.resumeJob ? { job_id: form.dataset.resumeJob } : null;
  let nextOrder = 0;
  let total = 0;
  let active = 0;
  let parallel = PARALLEL.start;
  let paused = false;
  let submitted = false;
  let hashing = null;
  let adding = 0;
  let submitFailed = false;
  let repaint = 0;

  // ---- what the page shows ----

  function scheduleRepaint() {
    // Thousands of files change state in one go: the counters are painted once per frame, not per file.
    repaint ||= requestAnimationFrame(() => {
      repaint = 0;
      for (const [name, value] of Object.entries(counts)) {
        const counter = document.querySelector(`[data-counter="${name}"]`);
        if (counter) counter.querySelector("dd").textContent = value;
      }
      progress.max = total || 1;
      progress.value = counts.stored + counts.present + counts.refused + counts.failed;
      const offer = offered();
      parallelText.textContent = `${parallel} at a time`;
      parallelText.hidden = !offer.pause;
      pauseButton.hidden = !offer.pause;
      retryButton.hidden = !offer.retry;
      submitButton.hidden = !offer.submit;
      submitButton.textContent = failed.size ? "Submit without them" : "Submit again";
    });
  }

  // What each button can do now: nothing before a job exists or once it is submitted; pausing while
  // files are on their way; retrying and submitting once none is, and submitting only when files gave
  // up (submit without them) or submitting failed (try again).
  function offered() {
    const open = Boolean(job) && !submitted;
    const settled = open && !adding && !unfinished();
    return {
      pause: open && unfinished(),
      retry: settled && failed.size > 0,
      submit: settled && (failed.size > 0 || submitFailed),
    };
  }

  function setState(item, state, detail = "") {
    if (item.state) counts[item.state] -= 1;
    counts[state] += 1;
    item.state = state;
    item.detail = detail;
    if (state === "failed") failed.add(item);
    else failed.delete(item);
    showRow(item);
    scheduleRepaint();
  }

  function showRow(item) {
    // A file stored only after retries keeps its row: where the network failed stays visible.
    if (!NEEDS_ATTENTION.has(item.state) && !(item.state === "stored" && item.attempts > 1)) {
      item.row?.remove();
      item.row = null;
      return;
    }
    if (!item.row) {
      item.row = document.createElement("tr");
      for (const name of ["order", "name", "state", "attempts", "detail"]) {
        const cell = document.createElement("td");
        cell.className = name;
        item.row.append(cell);
      }
      item.row.querySelector(".name").textContent = item.file.name;
      rows.append(item.row);
    }
    // Numbered from 1 for people; a file the job could not check yet has no number until it is enqueued.
    item.row.querySelector(".order").textContent = item.order === null ? "" : item.order + 1;
    item.row.dataset.state = item.state;
    item.row.dataset.attempts = item.attempts;
    item.row.querySelector(".state").textContent = item.state;
    item.row.querySelector(".attempts").textContent = item.attempts || "";
    item.row.querySelector(".detail").textContent = item.detail;
  }

  function unfinished() {
    return [...UNFINISHED].some((state) => counts[state] > 0);
  }

  // ---- talking to the server ----

  async function request(url, options) {
    const response = await fetch(url, {
      credentials: "same-origin",
      ...options,
      headers: { "X-CSRFToken": csrfToken, ...(options.headers || {}) },
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error?.message || `The server answered ${response.status}.`);
    return body;
  }

  function jsonPost(url, body) {
    return request(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  }

  // One attempt to send a file: resolves to what happened, never rejects.
  function send(item) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      const body = new FormData();
      body.append("files", item.file);
      body.append("upload_order", item.order);
      showProgress(xhr, item);
      xhr.addEventListener("load", () => resolve(outcome(xhr)));
      xhr.addEventListener("error", () => resolve({ retry: true, reason: "The upload did not reach the server." }));
      xhr.addEventListener("timeout", () => resolve({ retry: true, reason: "The server did not answer in time." }));
      xhr.open("POST", `${form.dataset.jobsUrl}/${job.job_id}/files`);
      xhr.timeout = UPLOAD_TIMEOUT_MS;
      xhr.setRequestHeader("X-CSRFToken", csrfToken);
      xhr.send(body);
    });
  }

  function showProgress(xhr, item) {
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && item.row) {
        item.row.querySelector(".detail").textContent = `${Math.round((100 * event.loaded) / event.total)} %`;
      }
    });
  }

  function outcome(xhr) {
    let answer = {};
    try {
      answer = JSON.parse(xhr.responseText);
    } catch {
      // Not JSON (a proxy's error page): judged by its status below.
    }
    const refusal = answer.rejected?.[0]?.error;
    if (xhr.status === 200 && answer.images?.length) return { stored: true };
    if (xhr.status === 200 && refusal?.code === "service_unavailable") return { retry: true, reason: refusal.message };
    const reason = refusal?.message || answer.error?.message || `The server answered ${xhr.status}.`;
    return failure(xhr.status, reason, xhr.getResponseHeader("Retry-After"));
  }

  // An answer that is not a success: worth another attempt, or a refusal.
  function failure(status, reason, retryAfter) {
    if (status === 408 || status === 429 || status >= 500) {
      return { retry: true, reason, waitMs: retryAfterMs(retryAfter) };
    }
    return { refused: true, reason };
  }

  function retryAfterMs(header) {
    if (!header) return 0;
    const seconds = Number(header);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(header);
    return Number.isNaN(date) ? 0 : Math.max(0, date - Date.now());
  }

  function backoffMs(attempt) {
    // Exponential, capped, with half of it random ("equal jitter"): clients that failed together
    // do not all come back at the same moment.
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (attempt - 1));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  // ---- the queue ----

  async function upload(item) {
    item.attempts += 1;
    setState(item, "uploading", "0 %");
    const started = performance.now();
    const line = { jobId: job.job_id, upcoming: waiting, many: parallel };
    const result = direct ? await direct.send(item, line) : await send(item);
    adapt(result, performance.now() - started);
    if (result.stored) {
      setState(item, "stored");
    } else if (result.refused) {
      setState(item, "refused", result.reason);
    } else if (item.attempts >= MAX_ATTEMPTS) {
      setState(item, "failed", `${result.reason} Gave up after ${item.attempts} attempts.`);
    } else {
      const wait = Math.max(backoffMs(item.attempts), result.waitMs || 0);
      setState(item, "retrying", `${result.reason} Trying again in ${Math.ceil(wait / 1000)} s.`);
      setTimeout(() => {
        setState(item, "waiting");
        waiting.unshift(item);
        pump();
      }, wait);
    }
  }

  function adapt(result, elapsedMs) {
    if (result.retry) parallel = Math.max(PARALLEL.min, Math.floor(parallel / 2));
    else if (elapsedMs < FAST_MS) parallel = Math.min(PARALLEL.max, parallel + 1);
    else if (elapsedMs > SLOW_MS) parallel = Math.max(PARALLEL.min, parallel - 1);
  }

  function pump() {
    while (!paused && active < parallel && waiting.length) {
      const item = waiting.shift();
      active += 1;
      upload(item).then(() => {
        active -= 1;
        pump();
      });
    }
    if (!adding && !unfinished() && !failed.size && job && !submitted && total) submit();
    scheduleRepaint();
  }

  function enqueue(item) {
    item.order = nextOrder;
    nextOrder += 1;
    if (direct && !item.sha256) {
      setState(item, "hashing"); // prepare() hashes it, then it waits for its turn
    } else {
      setState(item, "waiting");
      waiting.push(item);
    }
  }

  async function submit() {
    submitted = true;
    stateText.textContent = "Submitting the job…";
    try {
      await request(`${form.dataset.jobsUrl}/${job.job_id}/submit`, { method: "POST" });
    } catch (error) {
      submitted = false;
      submitFailed = true;
      stateText.textContent = `The job could not be submitted: ${error.message}`;
      scheduleRepaint();
      return;
    }
    // Stay here, so the reasons of refused files stay visible; the job page is one click away.
    const before = counts.present ? `, ${counts.present} already in the job` : "";
    const gaveUp = counts.failed ? `, ${counts.failed} not uploaded` : "";
    stateText.textContent = `Submitted: ${counts.stored} stored${before}, ${counts.refused} refused${gaveUp}.`;
    showJobLink();
    newBatchLink.hidden = false;
    form.hidden = true;
    scheduleRepaint();
  }

  function showJobLink() {
    const link = document.getElementById("batch-job-link");
    link.href = form.dataset.jobPage.replace("JOB_ID", job.job_id);
    link.hidden = false;
  }

  // ---- continuing a job: hash, ask the job, send what it lacks ----

  function hasher() {
    const worker = new Worker(form.dataset.hashWorker);
    const pending = new Map();
    let next = 0;
    worker.addEventListener("message", (event) => {
      const { id, sha256, error } = event.data;
      const settle = pending.get(id);
      pending.delete(id);
      if (error) settle.reject(new Error(error));
      else settle.resolve(sha256);
    });
    // The worker reads one file at a time, in the order asked: only one file is in memory at once.
    return (file) =>
      new Promise((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, file });
      });
  }

  async function resume(items) {
    hashing ||= hasher();
    for (const item of items) setState(item, "hashing");
    for (let start = 0; start < items.length; start += CHECK_BATCH) {
      const batch = items.slice(start, start + CHECK_BATCH);
      try {
        for (const item of batch) item.sha256 = await hashing(item.file);
        const answer = await jsonPost(`${form.dataset.jobsUrl}/${job.job_id}/check`, {
          files: batch.map((item) => ({ sha256: item.sha256, size: item.file.size, filename: item.file.name })),
        });
        nextOrder = Math.max(nextOrder, answer.next_upload_order);
        stateText.textContent = "Uploading the files the job lacks…";
        answer.files.forEach((checked, index) => {
          if (checked.status === "present") {
            batch[index].order = checked.upload_order;
            setState(batch[index], "present");
          } else {
            enqueue(batch[index]);
          }
        });
      } catch (error) {
        stateText.textContent = `The job could not say which files it has: ${error.message}`;
        for (const item of batch) setState(item, "failed", error.message);
      }
      pump();
    }
  }

  // A direct upload declares its file's SHA-256: each is hashed, one at a time, ahead of the uploads.
  async function prepare(items) {
    hashing ||= hasher();
    for (const item of items) {
      const tooLarge = direct.tooLarge(item.file);
      if (tooLarge) {
        setState(item, "refused", tooLarge);
        continue;
      }
      try {
        item.sha256 = await hashing(item.file);
      } catch (error) {
        setState(item, "failed", error.message);
        continue;
      }
      setState(item, "waiting");
      waiting.push(item);
      pump();
    }
  }

  // ---- the files a person picks ----

  async function createJob() {
    provider.disabled = true;
    callback.disabled = true;
    stateText.textContent = "Creating the job…";
    try {
      job = await jsonPost(form.dataset.jobsUrl, { provider: provider.value, callback_url: callback.value || null });
    } catch (error) {
      stateText.textContent = `The job could not be created: ${error.message} Pick the photos again to retry.`;
      provider.disabled = false;
      callback.disabled = false;
      return false;
    }
    // Reloading or coming back from the job page continues this job.
    history.replaceState(null, "", `?job=${job.job_id}`);
    return true;
  }

  async function add(files) {
    if (!files.length || submitted) return;
    document.getElementById("batch-status").hidden = false;
    const unready = await direct?.start();
    if (unready) {
      stateText.textContent = unready;
      return;
    }
    const fresh = !job;
    if (fresh && !(await createJob())) return;
    stateText.textContent = fresh ? "Uploading…" : "Checking which files the job has…";
    const items = files.map((file) => ({ file, order: null, state: null, attempts: 0, detail: "", row: null }));
    total += items.length;
    adding += 1;
    if (fresh) {
      // In slices, each its own task: thousands of files never hold the page for long at once.
      for (let start = 0; start < items.length; start += ENQUEUE_SLICE) {
        for (const item of items.slice(start, start + ENQUEUE_SLICE)) enqueue(item);
        pump();
        await new Promise((resolve) => setTimeout(resolve));
      }
      if (direct) await prepare(items);
    } else {
      await resume(items); // says on the page whether the job could tell which files it lacks
    }
    adding -= 1;
    pump();
  }

  pauseButton.addEventListener("click", () => {
    if (!offered().pause) return;
    paused = !paused;
    pauseButton.textContent = paused ? "Resume" : "Pause";
    stateText.textContent = paused ? "Paused: uploads in flight finish, no new one starts." : "Uploading…";
    pump();
  });

  retryButton.addEventListener("click", () => {
    if (!offered().retry) return;
    const unchecked = [];
    const unread = [];
    for (const item of [...failed]) {
      item.attempts = 0;
      if (item.order === null) {
        unchecked.push(item); // the job could not say whether it has these: ask again first
      } else if (direct && !item.sha256) {
        setState(item, "hashing"); // a direct upload needs its hash, which could not be read
        unread.push(item);
      } else {
        setState(item, "waiting");
        waiting.push(item);
      }
    }
    if (unchecked.length) resume(unchecked);
    if (unread.length) prepare(unread);
    pump();
  });

  submitButton.addEventListener("click", () => {
    if (offered().submit) submit();
  });

  window.addEventListener("beforeunload", (event) => {
    if (!submitted && unfinished()) event.preventDefault();
  });

  photogateDropzone(form, input, add);
})();
