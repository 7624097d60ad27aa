// The batch page's direct uploads (issue 24): a file goes straight to the bucket, never through the web
// server. The page hashes each file (SHA-256) ahead of its upload; then `POST /api/uploads` gives it an
// upload session and a presigned POST (asked for several files at once: the one starting and those next
// in line), the file is POSTed to the bucket, and `POST /api/uploads/<id>/complete` has the server check
// the stored object and queue it.
//
// `send(item, line)` is one attempt, and resolves as the page's own upload does: {stored},
// {refused, reason} or {retry, reason, waitMs}; it never rejects. An attempt goes on where the last one
// stopped: a file the bucket holds is only completed again.
"use strict";

window.photogateDirectUploads = ({ url, csrfToken, timeoutMs, failure, showProgress }) => {
  const REQUEST_TIMEOUT_MS = 30000;
  // A presigned POST asked ahead of its file's turn is used only while it has this long left.
  const TICKET_MARGIN_MS = 60000;
  // Some systems do not know HEIC or AVIF, and their browsers give such a file no type: its
  // extension names it; a file neither names is declared as bytes, which the server refuses.
  const TYPES_BY_EXTENSION = {
    jpg: "image/jpeg",
    jpeg: "image/jpeg",
    png: "image/png",
    webp: "image/webp",
    gif: "image/gif",
    heic: "image/heic",
    heif: "image/heif",
    avif: "image/avif",
  };
  let limits = null;

  // One JSON request to the server: {answer} when it succeeds, else a refusal or a retry.
  async function call(address, { method = "POST", body } = {}) {
    let response;
    try {
      response = await fetch(address, {
        method,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken, ...(body ? { "Content-Type": "application/json" } : {}) },
        body: body && JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const late = error.name === "TimeoutError";
      const reason = late ? "The server did not answer in time." : "The request did not reach the server.";
      return { retry: true, reason };
    }
    const answer = await response.json().catch(() => ({}));
    if (response.ok) return { answer };
    const reason = answer.error?.message || `The server answered ${response.status}.`;
    return { ...failure(response.status, reason, response.headers.get("Retry-After")), code: answer.error?.code };
  }

  // Learns the server's limits (once): null when known, else what the page says instead of starting.
  async function start() {
    if (limits) return null;
    const result = await call(url, { method: "GET" });
    if (!result.answer) {
      return `The server could not say how to upload: ${result.reason} Pick the photos again to retry.`;
    }
    if (!result.answer.direct) return "The server no longer takes files straight to storage: reload this page.";
    limits = result.answer;
    return null;
  }

  // Why the server would refuse the file for its size alone, so it is neither read nor sent; or null.
  function tooLarge(file) {
    const limit = limits.max_file_bytes;
    if (file.size <= limit) return null;
    return `The file is ${file.size.toLocaleString("en")} bytes; the limit is ${limit.toLocaleString("en")} bytes.`;
  }

  function contentType(file) {
    if (limits.content_types.includes(file.type)) return file.type;
    const extension = file.name.includes(".") ? file.name.split(".").pop().toLowerCase() : "";
    return TYPES_BY_EXTENSION[extension] || file.type || "application/octet-stream";
  }

  function fresh(ticket) {
    return Boolean(ticket) && ticket.until > Date.now();
  }

  // ---- asking for upload sessions ----

  function ticket(item, line) {
    if (item.refusal) return Promise.resolve({ refused: true, reason: item.refusal });
    if (fresh(item.ticket)) return Promise.resolve({ ticket: item.ticket });
    if (!item.asking) ask([item, ...nextInLine(line)], line.jobId);
    return item.asking;
  }

  // The waiting files a request can ask for too: as many as upload at once, so that most files find
  // their presigned POST ready when their turn comes, and few of those expire unused.
  function nextInLine({ upcoming, many }) {
    const chosen = [];
    const most = Math.min(many, limits.max_files) - 1;
    for (const item of upcoming) {
      if (chosen.length >= most) break;
      if (!item.asking && !item.refusal && !item.inBucket && !fresh(item.ticket)) chosen.push(item);
    }
    return chosen;
  }

  function ask(items, jobId) {
    const answered = call(url, { body: { job_id: jobId, files: items.map(described) } });
    for (const item of items) {
      item.asking = answered.then((result) => {
        item.asking = null;
        return result.answer ? ticketIn(result.answer, item) : result;
      });
    }
  }

  function described(item) {
    const { name, size } = item.file;
    const type = contentType(item.file);
    return { filename: name, size, content_type: type, sha256: item.sha256, upload_order: item.order };
  }

  function ticketIn(answer, item) {
    const upload = answer.uploads?.find((one) => one.upload_order === item.order);
    if (upload) {
      // Timed by this browser's clock from the moment it arrived: the two clocks may disagree.
      item.ticket = { ...upload, until: Date.now() + limits.expires_in * 1000 - TICKET_MARGIN_MS };
      return { ticket: item.ticket };
    }
    const error = answer.rejected?.find((one) => one.upload_order === item.order)?.error;
    if (!error || error.code === "service_unavailable") {
      return { retry: true, reason: error?.message || "The server gave this file no upload." };
    }
    item.refusal = error.message;
    return { refused: true, reason: error.message };
  }

  // ---- the file to the bucket, then done ----

  function post(item, target) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      const body = new FormData();
      for (const [name, value] of Object.entries(target.fields)) body.append(name, value);
      body.append("file", item.file); // last: S3 ignores every field after the file
      showProgress(xhr, item);
      xhr.addEventListener("load", () => resolve(received(xhr, item)));
      xhr.addEventListener("error", () => resolve({ retry: true, reason: "The upload did not reach the storage." }));
      xhr.addEventListener("timeout", () => resolve({ retry: true, reason: "The storage did not answer in time." }));
      xhr.open("POST", target.url); // without credentials: the signed form is the permission
      xhr.timeout = timeoutMs;
      xhr.send(body);
    });
  }

  function received(xhr, item) {
    if (xhr.status >= 200 && xhr.status < 300) return { sent: true };
    if (xhr.status === 403) {
      // The presigned POST expired (a pause, a slow start): the server signs the same upload again.
      item.ticket = null;
      return { retry: true, reason: "The storage's permission for this file expired; a new one is asked for." };
    }
    const message = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText)?.[1];
    const reason = `The storage answered ${xhr.status}${message ? `: ${message}` : "."}`;
    return failure(xhr.status, reason, xhr.getResponseHeader("Retry-After"));
  }

  async function complete(item) {
    const result = await call(item.ticket.complete_url);
    if (result.answer) return { stored: true };
    if (result.code === "upload_missing") {
      item.inBucket = false; // the bucket does not hold it after all: it is sent again
      return { retry: true, reason: result.reason };
    }
    return result;
  }

  async function send(item, line) {
    if (!item.inBucket) {
      const asked = await ticket(item, line);
      if (!asked.ticket) return asked;
      const posted = await post(item, asked.ticket);
      if (!posted.sent) return posted;
      item.inBucket = true;
    }
    return complete(item);
  }

  return { start, tooLarge, send };
};
