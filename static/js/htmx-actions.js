// What some htmx elements do around their requests (and what only a page without scripts shows),
// declared in data- attributes, because the Content-Security-Policy allows no inline script and no
// eval, so no hx-on handler:
//   data-swap-errors-only          swap in only a 4xx/5xx answer (a success shows another way)
//   data-swap-errors               on a request's target: swap a 4xx answer into it too (the server
//                                  answers the target again, saying what was wrong)
//   data-success-location="URL"    after a successful request, go to URL
//   data-success-refresh="URL"     after a successful request, load URL in place of the element
//   data-success-refresh-target="SELECTOR"   that data-success-refresh names (outerHTML)
//   data-omit-blank                leave the fields left blank out of the request (and so of the
//                                  address a GET pushes: `?verdict=flagged`, not `?verdict=flagged&filename=`)
//   data-without-script            not shown once scripts run (photogate.css): a submit button whose work
//                                  every change already does, which would suggest it must be pressed
(() => {
  "use strict";

  // As an hx-on handler would: the element's own requests and those of elements inside it.
  function declaring(event, attribute) {
    return event.target.closest?.(`[${attribute}]`);
  }

  // A class, not each element's `hidden`: content swapped in later is covered before it is painted.
  document.documentElement.classList.add("scripted");

  document.addEventListener("htmx:beforeSwap", (event) => {
    if (declaring(event, "data-swap-errors-only")) event.detail.shouldSwap = event.detail.isError;
    if (declaring(event, "data-swap-errors") && event.detail.xhr.status < 500) event.detail.shouldSwap = true;
  });

  document.addEventListener("htmx:configRequest", (event) => {
    if (!declaring(event, "data-omit-blank")) return;
    const fields = event.detail.formData;
    for (const [name, value] of Array.from(fields.entries())) {
      if (value === "") fields.delete(name);
    }
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    if (!event.detail.successful) return;
    const leave = declaring(event, "data-success-location");
    if (leave) window.location.assign(leave.dataset.successLocation);
    const refresh = declaring(event, "data-success-refresh");
    if (refresh) {
      htmx.ajax("GET", refresh.dataset.successRefresh, {
        target: refresh.dataset.successRefreshTarget,
        swap: "outerHTML",
      });
    }
  });
})();
