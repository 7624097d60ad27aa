// The batch page: create the job first, upload its files a few at a time (each with its own
// state and progress), then submit the job and link to its live page. A refused file never
// stops the rest.
(() => {
  "use strict";

  const PARALLEL_UPLOADS = 4;
  const form = document.getElementById("batch-form");
  const input = document.getElementById("batch-input");
  const provider = document.getElementById("batch-provider");
  const callback = document.getElementById("batch-callback");
  const rows = document.getElementById("batch-files");
  const stateText = document.getElementById("batch-state");
  const progress = document.getElementById("batch-progress");
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const counts = { waiting: 0, uploading: 0, stored: 0, rejected: 0 };
  const waiting = [];
  let job = null;
  let nextOrder = 0;
  let active = 0;

  function showCounts() {
    for (const [name, value] of Object.entries(counts)) {
      document.querySelector(`[data-counter="${name}"] dd`).textContent = value;
    }
    progress.max = nextOrder || 1;
    progress.value = counts.stored + counts.rejected;
  }

  function setState(item, state, detail = "") {
    if (item.state) counts[item.state] -= 1;
    counts[state] += 1;
    item.state = state;
    item.row.dataset.state = state;
    item.row.querySelector(".state").textContent = state;
    item.row.querySelector(".detail").textContent = detail;
    showCounts();
  }

  function addRow(file, order) {
    const row = document.createElement("tr");
    for (const text of [order, file.name, "", ""]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    row.cells[2].className = "state";
    row.cells[3].className = "detail";
    rows.append(row);
    return row;
  }

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

  function upload(item) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      const body = new FormData();
      body.append("files", item.file);
      body.append("upload_order", item.order);
      setState(item, "uploading", "0 %");
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) item.row.querySelector(".detail").textContent = `${Math.round((100 * event.loaded) / event.total)} %`;
      });
      xhr.addEventListener("load", () => {
        let answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch { /* not JSON: reported below */ }
        if (xhr.status === 200 && answer.images?.length) setState(item, "stored");
        else setState(item, "rejected", answer.rejected?.[0]?.error.message || answer.error?.message || `The server answered ${xhr.status}.`);
        resolve();
      });
      xhr.addEventListener("error", () => {
        setState(item, "rejected", "The upload did not reach the server.");
        resolve();
      });
      xhr.open("POST", `${form.dataset.jobsUrl}/${job.job_id}/files`);
      xhr.setRequestHeader("X-CSRFToken", csrfToken);
      xhr.send(body);
    });
  }

  async function pump() {
    while (active < PARALLEL_UPLOADS && waiting.length) {
      const item = waiting.shift();
      active += 1;
      upload(item).then(() => {
        active -= 1;
        if (!waiting.length && !active) submit();
        else pump();
      });
    }
  }

  async function submit() {
    stateText.textContent = "Submitting the job…";
    try {
      await request(`${form.dataset.jobsUrl}/${job.job_id}/submit`, { method: "POST" });
    } catch (error) {
      stateText.textContent = `The job could not be submitted: ${error.message}`;
      return;
    }
    // Stay here, so the reasons of refused files stay visible; the job page is one click away.
    stateText.textContent = `Submitted: ${counts.stored} stored, ${counts.rejected} refused.`;
    const link = document.getElementById("batch-job-link");
    link.href = form.dataset.jobPage.replace("JOB_ID", job.job_id);
    link.hidden = false;
    form.hidden = true;
  }

  async function add(files) {
    if (!files.length) return;
    document.getElementById("batch-status").hidden = false;
    if (!job) {
      provider.disabled = true;
      callback.disabled = true;
      stateText.textContent = "Creating the job…";
      try {
        job = await request(form.dataset.jobsUrl, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ provider: provider.value, callback_url: callback.value || null }),
        });
      } catch (error) {
        stateText.textContent = `The job could not be created: ${error.message}`;
        provider.disabled = false;
        callback.disabled = false;
        return;
      }
    }
    stateText.textContent = "Uploading…";
    for (const file of files) {
      const item = { file, order: nextOrder, row: addRow(file, nextOrder), state: null };
      nextOrder += 1;
      setState(item, "waiting");
      waiting.push(item);
    }
    pump();
  }

  photogateDropzone(form, input, add);
})();
