// The upload page: files from the picker or a drop are sent one request each, a few at a time.
// Each file shows a card at once (with upload progress); the server answers with the photo's
// live card, which htmx then keeps polling until the photo is processed or failed.
(() => {
  "use strict";

  const PARALLEL_UPLOADS = 3;
  const form = document.getElementById("upload-form");
  const input = document.getElementById("file-input");
  const cards = document.getElementById("cards");
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const waiting = [];
  let active = 0;

  function placeholderCard(file) {
    const card = document.createElement("article");
    card.className = "card card-uploading";
    card.dataset.status = "waiting";
    const name = document.createElement("span");
    name.className = "filename";
    name.textContent = file.name;
    const progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    const body = document.createElement("div");
    body.className = "card-body";
    body.append(name, progress);
    const image = document.createElement("span");
    image.className = "card-image";
    image.innerHTML = '<span class="placeholder">waiting…</span>';
    card.append(image, body);
    return card;
  }

  function replaceWithServerCard(card, html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const serverCard = template.content.firstElementChild;
    if (!serverCard) {
      return showFailure(card, "The server gave an empty answer.");
    }
    card.replaceWith(serverCard);
    htmx.process(serverCard);
  }

  function showFailure(card, message) {
    card.className = "card card-refused";
    card.dataset.status = "refused";
    const error = document.createElement("p");
    error.className = "error-message";
    error.textContent = message;
    card.querySelector("progress")?.remove();
    card.querySelector(".card-body").append(error);
  }

  function upload(file, card) {
    const request = new XMLHttpRequest();
    const progress = card.querySelector("progress");
    card.dataset.status = "uploading";
    card.querySelector(".placeholder").textContent = "uploading…";
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) progress.value = (100 * event.loaded) / event.total;
    });
    request.addEventListener("load", () => {
      if (request.getResponseHeader("Content-Type")?.startsWith("text/html")) {
        replaceWithServerCard(card, request.responseText);
      } else {
        showFailure(card, `The server answered ${request.status} ${request.statusText}.`);
      }
      finished();
    });
    request.addEventListener("error", () => {
      showFailure(card, "The upload did not reach the server. Check the connection and try again.");
      finished();
    });
    const body = new FormData();
    body.append("file", file);
    request.open("POST", form.action);
    request.setRequestHeader("X-CSRFToken", csrfToken);
    request.send(body);
  }

  function finished() {
    active -= 1;
    next();
  }

  function next() {
    while (active < PARALLEL_UPLOADS && waiting.length) {
      const { file, card } = waiting.shift();
      active += 1;
      upload(file, card);
    }
  }

  function add(files) {
    for (const file of files) {
      const card = placeholderCard(file);
      cards.prepend(card);
      waiting.push({ file, card });
    }
    next();
  }

  photogateDropzone(form, input, add);
})();
