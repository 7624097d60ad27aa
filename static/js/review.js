// The review queue from the keyboard. Cards are focusable, and the focused card is the one keys
// act on, so the browser's own focus (and a screen reader following it) is the only cursor.
// htmx sends the decisions; this file moves focus and shows refused requests; covers.js reveals thumbnails.
// The cards are the moderator's claims: this file also keeps them renewed while the moderator works.
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
    v: (card) => card?.querySelector("[data-reveal]")?.click(),
    x: (card) => toggleSelection(card),
    u: (card) => card?.querySelector("[data-release]")?.click(),
    e: (card) => card?.querySelector("[data-escalate]")?.click(),
  };
  // Claims lapse unless renewed; loading the queue renewed them, activity renews them at most this often.
  const RENEW_EVERY_MS = 60_000;
  let renewedAt = Date.now();

  function waitingCards() {
    return [...document.querySelectorAll(WAITING)];
  }

  function move(card, step) {
    const cards = waitingCards();
    const index = cards.indexOf(card);
    const target = index < 0 ? cards[0] : cards[Math.min(Math.max(index + step, 0), cards.length - 1)];
    target?.focus();
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

  function addTo(selector, step) {
    const counter = document.querySelector(selector);
    if (counter) counter.textContent = Math.max(0, Number(counter.textContent) + step);
  }

  function nextWaiting(card) {
    const cards = [...document.querySelectorAll(CARD)];
    return cards.slice(cards.indexOf(card) + 1).find((other) => other.matches(WAITING));
  }

  // Focus was on the card that was replaced or removed; if it moved elsewhere (a note being typed), leave it.
  function focusAfter(next) {
    if (document.activeElement && document.activeElement !== document.body) return;
    if (next) next.focus();
    else focusFirst();
  }

  function afterDecision(decided) {
    addTo("[data-mine]", -1);
    showSelection();
    focusAfter(nextWaiting(decided));
  }

  // A released card is back in the queue for others, an escalated one in the admins': neither is yours.
  function removeCard(card, released) {
    const next = nextWaiting(card);
    card.remove();
    addTo("[data-mine]", -1);
    if (released) addTo("[data-waiting]", 1);
    showSelection();
    focusAfter(next);
  }

  function renewClaims() {
    const url = document.querySelector("[data-renew]")?.dataset.renew;
    if (!url || Date.now() - renewedAt < RENEW_EVERY_MS) return;
    renewedAt = Date.now();
    const token = document.querySelector('meta[name="csrf-token"]').content;
    // A lost heartbeat is not worth a message: the next activity, a minute on, sends another.
    fetch(url, { method: "POST", headers: { "X-CSRFToken": token } }).catch(() => {});
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

  document.addEventListener("keydown", renewClaims);
  document.addEventListener("click", renewClaims);

  document.addEventListener("change", (event) => {
    if (event.target.name === "ids") showSelection();
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    const button = event.detail.elt.closest?.("[data-release], [data-escalate]");
    if (button && event.detail.successful) removeCard(button.closest(CARD), button.matches("[data-release]"));
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
