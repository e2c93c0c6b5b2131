// The Duplicates tab: groups of near-duplicate images, a page at a time, at the threshold of
// the slider. Users who may delete choose per image what to keep and delete the rest; editors
// and admins may also say a group is not duplicates. Viewers only see the groups.
import { ApiError, getJson, request, withQuery } from "./api.js";
import { config } from "./config.js";
import { confirmAction } from "./confirm.js";
import { el, icon } from "./icons.js";
import { toast } from "./toasts.js";
import { deletedToast, trashNote } from "./trash.js";

const PAGE_SIZE = 20;
const TIERS = { identical: "Identical pixels", "near-duplicate": "Near-duplicate" };

const percent = (value) => `${Math.round(value * 100)}%`;

// What found a pair, in words: the vectors' similarity, the thumbnails' match, the hashes.
const SIGNALS = {
  similarity: (pair) => `similarity ${percent(pair.similarity)}`,
  match: (pair) => `thumbnail match ${percent(pair.match)}`,
  hash: (pair) => `hash ${pair.hash_distance} ${pair.hash_distance === 1 ? "bit" : "bits"} apart`,
};
const SIGNAL_NAMES = { similarity: "Similar vectors", match: "Thumbnail match", hash: "Perceptual hash" };

function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

// Why an image stays whatever the user picks (null: the user may delete it).
function lockReason(image) {
  if (image.is_original) return "Original: never deleted";
  if (!image.can_delete) return "Kept: only its uploader or an administrator can delete it";
  return null;
}

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

export class Duplicates {
  constructor(root, { onDeleted } = {}) {
    this.root = root;
    this.list = root.querySelector("[data-dup-groups]");
    this.empty = root.querySelector("[data-dup-empty]");
    this.countLabel = root.querySelector("[data-dup-count]");
    this.alert = root.querySelector("[data-dup-alert]");
    this.alertText = root.querySelector("[data-dup-alert-text]");
    this.slider = root.querySelector("[data-dup-threshold]");
    this.sliderValue = root.querySelector("[data-dup-threshold-value]");
    this.pager = root.querySelector("[data-dup-pager]");
    this.pageLabel = root.querySelector("[data-dup-page]");
    this.prev = root.querySelector("[data-dup-prev]");
    this.next = root.querySelector("[data-dup-next]");
    this.resolveAllButton = root.querySelector("[data-dup-resolve-all]");
    this.onDeleted = onDeleted;
    this.threshold = null; // the server's default until the slider moves
    this.page = 1;
    this.count = 0;
    this.epoch = 0;
    this.mayAct = config.canDelete;

    let timer = 0;
    this.slider.addEventListener("input", () => {
      this.sliderValue.textContent = percent(Number(this.slider.value));
      clearTimeout(timer);
      timer = setTimeout(() => {
        this.threshold = Number(this.slider.value);
        this.load({ page: 1 });
      }, 300);
    });
    // A new page starts at its first group, not where the pager left the old one.
    const turn = (step) => this.load({ page: this.page + step }).then(() => this.root.scrollIntoView());
    this.prev.addEventListener("click", () => turn(-1));
    this.next.addEventListener("click", () => turn(1));
    this.resolveAllButton?.addEventListener("click", () => this.resolveAll());
  }

  get pages() { return Math.max(1, Math.ceil(this.count / PAGE_SIZE)); }

  async load({ page = this.page } = {}) {
    const epoch = ++this.epoch;
    this.list.setAttribute("aria-busy", "true");
    let body;
    try {
      body = await getJson(withQuery(config.duplicatesUrl,
        { threshold: this.threshold, page, page_size: PAGE_SIZE }));
    } catch (error) {
      if (epoch !== this.epoch) return;
      // A page past the end (groups were resolved meanwhile): show the last one there is.
      if (error instanceof ApiError && error.status === 404 && page > 1) {
        this.load({ page: Math.max(1, page - 1) });
        return;
      }
      this.list.setAttribute("aria-busy", "false");
      this.showAlert(`Could not load the duplicates: ${error.message}`);
      return;
    }
    if (epoch !== this.epoch) return;
    this.showAlert(null);
    this.page = page;
    this.count = body.count;
    this.threshold = body.threshold;
    this.slider.min = String(body.min_threshold);
    this.slider.max = "1";
    if (document.activeElement !== this.slider) this.slider.value = String(body.threshold);
    this.sliderValue.textContent = percent(body.threshold);
    this.list.replaceChildren(...body.results.map((group) => this.groupCard(group)));
    this.list.setAttribute("aria-busy", "false");
    this.renderCounts();
  }

