// The Search tab: a query image from an upload (never stored) or from the library,
// and the most similar images with their scores.
import { ApiError, request } from "./api.js";
import { config } from "./config.js";
import { el, icon } from "./icons.js";
import { openViewer } from "./modal.js";
import { Picker } from "./picker.js";
import { toast } from "./toasts.js";
import { dropZone } from "./uploads.js";

const TOP_K = 6;

export class Search {
  constructor(root, { onGotoGallery }) {
    this.root = root;
    this.q = (name) => root.querySelector(`[data-${name}]`);
    this.mode = "upload";
    this.file = null;
    this.picked = null; // a library image {id, name, thumbnail_url, url}
    this.previewUrl = null;
    this.results = [];
    this.picker = new Picker(this.q("picker"), this.q("picker-filter"), (image) => this.pick(image));

    for (const radio of root.querySelectorAll("[data-search-mode]")) {
      radio.addEventListener("change", () => radio.checked && this.setMode(radio.value));
    }
    dropZone(root.querySelector("[data-dropzone=search]"), (files) => this.choose(files[0]));
    this.q("search-run").addEventListener("click", () => this.run());
    this.q("goto-gallery").addEventListener("click", onGotoGallery);
    this.q("results-list").addEventListener("click", (event) => this.onResultClick(event));
  }

  setMode(mode) {
    this.mode = mode;
    for (const radio of this.root.querySelectorAll("[data-search-mode]")) radio.checked = radio.value === mode;
    for (const source of this.root.querySelectorAll("[data-search-source]")) {
      source.hidden = source.dataset.searchSource !== mode;
    }
    if (mode === "library") this.picker.start();
    this.showQuery();
  }

  choose(file) {
    this.file = file;
    if (this.previewUrl) URL.revokeObjectURL(this.previewUrl);
    this.previewUrl = URL.createObjectURL(file);
    this.showQuery();
  }

  pick(image) {
    this.picked = image;
    this.picker.mark(image.id);
    this.showQuery();
  }

  showQuery() {
    const preview = this.q("query-preview");
    const name = this.q("query-name");
    const query = this.mode === "upload"
      ? this.file && { name: this.file.name, src: this.previewUrl }
      : this.picked && { name: this.picked.name, src: this.picked.thumbnail_url };
    if (query) {
      // A file that is not an image shows its name; the server says why it cannot be searched.
      const img = el("img", { src: query.src, alt: `Query: ${query.name}` });
      img.addEventListener("error", () => img.replaceWith(icon("image", "query__placeholder")), { once: true });
      preview.replaceChildren(img);
      name.textContent = query.name;
    } else {
      preview.replaceChildren(icon("image", "query__placeholder"));
      name.textContent = this.mode === "upload" ? "No query image yet" : "Pick an image from the library";
    }
    this.q("search-run").disabled = !query;
  }

  // From a result or the viewer: search again with a library image.
  searchWith(image) {
    this.setMode("library");
    this.pick(image);
    this.run();
  }

  async run() {
    const form = new FormData();
    let queryName;
    if (this.mode === "upload") {
      if (!this.file) return;
      form.append("file", this.file, this.file.name);
      queryName = this.file.name;
    } else {
      if (!this.picked) return;
      form.append("image_id", this.picked.id);
      queryName = this.picked.name;
    }
    form.append("k", TOP_K);
    const button = this.q("search-run");
    button.disabled = true;
    button.classList.add("btn--busy");
    this.q("results").hidden = false;
    this.q("results").setAttribute("aria-busy", "true");
    try {
      const { body } = await request("POST", config.searchUrl, { form });
      this.showResults(body, queryName);
    } catch (error) {
      this.showError(error);
    } finally {
      button.disabled = false;
      button.classList.remove("btn--busy");
      this.q("results").setAttribute("aria-busy", "false");
    }
  }

  showResults(body, queryName) {
    this.results = body.results;
    this.q("search-alert").hidden = true;
    this.q("results-title").textContent = body.results.length
      ? `Most similar to “${body.query?.name || queryName}”`
      : `No similar images found for “${queryName}”`;
    this.q("results-list").replaceChildren(...body.results.map((result, index) => resultCard(result, index)));
    this.q("results").scrollIntoView({ behavior: "smooth", block: "start" });
  }

  showError(error) {
    const missingFeatures = error instanceof ApiError && error.code === "no_features";
    this.results = [];
    this.q("results-list").replaceChildren();
    this.q("results-title").textContent = "No results";
    this.q("search-alert-text").textContent = error.message;
    this.q("goto-gallery").hidden = !missingFeatures;
    this.q("search-alert").hidden = false;
    toast(`Search failed: ${error.message}`, "error");
  }

  onResultClick(event) {
    const button = event.target.closest("[data-action]");
    if (!button) return;
    const index = Number(button.closest("[data-index]").dataset.index);
    const result = this.results[index];
    if (button.dataset.action === "search-with") {
      this.searchWith(result);
    } else {
      openViewer({
        index,
        count: () => this.results.length,
        get: (i) => this.results[i],
        onSearch: (image) => this.searchWith(image),
      });
    }
  }
}

// Its width is set through the CSSOM: the Content-Security-Policy refuses style attributes.
function scoreFill(percent) {
  const fill = el("div", { class: "score__fill" });
  fill.style.width = `${percent.toFixed(1)}%`;
  return fill;
}

function resultCard(result, index) {
  const percent = Math.max(0, Math.min(100, result.similarity * 100));
  return el("li", { class: "result card", dataset: { index, id: result.id, name: result.name } },
    el("button", { type: "button", class: "result__open", "data-action": "open", "aria-label": `View ${result.name} full size` },
      el("img", { src: result.thumbnail_url, alt: result.name, loading: "lazy", width: 200, height: 200 }),
      el("span", { class: "result__rank", text: `#${index + 1}` }),
      result.is_original ? el("span", { class: "badge badge--original" }, icon("lock"), "Original") : null),
    el("div", { class: "result__body" },
      el("p", { class: "result__name", text: result.name, title: result.name }),
      el("div", { class: "score" },
        el("div", { class: "score__track", "aria-hidden": "true" },
          scoreFill(percent)),
        el("span", { class: "score__value", "data-similarity": result.similarity, text: result.similarity.toFixed(3) }),
      ),
      el("button", { type: "button", class: "btn btn--ghost btn--small btn--block", "data-action": "search-with" },
        icon("image_search"), "Search with this image")));
}
