// Hashes files for the batch page off its main thread: SHA-256 by Web Crypto. Messages are handled
// one at a time, in order, so however many files are picked only one is read into memory at once
// (Web Crypto has no incremental digest; the server's file-size limit bounds that one).
"use strict";

let queue = Promise.resolve();

function hex(buffer) {
  return [...new Uint8Array(buffer)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

self.addEventListener("message", (event) => {
  const { id, file } = event.data;
  queue = queue.then(async () => {
    try {
      const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
      self.postMessage({ id, sha256: hex(digest) });
    } catch (error) {
      self.postMessage({ id, error: `${file.name} could not be read: ${error.message}` });
    }
  });
});
