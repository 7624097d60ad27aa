// A page that answers a form's POST (a new API token shown once, a form's error) names the address
// it stands for in data-replace-url: putting it in place of the POST in the history makes a reload
// load that page instead of posting the form again, which would make a second token.
(() => {
  "use strict";
  const answered = document.querySelector("[data-replace-url]");
  if (answered) window.history.replaceState(null, "", answered.dataset.replaceUrl);
})();
