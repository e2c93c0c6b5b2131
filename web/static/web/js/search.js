// The Search tab: query images from uploads (never stored) and/or the library, a box drawn
// on a single query image to search by that part of it, and the most similar images.
import { ApiError, request } from "./api.js";
import { config } from "./config.js";
import { el, icon } from "./icons.js";
import { openViewer } from "./modal.js";
import { Picker } from "./picker.js";
import { RegionTool, regionFields } from "./region.js";
import { toast } from "./toasts.js";
import { dropZone } from "./uploads.js";

const TOP_K = 6;
const MAX_QUERIES = 10; // the API's limit on query images

export class Search {
  constructor(root, { onGotoGallery }) {
    this.root = root;
    this.q = (name) => root.querySelector(`[data-${name}]`);
    this.mode = "upload";
    // The query images, each {file, src} (an upload) or {image, src} (a library image), with a name.
    this.queries = [];
    this.region = null; // fractions of the single query image, or null for all of it
    this.regionTool = null;
    this.searched = false; // results are shown for the current query: a new box searches again
    this.results = [];
    this.picker = new Picker(this.q("picker"), this.q("picker-filter"), (image) => this.pick(image));

    for (const radio of root.querySelectorAll("[data-search-mode]")) {
      radio.addEventListener("change", () => radio.checked && this.setMode(radio.value));
    }
    dropZone(root.querySelector("[data-dropzone=search]"), (files) => this.choose(files));
    this.q("search-run").addEventListener("click", () => this.run());
    this.q("region-clear").addEventListener("click", () => this.regionTool?.clear());
    this.q("search-combine").addEventListener("change", () => this.showQuery());
    // Which part of the library to search: a new choice searches again at once.
    this.q("search-kind").addEventListener("change", () => {
      if (this.searched || this.q("search-run").classList.contains("btn--busy")) this.run();
    });
    RegionTool.follow(this.q("query-preview"), () => this.regionTool);
    this.q("query-preview").addEventListener("click", (event) => {
      const remove = event.target.closest("[data-remove-query]");
      if (remove) this.removeQuery(Number(remove.dataset.removeQuery));
    });
    this.q("goto-gallery").addEventListener("click", onGotoGallery);
    this.q("results-list").addEventListener("click", (event) => this.onResultClick(event));
  }

