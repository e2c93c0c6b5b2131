// Wires the page together: tabs, the gallery, uploads, deletes, features, search and the
// account menu. Uploads, deletes and API keys are wired only for users who may use them.
import { initAccountMenu } from "./account.js";
import { getJson, withQuery } from "./api.js";
import { config } from "./config.js";
import { Duplicates } from "./duplicates.js";
import { Gallery } from "./gallery.js";
import { initKeys } from "./keys.js";
import { initLabelSearch } from "./labels.js";
import { FeatureProgress } from "./progress.js";
import { Search } from "./search.js";
import { initSelection } from "./selection.js";
import { initUploads } from "./uploads.js";

const galleryPanel = document.getElementById("panel-gallery");
const searchPanel = document.getElementById("panel-search");
const duplicatesPanel = document.getElementById("panel-duplicates");
const tabs = [...document.querySelectorAll("[role=tab]")];

function showTab(name, { focus = false } = {}) {
  for (const tab of tabs) {
    const on = tab.dataset.tab === name;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    document.getElementById(tab.getAttribute("aria-controls")).hidden = !on;
    if (on && focus) tab.focus();
  }
  if (window.location.hash.slice(1) !== name) history.replaceState(null, "", `#${name}`);
  if (name === "gallery") gallery.schedule(true);
  if (name === "duplicates") duplicates.load();
}

for (const tab of tabs) {
  tab.addEventListener("click", () => showTab(tab.dataset.tab));
  // Arrow keys move between tabs (the WAI-ARIA tabs pattern).
  tab.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
    showTab(next.dataset.tab, { focus: true });
    event.preventDefault();
  });
}
window.addEventListener("hashchange", () => {
  const name = window.location.hash.slice(1);
  if (["gallery", "search", "duplicates"].includes(name)) showTab(name);
});

const search = new Search(searchPanel, { onGotoGallery: () => showTab("gallery", { focus: true }) });
const searchWith = (image) => {
  showTab("search");
  search.searchWith(image);
};

const gallery = new Gallery(galleryPanel, { onSearch: searchWith });
const duplicates = new Duplicates(duplicatesPanel, { onDeleted: () => libraryChanged() });
const features = new FeatureProgress(galleryPanel.querySelector("[data-features]"));

let refreshTimer = 0;
function libraryChanged() {
  // Several uploads finishing together cause one reload, not one each.
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    gallery.reload();
    features.refresh();
    gettingStarted.update();
    if (search.picker.started) search.picker.reset();
  }, 150);
}

if (config.canUpload) initUploads(galleryPanel, { onUploaded: libraryChanged });
if (config.canDelete) initSelection(galleryPanel, gallery, { onDeleted: libraryChanged });
const accountMenu = initAccountMenu(document.querySelector("[data-account-menu]"));
if (config.canManageKeys) {
  initKeys(document.getElementById("keys"), {
    opener: document.querySelector("[data-keys-open]"),
    beforeOpen: () => accountMenu?.close(),
  });
}

// The "getting started" panel (for users who may upload): shown while the library holds
// no uploads of its own or has no features yet, until the user hides it.
const gettingStarted = {
  box: galleryPanel.querySelector("[data-getting-started]"),
  key: "imagesim.gettingStarted.hidden",
  uploads: null,
  async update() {
    if (!this.box || localStorage.getItem(this.key)) return;
    try {
      this.uploads = (await getJson(withQuery(config.imagesUrl, { kind: "upload" }))).count;
    } catch {
      return;
    }
    this.render();
  },
  render() {
    if (!this.box) return;
    if (localStorage.getItem(this.key)) { this.box.hidden = true; return; }
    const noFeatures = features.counts && features.counts.with_vectors === 0;
    this.box.hidden = !(this.uploads === 0 || noFeatures);
  },
};
galleryPanel.querySelector("[data-getting-started-close]")?.addEventListener("click", () => {
  localStorage.setItem(gettingStarted.key, "1");
  gettingStarted.box.hidden = true;
});

// Filters of the gallery: a name filter (debounced) and the kind.
let filterTimer = 0;
galleryPanel.querySelector("[data-gallery-filter]").addEventListener("input", (event) => {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => gallery.setFilters({ q: event.target.value.trim() }), 250);
});
galleryPanel.querySelector("[data-gallery-kind]").addEventListener("change", (event) => {
  gallery.setFilters({ kind: event.target.value });
});

initLabelSearch(galleryPanel, gallery, {
  viewer: document.getElementById("viewer"),
  onPick: () => showTab("gallery"),
});

features.subscribe(() => gettingStarted.render());

// Images added or deleted elsewhere (another tab, manage.py import_folder, a script using
// the API) change the library's count that every status message carries: show them at
// once, without a reload.
let knownImages = null;
features.subscribe(() => {
  const images = features.counts?.images;
  if (images === undefined) return;
  if (knownImages !== null && images !== knownImages) libraryChanged();
  knownImages = images;
});
const initial = window.location.hash.slice(1);
showTab(["search", "duplicates"].includes(initial) ? initial : "gallery");
gallery.reload({ keepScroll: false });
features.start();
gettingStarted.update();
document.documentElement.dataset.ready = "true";
