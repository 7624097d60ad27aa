// The review queue from the keyboard. Cards are focusable, and the focused card is the one keys
// act on, so the browser's own focus (and a screen reader following it) is the only cursor.
// htmx sends the decisions; this file moves focus, reveals thumbnails and shows refused requests.
(() => {
  "use strict";

  const CARD = ".review-card";
  const WAITING = ".review-card:not([data-decided])";
  const TYPING = "textarea, select, [contenteditable], input:not([type=checkbox], [type=radio])";
  const KEYS = {
    j: (card) => move(card, 1),
    ArrowDown: (card) => move(card, 1),
    k: (card) => move(card, -1),
    ArrowUp: (card) => move(card, -1),
    a: (card) => card?.querySelector('[data-verdict="approved"]').click(),
    r: (card) => card?.querySelector('[data-verdict="rejected"]').click(),
    v: (card) => reveal(card),
    x: (card) => toggleSelection(card),
  };

  function waitingCards() {
    return [...document.querySelectorAll(WAITING)];
  }

  function move(card, step) {
    const cards = waitingCards();
    const index = cards.indexOf(card);
    const target = index < 0 ? cards[0] : cards[Math.min(Math.max(index + step, 0), cards.length - 1)];
    target?.focus();
  }

  function reveal(card) {
    const button = card?.querySelector("[data-reveal]");
    if (!button) return;
    button.textContent = card.toggleAttribute("data-revealed") ? "Hide" : "Reveal";
  }

  function toggleSelection(card) {
    const checkbox = card?.querySelector("[name=ids]");
    if (!checkbox) return;
    checkbox.checked = !checkbox.checked;
    showSelection();
  }

  // Decided cards lose their checkbox, so the count is read from the page rather than kept.
  function showSelection() {
    const count = document.querySelectorAll(`${WAITING} [name=ids]:checked`).length;
    const counter = document.querySelector("[data-selected-count]");
    if (counter) counter.value = count;
    for (const button of document.querySelectorAll("[data-bulk]")) button.disabled = count === 0;
  }

  function focusFirst() {
    (waitingCards()[0] ?? document.querySelector("[data-refresh]"))?.focus();
  }

  function afterDecision(decided) {
    const counter = document.querySelector("[data-waiting]");
    counter.textContent = Math.max(0, Number(counter.textContent) - 1);
    showSelection();
    // Focus was on the card htmx just replaced; if it moved elsewhere (a note being typed), leave it.
    if (document.activeElement && document.activeElement !== document.body) return;
    const cards = [...document.querySelectorAll(CARD)];
    const later = cards.slice(cards.indexOf(decided) + 1);
    const next = later.find((card) => card.matches(WAITING));
    if (next) next.focus();
    else focusFirst();
  }

  // The server answers a refused request with its error page; its message is the part to show.
  function errorMessage(xhr) {
    const page = new DOMParser().parseFromString(xhr.responseText, "text/html");
    const message = page.querySelector(".error-message")?.textContent.trim();
    return message || `The server answered ${xhr.status} ${xhr.statusText}.`;
  }

  function errorSlot(element) {
    return element.closest(`${CARD}, #review-bulk`)?.querySelector("[data-error]");
  }

  function showError(element, message) {
    const slot = errorSlot(element);
    if (!slot) return;
    slot.textContent = message;
    slot.hidden = false;
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.matches?.(TYPING)) {
      // Escape hands the keys back to the card without reaching for the mouse.
      if (event.key === "Escape") event.target.closest(CARD)?.focus();
      return;
    }
    const action = Object.hasOwn(KEYS, event.key) && KEYS[event.key];
    if (!action || !waitingCards().length) return;
    event.preventDefault();
    action(document.activeElement?.closest(WAITING) ?? null);
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-reveal]");
    if (button) reveal(button.closest(CARD));
  });

  document.addEventListener("change", (event) => {
    if (event.target.name === "ids") showSelection();
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.target.matches(`${CARD}[data-decided]`)) afterDecision(event.target);
    else if (event.target.id === "review-queue") focusFirst();
  });

  document.addEventListener("htmx:beforeRequest", (event) => {
    const slot = errorSlot(event.detail.elt);
    if (slot) slot.hidden = true;
  });

  // htmx swaps nothing for a 4xx/5xx answer; without these a refused decision would look ignored.
  document.addEventListener("htmx:responseError", (event) => {
    showError(event.detail.elt, errorMessage(event.detail.xhr));
  });
  document.addEventListener("htmx:sendError", (event) => {
    showError(event.detail.elt, "The server could not be reached; try again.");
  });

  document.addEventListener("DOMContentLoaded", focusFirst);
})();