  get combining() {
    return this.q("search-combine").checked;
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

  // Uploads: several at once make a combined query; one replaces the query unless combining.
  // A file the browser cannot show as a picture never reaches the preview.
  async choose(files) {
    const pictures = [];
    const refused = [];
    for (const file of files) (await isPicture(file) ? pictures : refused).push(file);
    if (refused.length) {
      const names = refused.map((file) => `“${file.name}”`).join(", ");
      toast(`${names} ${refused.length === 1 ? "is not an image" : "are not images"}: ` +
        "choose a JPEG, PNG, GIF, BMP or WebP picture to search with.", "error");
    }
    if (!pictures.length) return;
    const added = pictures.map((file) => ({ file, name: file.name, src: URL.createObjectURL(file) }));
    this.setQueries(this.combining || added.length > 1 ? [...this.queries, ...added] : added);
  }

  pick(image) {
    // The thumbnail is upright with the picture's proportions: a box drawn on it gives the
    // same fractions as on the full picture, which the server cuts.
    const src = image.thumbnail_url;
    if (!this.combining) {
      this.setQueries([{ image, name: image.name, src }]);
      return;
    }
    const index = this.queries.findIndex((query) => query.image?.id === image.id);
    if (index >= 0) this.removeQuery(index); // picking a chosen image again takes it out
    else this.setQueries([...this.queries, { image, name: image.name, src }]);
  }

  removeQuery(index) {
    this.setQueries(this.queries.filter((_, i) => i !== index));
  }

  setQueries(queries) {
    const limit = this.q("query-limit");
    limit.hidden = queries.length <= MAX_QUERIES;
    if (queries.length > MAX_QUERIES) {
      const left = queries.length - MAX_QUERIES;
      limit.textContent = `A search takes at most ${MAX_QUERIES} images: ${left} ${left === 1 ? "was" : "were"} not added.`;
      for (const query of queries.slice(MAX_QUERIES)) if (query.file) URL.revokeObjectURL(query.src);
      queries = queries.slice(0, MAX_QUERIES);
    }
    for (const query of this.queries) {
      if (query.file && !queries.includes(query)) URL.revokeObjectURL(query.src);
    }
    this.queries = queries;
    if (queries.length > 1) this.q("search-combine").checked = true;
    this.region = null;
    this.searched = false;
    this.picker.mark(queries.filter((query) => query.image).map((query) => query.image.id));
    this.showQuery();
  }

  showQuery() {
    const preview = this.q("query-preview");
    const name = this.q("query-name");
    const queries = this.queries;
    const single = queries.length === 1;
    this.regionTool = null;
    preview.classList.toggle("query__preview--image", single);
    preview.classList.toggle("query__preview--several", queries.length > 1);
    if (single) {
      preview.replaceChildren(this.regionFrame(queries[0]));
      name.textContent = queries[0].name;
    } else if (queries.length) {
      preview.replaceChildren(el("ul", { class: "query-chips", "aria-label": "Query images" },
        ...queries.map((query, index) => queryChip(query, index))));
      name.textContent = `${queries.length} images, combined`;
    } else {
      preview.replaceChildren(icon("image", "query__placeholder"));
      name.textContent = this.mode === "upload" ? "No query image yet" : "Pick an image from the library";
    }
    this.q("region-controls").hidden = !queries.length;
    this.q("region-hint").textContent = single
      ? "Drag on the image to search a part of it."
      : "A region needs a single query image: remove the others to draw one.";
    this.q("region-clear").disabled = !single || !this.region;
    this.q("search-run").disabled = !queries.length;
  }

  // The single query image, on which a box can be drawn.
  regionFrame(query) {
    const img = el("img", { src: query.src, alt: `Query: ${query.name}`, draggable: "false" });
    const frame = el("div", { class: "region", "data-region": "" }, img);
    // A file that is not an image shows its name; the server says why it cannot be searched.
    img.addEventListener("error", () => frame.replaceWith(icon("image", "query__placeholder")), { once: true });
    this.regionTool = new RegionTool(frame, img, (region, { final }) => this.onRegion(region, final));
    this.regionTool.show(this.region);
    return frame;
  }

  onRegion(region, final) {
    this.region = region;
    this.q("region-clear").disabled = !region;
    clearTimeout(this.regionTimer);
    if (!this.searched) return;
    // A drawn box searches at once; arrow-key nudges wait until the keys rest.
    if (final) this.run();
    else this.regionTimer = setTimeout(() => this.run(), 600);
  }

  // From a result or the viewer: search again with a library image.
  searchWith(image) {
    this.setMode("library");
    this.q("search-combine").checked = false;
    this.pick(image);
    this.run();
  }

  async run() {
    const queries = this.queries;
    if (!queries.length) return;
    const form = new FormData();
    if (queries.length === 1) {
      const [query] = queries;
      if (query.file) form.append("file", query.file, query.file.name);
      else form.append("image_id", query.image.id);
      if (this.region) {
        for (const [field, value] of Object.entries(regionFields(this.region))) form.append(field, value);
      }
    } else {
      for (const query of queries) {
        if (query.file) form.append("files", query.file, query.file.name);
        else form.append("image_ids", query.image.id);
      }
    }
    const queryName = queries.map((query) => query.name).join(", ");
    const kind = this.q("search-kind").value;
    form.append("k", TOP_K);
    form.append("kind", kind);
    const button = this.q("search-run");
    button.disabled = true;
    button.classList.add("btn--busy");
    this.q("results").hidden = false;
    this.q("results").setAttribute("aria-busy", "true");
    try {
      const { body } = await request("POST", config.searchUrl, { form });
      // The query (or the part of the library) changed while this one ran.
      if (queries !== this.queries || kind !== this.q("search-kind").value) return;
      this.searched = true;
      this.showResults(body, queryName, kind);
    } catch (error) {
      if (queries === this.queries && kind === this.q("search-kind").value) this.showError(error);
    } finally {
      button.disabled = !this.queries.length;
      button.classList.remove("btn--busy");
      this.q("results").setAttribute("aria-busy", "false");
    }
  }

  showResults(body, queryName, kind) {
    this.results = body.results;
    this.q("search-alert").hidden = true;
    const among = { upload: " among the uploads", original: " among the originals" }[kind] ?? "";
    this.q("results-title").textContent = body.results.length
      ? `Most similar to ${body.query?.region ? "a region of " : ""}“${body.query?.name || queryName}”${among}`
      : `No similar images found for “${queryName}”${among}`;
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

function queryChip(query, index) {
  return el("li", { class: "query-chip", dataset: { name: query.name } },
    el("img", { src: query.src, alt: query.name, width: 64, height: 64 }),
    el("button", { type: "button", class: "query-chip__remove", "data-remove-query": index,
      "aria-label": `Remove ${query.name} from the query`, title: `Remove ${query.name}` }, icon("close")));
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

// Whether the browser decodes the file as a picture (a text file named .jpg does not).
async function isPicture(file) {
  try {
    (await createImageBitmap(file)).close();
    return true;
  } catch {
    return false;
  }
}
