// Labels: the Gallery tab's "Find by label" box (the grid filtered with ?label=, WordNet
// synonyms included on the server) and each image's top labels in the viewer, where a
// label is a button that finds the other images with it.
import { el } from "./icons.js";

const DEBOUNCE_MS = 250;

// The labels of one image as buttons with their probability; hidden when it has none.
export function renderLabels(list, labels) {
  const items = (labels || []).map((label) => el("li", {},
    el("button", {
      type: "button", class: "label-chip", "data-label": label.name,
      title: `Find images labelled “${label.name}”`,
    }, label.name, el("span", { class: "label-chip__score", text: percent(label.score) }))));
  list.replaceChildren(...items);
  list.hidden = items.length === 0;
}

function percent(score) {
  const value = score * 100;
  return value >= 1 ? `${Math.round(value)}%` : "<1%";
}

// Wires the box to the gallery; a label picked in the viewer fills the box and filters.
export function initLabelSearch(root, gallery, { viewer, onPick } = {}) {
  const box = root.querySelector("[data-label-search]");
  if (!box) return;
  let timer = 0;
  const apply = () => gallery.setFilters({ label: box.value.trim() });
  box.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(apply, DEBOUNCE_MS);
  });
  box.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    clearTimeout(timer);
    apply();
  });
  viewer?.addEventListener("click", (event) => {
    const chip = event.target.closest("[data-label]");
    if (!chip) return;
    viewer.close();
    box.value = chip.dataset.label;
    clearTimeout(timer);
    apply();
    onPick?.();
  });
}
