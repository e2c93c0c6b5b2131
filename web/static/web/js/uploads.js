// Uploading: drag and drop or a file picker, several files at once, one request per
// file so each has its own progress bar and its own outcome (a toast with the server's
// reason when it fails).
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
  const queue = [];
  let running = 0;

  dropZone(root.querySelector("[data-dropzone=gallery]"), (files) => {
    for (const file of files) queue.push({ file, row: addRow(file) });
    pump();
  });

  function pump() {
    while (running < PARALLEL && queue.length) {
      const job = queue.shift();
      running += 1;
      send(job).finally(() => {
        running -= 1;
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
        update(row, "done", "Already in the library", 1);
        toast(`“${file.name}” is already in the library as “${result.image.name}”.`, "info");
      } else {
        update(row, "done", "Added", 1);
        toast(`“${file.name}” was added to the library.`, "success");
      }
      onUploaded(result.image);
      setTimeout(() => row.remove(), 2500);
    } catch (error) {
      update(row, "failed", "Failed", 1);
      row.title = error.message;
      toast(`“${file.name}” was not uploaded: ${error.message}`, "error");
      setTimeout(() => row.remove(), 8000);
    }
  }
}
