// One way to hand files to a page: its file picker, or a drop anywhere on its drop zone.
// `photogateDropzone(zone, input, add)` calls `add(files)` with an array of File either way.
window.photogateDropzone = (zone, input, add) => {
  "use strict";

  input.addEventListener("change", () => {
    add([...input.files]);
    input.value = ""; // choosing the same files again must fire "change" again
  });
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => {
      event.preventDefault(); // without it the browser opens the dropped file instead
      zone.classList.add("dragging");
    });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    add([...event.dataTransfer.files]);
  });
};
