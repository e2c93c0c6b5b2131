import { getJson, withQuery } from "./api.js";
import { config } from "./config.js";
import { el } from "./icons.js";
import { toast } from "./toasts.js";

// The library picker: a filterable, scrollable grid that loads pages as it scrolls.
export class Picker {
  constructor(box, filter, onPick) {
    this.box = box;
    this.onPick = onPick;
    this.filter = "";
    this.started = false;
    this.selectedIds = new Set(); // the library images in the query
    this.sentinel = el("div", { class: "picker__sentinel", "aria-hidden": "true" });
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.more();
    }, { root: box, rootMargin: "200px" });
    let timer = 0;
    filter.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => { this.filter = filter.value.trim(); this.reset(); }, 250);
    });
    box.addEventListener("click", (event) => {
      const option = event.target.closest("[data-id]");
      if (option) this.onPick(option.image);
    });
  }

  start() {
    if (!this.started) { this.started = true; this.reset(); }
  }

  reset() {
    this.epoch = (this.epoch || 0) + 1;
    this.page = 1; // the next page to fetch, or 0 when there is none
    this.loading = false;
    this.box.replaceChildren(this.sentinel);
    this.observer.observe(this.sentinel);
    this.more();
  }

  async more() {
    if (this.loading || !this.page) return;
    this.loading = true;
    const epoch = this.epoch;
    try {
      // Pages are counted here rather than following DRF's absolute "next" URL:
      // behind a TLS proxy that URL can say http:// and be blocked as mixed content.
      const body = await getJson(withQuery(config.imagesUrl, { q: this.filter, page: this.page }));
      if (epoch !== this.epoch) return;
      this.page = body.next ? this.page + 1 : 0;
      const options = body.results.map((image) => this.option(image));
      this.sentinel.before(...options);
      if (!body.count) {
        this.sentinel.before(el("p", { class: "picker__empty", text: this.filter ? "No image matches." : "The library is empty." }));
      }
    } catch (error) {
      toast(`Could not load the library: ${error.message}`, "error");
    } finally {
      if (epoch === this.epoch) this.loading = false;
    }
    // Keep filling while the sentinel is still visible (a tall box, a short page).
    if (epoch === this.epoch && this.page) {
      const box = this.box.getBoundingClientRect();
      if (this.sentinel.getBoundingClientRect().top < box.bottom + 200) this.more();
    }
  }

  option(image) {
    const selected = this.selectedIds.has(image.id);
    const button = el("button", {
      type: "button", class: `picker__item${selected ? " picker__item--selected" : ""}`,
      "aria-pressed": String(selected), title: image.name, dataset: { id: image.id, name: image.name },
    }, el("img", { src: image.thumbnail_url, alt: image.name, loading: "lazy", width: 96, height: 96 }));
    button.image = image;
    return button;
  }

  // Marks the images of the query (a list of ids) as chosen.
  mark(ids) {
    this.selectedIds = new Set(ids);
    for (const option of this.box.querySelectorAll("[data-id]")) {
      const on = this.selectedIds.has(Number(option.dataset.id));
      option.classList.toggle("picker__item--selected", on);
      option.setAttribute("aria-pressed", String(on));
    }
  }
}
