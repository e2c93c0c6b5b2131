// Uploading: drag and drop or a file picker, several files at once, one request per
// file so each has its own progress bar and its own outcome (with the server's reason
// when it fails); what the whole drop came to is one toast and one summary line.
import { uploadWithProgress } from "./api.js";
import { config } from "./config.js";
import { el, icon } from "./icons.js";
import { toast } from "./toasts.js";

const PARALLEL = 3;

// Makes a drop zone of a <label> around a file input; onFiles(File[]) gets what was dropped or picked.
export function dropZone(zone, onFiles) {
  const input = zone.querySelector("input[type=file]");
  input.addEventListener("change", () => {
    const files = [...input.files];
    input.value = "";
    if (files.length) onFiles(files);
  });
  let depth = 0;
  zone.addEventListener("dragenter", (event) => {
    event.preventDefault();
    depth += 1;
    zone.classList.add("dropzone--over");
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  zone.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) zone.classList.remove("dropzone--over");
  });
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    depth = 0;
    zone.classList.remove("dropzone--over");
    const files = [...(event.dataTransfer?.files || [])];
    if (files.length) onFiles(files);
  });
}

export function initUploads(root, { onUploaded }) {
  const list = root.querySelector("[data-upload-list]");
  const box = root.querySelector("[data-upload-batch]");
  const summary = root.querySelector("[data-upload-summary]");
  const toggle = root.querySelector("[data-upload-toggle]");
  const queue = [];
  let running = 0;
  // One batch runs from the first file dropped or picked until the last one is answered;
  // files added meanwhile join it. Its outcome is one toast, and its list folds away.
  let batch = null;

  toggle.addEventListener("click", () => showDetails(list.hidden));

  dropZone(root.querySelector("[data-dropzone=gallery]"), (files) => {
    if (!batch) {
      batch = { total: 0, added: [], duplicates: [], refused: [] };
      list.replaceChildren();
      box.hidden = false;
      showDetails(true);
    }
    batch.total += files.length;
    for (const file of files) queue.push({ file, row: addRow(file) });
    showProgress();
    pump();
  });

  function showDetails(open) {
    list.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "Hide details" : "Show details";
  }

  function showProgress() {
    const answered = batch.added.length + batch.duplicates.length + batch.refused.length;
    summary.textContent = `Uploading ${batch.total} ${batch.total === 1 ? "image" : "images"}: ${answered} done…`;
    delete box.dataset.state;
  }

  function finish() {
    const { text, kind } = batchOutcome(batch);
    summary.textContent = text;
    box.dataset.state = kind;
    showDetails(false);
    toast(text, kind);
    batch = null;
  }

  function pump() {
    while (running < PARALLEL && queue.length) {
      const job = queue.shift();
      running += 1;
      send(job).finally(() => {
        running -= 1;
        if (!running && !queue.length) finish();
        else showProgress();
        pump();
      });
    }
  }

  function addRow(file) {
    const bar = el("div", { class: "progress__fill" });
    const row = el("li", { class: "upload", dataset: { name: file.name, state: "queued" } },
      icon("image", "upload__icon"),
      el("div", { class: "upload__body" },
        el("div", { class: "upload__line" },
          el("span", { class: "upload__name", text: file.name, title: file.name }),
          el("span", { class: "upload__state", text: "Waiting…" })),
        el("div", {
          class: "progress__track progress__track--thin", role: "progressbar",
          "aria-label": `Upload of ${file.name}`, "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": 0,
        }, bar)));
    list.append(row);
    return row;
  }

  function update(row, state, text, fraction) {
    row.dataset.state = state;
    row.querySelector(".upload__state").textContent = text;
    if (fraction !== undefined) {
      const percent = Math.round(fraction * 100);
      row.querySelector(".progress__fill").style.width = `${percent}%`;
      row.querySelector("[role=progressbar]").setAttribute("aria-valuenow", percent);
    }
  }

  async function send({ file, row }) {
    const form = new FormData();
    form.append("file", file, file.name);
    update(row, "uploading", "0%", 0);
    try {
      const { body } = await uploadWithProgress(config.imagesUrl, form, (fraction) => {
        // The last few percent are the server checking and storing the image.
        update(row, "uploading", fraction < 1 ? `${Math.round(fraction * 100)}%` : "Processing…", fraction * 0.95);
      });
      const result = body.results[0];
      if (result.duplicate) {
        update(row, "done", `Already in the library as “${result.image.name}”`, 1);
        batch.duplicates.push({ name: file.name, existing: result.image.name });
      } else {
        update(row, "done", "Added", 1);
        batch.added.push(file.name);
      }
      onUploaded(result.image);
    } catch (error) {
      update(row, "failed", `Failed: ${error.message}`, 1);
      row.title = error.message;
      batch.refused.push({ name: file.name, reason: error.message });
    }
  }
}

const REFUSALS_NAMED = 3;

// What a batch of uploads came to, in one sentence, and the kind of toast that says it.
export function batchOutcome({ total, added, duplicates, refused }) {
  if (total === 1) {
    if (added.length) return { text: `“${added[0]}” was added to the library.`, kind: "success" };
    if (duplicates.length) {
      const [{ name, existing }] = duplicates;
      return { text: `“${name}” is already in the library as “${existing}”.`, kind: "info" };
    }
    const [{ name, reason }] = refused;
    return { text: `“${name}” was not uploaded: ${reason}`, kind: "error" };
  }
  const parts = [];
  if (added.length) parts.push(`${added.length} ${added.length === 1 ? "image" : "images"} added`);
  if (duplicates.length) parts.push(`${duplicates.length} already in the library`);
  if (refused.length) {
    const named = refused.slice(0, REFUSALS_NAMED).map((r) => `“${r.name}” (${r.reason.replace(/\.$/, "")})`);
    const more = refused.length - named.length;
    parts.push(`${refused.length} refused: ${named.join("; ")}${more ? `; and ${more} more` : ""}`);
  }
  const kind = refused.length ? (refused.length === total ? "error" : "warning")
    : added.length ? "success" : "info";
  return { text: `${parts.join(", ")}.`, kind };
}
