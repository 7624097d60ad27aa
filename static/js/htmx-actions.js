// What some htmx elements do around their requests, declared in data- attributes, because the
// Content-Security-Policy allows no inline script and no eval, so no hx-on handler:
//   data-swap-errors-only          swap in only a 4xx/5xx answer (a success shows another way)
//   data-success-location="URL"    after a successful request, go to URL
//   data-success-refresh="URL"     after a successful request, load URL in place of the element
//   data-success-refresh-target="SELECTOR"   that data-success-refresh names (outerHTML)
(() => {
  "use strict";

  // As an hx-on handler would: the element's own requests and those of elements inside it.
  function declaring(event, attribute) {
    return event.target.closest?.(`[${attribute}]`);
  }

  document.addEventListener("htmx:beforeSwap", (event) => {
    if (declaring(event, "data-swap-errors-only")) event.detail.shouldSwap = event.detail.isError;
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
