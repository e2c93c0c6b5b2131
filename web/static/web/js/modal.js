// The full-size viewer: a modal <dialog>. Esc closes (the dialog's own behaviour),
// the arrow keys and the side buttons move through the list it was opened from.
//
// open({count, get, index, onSearch}): get(i) returns (or resolves to) an image
// {id, name, url, width, height, is_original, uploaded_by, labels}; onSearch(image), when
// given, adds a "Search with this image" button. The image's labels show below it.

import { renderLabels } from "./labels.js";

let dialog, image, title, counter, meta, labels, prev, next, searchButton;
let source = null;
let index = 0;
let token = 0;

function init() {
  if (dialog) return;
  dialog = document.getElementById("viewer");
  image = dialog.querySelector("[data-viewer-image]");
  title = dialog.querySelector("#viewer-title");
  counter = dialog.querySelector("[data-viewer-counter]");
  meta = dialog.querySelector("[data-viewer-meta]");
  labels = dialog.querySelector("[data-viewer-labels]");
  prev = dialog.querySelector("[data-viewer-prev]");
  next = dialog.querySelector("[data-viewer-next]");
  searchButton = dialog.querySelector("[data-viewer-search]");

  prev.addEventListener("click", () => move(-1));
  next.addEventListener("click", () => move(1));
  dialog.querySelector("[data-viewer-close]").addEventListener("click", () => dialog.close());
  searchButton.addEventListener("click", () => {
    const current = searchButton.image;
    dialog.close();
    if (current && source?.onSearch) source.onSearch(current);
  });
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "ArrowLeft") move(-1);
    else if (event.key === "ArrowRight") move(1);
    else return;
    event.preventDefault();
  });
  // A click on the backdrop (the dialog box itself, outside its content) closes it.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog || event.target.classList.contains("viewer__stage")) dialog.close();
  });
  dialog.addEventListener("close", () => {
    image.removeAttribute("src");
    source?.returnFocus?.focus?.();
    source = null;
  });
}

export function openViewer(options) {
  init();
  source = { ...options, returnFocus: document.activeElement };
  index = options.index || 0;
  if (!dialog.open) dialog.showModal();
  show();
}

function move(step) {
  if (!source) return;
  const target = index + step;
  if (target < 0 || target >= source.count()) return;
  index = target;
  show();
}

async function show() {
  const mine = ++token;
  const total = source.count();
  prev.disabled = index <= 0;
  next.disabled = index >= total - 1;
  counter.textContent = total > 1 ? `${(index + 1).toLocaleString()} / ${total.toLocaleString()}` : "";
  const item = await source.get(index);
  if (mine !== token || !item) return;
  title.textContent = item.name;
  image.alt = item.name;
  image.src = item.url;
  const details = [];
  if (item.width && item.height) details.push(`${item.width} × ${item.height}`);
  if (item.format) details.push(item.format);
  if (item.similarity !== undefined) details.push(`similarity ${item.similarity.toFixed(3)}`);
  if (item.is_original) details.push("Original");
  else if (item.uploaded_by) details.push(`Uploaded by ${item.uploaded_by}`);
  meta.textContent = details.join(" · ");
  renderLabels(labels, item.labels);
  searchButton.hidden = !source.onSearch || item.id === undefined;
  searchButton.image = item;
}