  renderCounts() {
    this.empty.hidden = this.count > 0;
    this.countLabel.textContent = this.count
      ? `${plural(this.count, "group")} at ${percent(this.threshold)} similarity or more` : "";
    this.pager.hidden = this.count <= PAGE_SIZE;
    this.pageLabel.textContent = `Page ${this.page} of ${this.pages}`;
    this.prev.disabled = this.page <= 1;
    this.next.disabled = this.page >= this.pages;
    if (this.resolveAllButton) this.resolveAllButton.disabled = this.count === 0;
  }

  showAlert(message) {
    this.alert.hidden = !message;
    this.alertText.textContent = message || "";
  }

  groupCard(group) {
    const title = `${TIERS[group.tier] || group.tier}, ${percent(group.similarity)} similar`;
    const card = el("li", { class: "card dup-group", dataset: { groupId: group.id }, "aria-label": title },
      el("div", { class: "dup-group__head" },
        el("span", { class: `dup-tier dup-tier--${group.tier}`, text: TIERS[group.tier] || group.tier }),
        el("span", { class: "dup-group__similarity", text: `${percent(group.similarity)} similar` }),
        el("span", { class: "dup-group__size", text: plural(group.size, "image") })));
    const images = el("ul", { class: "dup-images" });
    group.images.forEach((image, index) => images.append(this.imageItem(group, image, index)));
    card.append(images, this.signals(group));
    if (this.mayAct) card.append(this.groupActions(group, card));
    return card;
  }

  // Why the images are listed together: each pair that joins them and what found it.
  signals(group) {
    const names = new Map(group.images.map((image) => [image.id, image.name]));
    const pairs = (group.pairs || []).map((pair) => {
      const found = pair.found_by.map((signal) => SIGNALS[signal](pair));
      // Signals that did not decide are still worth seeing (a similarity far below).
      if (!pair.found_by.includes("similarity") && pair.similarity !== null) {
        found.push(`similarity ${percent(pair.similarity)}`);
      }
      const [first, second] = pair.images.map((id) => names.get(id) || `#${id}`);
      return el("li", { class: "dup-pair", dataset: { images: pair.images.join(",") } },
        el("span", { class: "dup-pair__names", text: `${first} and ${second}` }),
        el("span", { class: "dup-pair__found", text: found.join(" · ") }));
    });
    return el("details", { class: "dup-signals" },
      el("summary", { class: "dup-signals__summary" },
        el("span", { text: "Found by " }),
        ...(group.found_by || []).map((signal) => el("span",
          { class: `dup-signal dup-signal--${signal}`, text: SIGNAL_NAMES[signal] || signal }))),
      el("ul", { class: "dup-pairs" }, ...pairs));
  }

  imageItem(group, image, index) {
    const item = el("li", { class: "dup-image", dataset: { id: image.id, name: image.name } },
      el("div", { class: "dup-image__frame" },
        el("img", { class: "dup-image__img", src: image.thumbnail_url, alt: image.name,
          loading: "lazy", decoding: "async", width: 200, height: 200 }),
        image.is_original && el("span", { class: "badge badge--original" }, icon("lock"), "Original")),
      el("p", { class: "dup-image__name", text: image.name, title: image.name }),
      el("p", { class: "dup-image__meta",
        text: `${image.width} × ${image.height} · ${fileSize(image.size_bytes)}` }));
    if (index === 0) item.append(el("span", { class: "dup-image__keeper", text: "Keeper" }));
    if (!this.mayAct) return item;
    const reason = lockReason(image);
    if (reason) {
      item.dataset.choice = "keep";
      item.append(el("p", { class: "dup-image__locked" }, icon("lock"), reason));
      return item;
    }
    const name = `dup-${group.id}-${image.id}`;
    const choice = (value, label) => el("label", { class: `dup-choice dup-choice--${value}` },
      el("input", { type: "radio", name, value, checked: (value === "keep") === (index === 0),
        "aria-label": `${label} ${image.name}` }),
      el("span", { text: label }));
    item.dataset.choice = index === 0 ? "keep" : "delete";
    const choices = el("div", { class: "dup-choices", role: "radiogroup", "aria-label": `${image.name}` },
      choice("keep", "Keep"), choice("delete", "Delete"));
    choices.addEventListener("change", (event) => {
      item.dataset.choice = event.target.value;
      item.closest(".dup-group").dispatchEvent(new Event("dup-choice"));
    });
    item.append(choices);
    return item;
  }

