// The library grid. It stays fast with a million images because it is windowed:
// the grid's height is computed from the image count and a fixed cell size, only
// the rows near the viewport exist in the DOM (plus a few rows of buffer), pages of
// PAGE_SIZE images are fetched as those rows come into view, and thumbnails load
// lazily through an IntersectionObserver.
import { ApiError, getJson, withQuery } from "./api.js";
import { config } from "./config.js";
import { icon } from "./icons.js";
import { openViewer } from "./modal.js";
import { imageTile, placeholderTile } from "./tiles.js";
import { toast } from "./toasts.js";

// Sent as page_size with every request, so the server's pages are exactly this size
// whatever its default (REST_FRAMEWORK["PAGE_SIZE"]); at most its max_page_size (200).
const PAGE_SIZE = 60;
const GAP = 12;
const CAPTION = 34;
const BUFFER_ROWS = 3;
// Browsers cap an element's height (Firefox at about 17.9 million pixels, Chrome at
// 33.5), and a million images in rows of 226 pixels need 38 million. A grid taller
// than this keeps this height, and its scroll position is scaled to the rows: the
// scroll bar still spans the whole library, from the first image to the last.
const MAX_HEIGHT = 10_000_000;

export class Gallery {
  constructor(root, { onSearch } = {}) {
    this.root = root;
    this.grid = root.querySelector("[data-gallery-grid]");
    this.countLabel = root.querySelector("[data-gallery-count]");
    this.empty = root.querySelector("[data-gallery-empty]");
    this.emptyText = root.querySelector("[data-gallery-empty-text]");
    this.onSearch = onSearch;
    this.filters = { kind: "all", q: "" };
    this.items = [];
    this.count = null;
    this.pages = new Map(); // page number -> promise of its images
    this.epoch = 0;
    this.tiles = new Map(); // index -> tile element
    this.layout = null;
    this.shift = 0; // how far the rows are above where the grid's height puts them (see MAX_HEIGHT)
    this.selecting = false;
    this.selected = new Map(); // id -> image
    this.listeners = new Set();
    this.frame = 0;
    this.seen = new Set(); // thumbnails already loaded: a re-rendered tile shows them at once

    this.lazy = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        const img = entry.target;
        img.src = img.dataset.src;
        this.seen.add(img.dataset.src);
        this.lazy.unobserve(img);
      }
    }, { rootMargin: "300px 0px" });

    window.addEventListener("scroll", () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule(true)).observe(this.grid);
    this.grid.addEventListener("click", (event) => this.onClick(event));
  }

  // Listeners hear about selection changes: fn({selecting, selected}).
  subscribe(fn) { this.listeners.add(fn); }

  setFilters(filters) {
    this.filters = { ...this.filters, ...filters };
    this.reload({ keepScroll: false });
  }

  // Fetch afresh (after an upload, a delete, a filter change), keeping the scroll place.
  async reload({ keepScroll = true } = {}) {
    const epoch = ++this.epoch;
    const wanted = keepScroll ? this.visiblePages() : [1];
    this.grid.setAttribute("aria-busy", "true");
    let fetched;
    try {
      fetched = await Promise.all(wanted.map((page) => this.fetchPage(page)));
    } catch (error) {
      if (epoch === this.epoch) toast(`Could not load the library: ${error.message}`, "error");
      return;
    }
    if (epoch !== this.epoch) return;
    // Pages fetched for the old list are dropped with it; those in view are the new ones.
    this.items = [];
    this.pages = new Map(wanted.map((page, i) => [page, Promise.resolve(fetched[i])]));
    fetched.forEach((body, i) => this.place(wanted[i], body));
    this.clearTiles();
    this.grid.setAttribute("aria-busy", "false");
    this.schedule(true);
  }

  async fetchPage(page) {
    try {
      return await getJson(withQuery(config.imagesUrl, { ...this.filters, page, page_size: PAGE_SIZE }));
    } catch (error) {
      // A page past the end (the library shrank meanwhile) is simply empty.
      if (error instanceof ApiError && error.status === 404) return { count: null, results: [], pastEnd: true };
      throw error;
    }
  }

  place(page, body) {
    if (body.count !== null && body.count !== undefined) this.count = body.count;
    if (body.pastEnd) this.count = Math.min(this.count ?? 0, (page - 1) * PAGE_SIZE);
    body.results.forEach((image, i) => { this.items[(page - 1) * PAGE_SIZE + i] = image; });
  }

  loadPage(page) {
    if (!this.pages.has(page)) {
      const epoch = this.epoch;
      const promise = this.fetchPage(page).then((body) => {
        if (epoch !== this.epoch) return body;
        this.place(page, body);
        this.schedule();
        return body;
      }, (error) => {
        if (epoch === this.epoch) {
          toast(`Could not load more images: ${error.message}`, "error");
          // Try again on a later scroll, not on every frame.
          setTimeout(() => this.pages.get(page) === promise && this.pages.delete(page), 5000);
        }
        throw error;
      });
      this.pages.set(page, promise);
    }
    return this.pages.get(page);
  }

  async itemAt(index) {
    if (!this.items[index]) await this.loadPage(Math.floor(index / PAGE_SIZE) + 1).catch(() => null);
    return this.items[index];
  }

  schedule(relayout = false) {
    if (relayout) this.layout = null;
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  computeLayout() {
    const width = this.grid.clientWidth;
    if (!width) return null;
    const minCell = width < 520 ? 140 : 180;
    const cols = Math.max(1, Math.floor((width + GAP) / (minCell + GAP)));
    const cell = (width - GAP * (cols - 1)) / cols;
    return { width, cols, cell, rowHeight: cell + CAPTION + GAP };
  }

  range() {
    const layout = this.layout;
    const count = this.count ?? 0;
    const rows = Math.ceil(count / layout.cols);
    const full = Math.max(0, rows * layout.rowHeight - GAP);
    const height = Math.min(full, MAX_HEIGHT);
    const top = this.grid.getBoundingClientRect().top;
    const scrolled = Math.max(0, -top);
    const scale = full > height ? (full - window.innerHeight) / (height - window.innerHeight) : 1;
    const shift = scrolled * (scale - 1);
    const firstRow = Math.max(0, Math.floor((-top + shift) / layout.rowHeight) - BUFFER_ROWS);
    const lastRow = Math.min(rows - 1, Math.floor((window.innerHeight - top + shift) / layout.rowHeight) + BUFFER_ROWS);
    return { rows, height, shift, first: firstRow * layout.cols, last: Math.min(count - 1, (lastRow + 1) * layout.cols - 1) };
  }

  visiblePages() {
    if (!this.layout || this.count === null) return [1];
    const { first, last } = this.range();
    if (last < first) return [1];
    const pages = [];
    for (let p = Math.floor(first / PAGE_SIZE) + 1; p <= Math.floor(last / PAGE_SIZE) + 1; p++) pages.push(p);
    return pages;
  }

  render() {
    if (!this.layout) {
      this.layout = this.computeLayout();
      if (!this.layout) return; // hidden (the other tab is showing)
      for (const [index, tile] of this.tiles) this.position(tile, index);
    }
    const count = this.count ?? 0;
    const { height, shift, first, last } = this.range();
    this.grid.style.height = `${height}px`;
    if (shift !== this.shift) {
      this.shift = shift;
      for (const [index, tile] of this.tiles) this.position(tile, index);
    }
    this.updateCount();

    for (const [index, tile] of this.tiles) {
      if (index < first || index > last) this.removeTile(index, tile);
    }
    for (let index = first; index <= last && index < count; index++) {
      const image = this.items[index];
      if (!image) this.loadPage(Math.floor(index / PAGE_SIZE) + 1).catch(() => {});
      const key = image ? `${image.id}:${this.selecting}` : "loading";
      const current = this.tiles.get(index);
      if (current && current.dataset.key === key) continue;
      const tile = image ? this.tile(image, index) : placeholderTile();
      tile.dataset.key = key;
      this.position(tile, index);
      if (current) this.removeTile(index, current);
      this.tiles.set(index, tile);
      this.grid.append(tile);
    }
  }

  position(tile, index) {
    const { cols, cell, rowHeight } = this.layout;
    const x = (index % cols) * (cell + GAP);
    const y = Math.floor(index / cols) * rowHeight - this.shift;
    tile.style.transform = `translate(${x}px, ${y}px)`;
    tile.style.width = `${cell}px`;
    tile.style.height = `${cell + CAPTION}px`;
  }

  removeTile(index, tile) {
    const img = tile.querySelector("img");
    if (img) this.lazy.unobserve(img);
    tile.remove();
    if (this.tiles.get(index) === tile) this.tiles.delete(index);
  }

  clearTiles() {
    for (const [index, tile] of this.tiles) this.removeTile(index, tile);
  }

  tile(image, index) {
    const tile = imageTile(image, { index, selecting: this.selecting, selected: this.selected.has(image.id) });
    const img = tile.querySelector("img");
    if (this.seen.has(image.thumbnail_url)) img.src = image.thumbnail_url;
    else this.lazy.observe(img);
    return tile;
  }

  updateCount() {
    if (this.count === null) return;
    const filtered = this.filters.q || this.filters.label || this.filters.kind !== "all";
    const noun = this.count === 1 ? "image" : "images";
    this.countLabel.textContent = `${this.count.toLocaleString()} ${filtered ? `${noun} match` : noun}`;
    this.empty.hidden = this.count !== 0;
    this.emptyText.textContent = filtered ? "No image matches this filter."
      : config.canUpload ? "The library is empty: upload a few images to begin."
      : "The library is empty.";
  }

  onClick(event) {
    const button = event.target.closest("[data-action]");
    if (!button) return;
    const tile = button.closest(".tile");
    const index = Number(tile.dataset.index);
    const image = this.items[index];
    if (!image) return;
    if (button.dataset.action === "delete") {
      this.emit({ type: "delete", image });
    } else if (this.selecting) {
      if (image.can_delete) this.toggle(image);
    } else {
      openViewer({
        index,
        count: () => this.count ?? 0,
        get: (i) => this.itemAt(i),
        onSearch: this.onSearch,
      });
    }
  }

  setSelecting(on) {
    this.selecting = on;
    this.selected.clear();
    this.grid.classList.toggle("vgrid--selecting", on);
    this.schedule();
    this.emit({ type: "selection" });
  }

  toggle(image) {
    if (this.selected.has(image.id)) this.selected.delete(image.id);
    else this.selected.set(image.id, image);
    const selected = this.selected.has(image.id);
    for (const [index, tile] of this.tiles) {
      if (this.items[index]?.id !== image.id) continue;
      // Updated in place, so the focused button keeps its focus.
      tile.classList.toggle("tile--selected", selected);
      tile.querySelector(".tile__open").setAttribute("aria-pressed", String(selected));
      tile.querySelector(".tile__check")?.replaceChildren(icon(selected ? "check_box" : "check_box_outline_blank"));
    }
    this.emit({ type: "selection" });
  }

  emit(event) {
    for (const fn of this.listeners) fn(event, this);
  }
}
