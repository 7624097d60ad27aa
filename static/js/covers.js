// Images covered by a moderator's review settings (covers.css): a click on a cover's Reveal button
// uncovers them and a second click covers them again. With data-reveal-on="click" a click on a covered
// image reveals it too, instead of following the link around it to the file, which no cover hides.
// The review queue's key v clicks the focused card's Reveal button, so there is one way to reveal.
(() => {
  "use strict";

  function toggle(cover) {
    const revealed = cover.toggleAttribute("data-revealed");
    for (const button of cover.querySelectorAll("[data-reveal]")) {
      button.textContent = revealed ? "Hide" : "Reveal";
    }
  }

  function coveredImageClicked(cover, target) {
    return cover.dataset.revealOn === "click" && !cover.hasAttribute("data-revealed") && target.closest("img");
  }

  document.addEventListener("click", (event) => {
    const cover = event.target.closest?.("[data-blur]");
    if (!cover) return;
    if (!event.target.closest("[data-reveal]") && !coveredImageClicked(cover, event.target)) return;
    event.preventDefault();
    toggle(cover);
  });
})();