  groupActions(group, card) {
    const hint = el("p", { class: "dup-group__hint", "aria-live": "polite" });
    const remove = el("button", { type: "button", class: "btn btn--danger btn--small", "data-dup-delete": "" },
      icon("delete"), el("span", { text: "Delete marked" }));
    const actions = el("div", { class: "dup-group__actions" }, hint, remove);
    const update = () => {
      const items = [...card.querySelectorAll(".dup-image")];
      const marked = items.filter((item) => item.dataset.choice === "delete").length;
      const kept = items.length - marked;
      remove.disabled = marked === 0 || kept === 0;
      hint.textContent = kept === 0 ? "Keep at least one image." : "";
    };
    card.addEventListener("dup-choice", update);
    update();
    remove.addEventListener("click", () => this.resolve(group, card));
    if (config.canReviewDuplicates) {
      const dismiss = el("button", { type: "button", class: "btn btn--ghost btn--small", "data-dup-dismiss": "" },
        icon("close"), el("span", { text: "Not duplicates" }));
      dismiss.addEventListener("click", () => this.dismiss(group, card));
      actions.append(dismiss);
    }
    return actions;
  }

  groupUrl(group, action) {
    return `${config.duplicatesUrl}${encodeURIComponent(group.id)}/${action}/`;
  }

  async act(card, work) {
    const buttons = [...card.querySelectorAll("button")];
    buttons.forEach((button) => { button.disabled = true; });
    try {
      await work();
    } catch (error) {
      if (error instanceof ApiError && (error.status === 409 || error.status === 404)) {
        toast("The group changed since it was listed: the list was reloaded. Check it and try again.", "warning");
        this.load();
        return;
      }
      toast(error.message, "error");
      buttons.forEach((button) => { button.disabled = false; });
      card.dispatchEvent(new Event("dup-choice"));
    }
  }

  async resolve(group, card) {
    const items = [...card.querySelectorAll(".dup-image")];
    const keep = items.filter((item) => item.dataset.choice === "keep").map((item) => Number(item.dataset.id));
    const marked = items.length - keep.length;
    const confirmed = await confirmAction({
      title: `Delete ${plural(marked, "marked image")}?`,
      message: `The images marked Delete in this group will be removed from the library. ${trashNote()}`,
      confirmLabel: `Delete ${marked}`,
    });
    if (!confirmed) return;
    return this.act(card, async () => {
      const { body } = await request("POST", this.groupUrl(group, "resolve"),
        { json: { keep, threshold: this.threshold } });
      this.report(body, new Map(group.images.map((image) => [image.id, image.name])));
      this.removeGroup(card);
      if (body.deleted.length) this.onDeleted?.();
    });
  }

  dismiss(group, card) {
    return this.act(card, async () => {
      await request("POST", this.groupUrl(group, "not-duplicates"), { json: { threshold: this.threshold } });
      toast(`Marked as not duplicates: ${group.images.map((image) => image.name).join(", ")}.`, "success");
      this.removeGroup(card);
    });
  }

  async resolveAll() {
    const groups = this.count;
    const confirmed = await confirmAction({
      title: "Resolve all duplicates?",
      message: `All ${plural(groups, "group")} at ${percent(this.threshold)} similarity or more: in each `
        + "the keeper (most pixels, then largest file, then oldest) is kept and the other images you "
        + `may delete are deleted. Originals are never deleted. ${trashNote()}`,
      confirmLabel: "Resolve all",
    });
    if (!confirmed) return;
    this.resolveAllButton.disabled = true;
    try {
      const { body } = await request("POST", `${config.duplicatesUrl}resolve-all/`,
        { json: { threshold: this.threshold } });
      this.report(body, null);
      if (body.deleted.length) this.onDeleted?.();
    } catch (error) {
      toast(`Could not resolve the duplicates: ${error.message}`, "error");
    }
    this.load({ page: 1 });
  }

  // A toast with what was moved to the trash (with "Undo"), and what was not and why.
  report(body, names) {
    const named = (ids) => (names ? ids.map((id) => names.get(id) || `#${id}`).join(", ") : null);
    const groups = names ? "" : ` ${plural(body.groups, "group")} resolved.`;
    if (body.deleted.length) {
      const which = names ? `: ${named(body.deleted)}` : "";
      deletedToast(`Moved ${plural(body.deleted.length, "image")} to the trash${which}.${groups}`, body.deleted,
        () => this.restored());
    } else {
      toast(`Nothing was deleted.${groups}`, "info");
    }
    if (body.not_deleted.length) {
      const reasons = body.not_deleted.map((refusal) => `${refusal.filename}: ${refusal.detail}`);
      toast(`Not deleted: ${reasons.join(" ")}`, "warning", { timeout: 12000 });
    }
  }

  // After "Undo": the restored images are in the library again (their groups come back
  // once their features are made again).
  restored() {
    this.onDeleted?.();
    this.load();
  }

  removeGroup(card) {
    card.remove();
    this.count = Math.max(0, this.count - 1);
    // Groups of later pages move up: fetch this page again once it has run out.
    if (!this.list.children.length) this.load();
    else this.renderCounts();
  }
}
