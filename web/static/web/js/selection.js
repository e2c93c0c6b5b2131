// Deleting: one image from its tile, or many in select mode, always after a confirmation;
// they go to the trash, and the toast that says so offers "Undo".
import { request } from "./api.js";
import { config, imageDetailUrl } from "./config.js";
import { confirmAction } from "./confirm.js";
import { toast } from "./toasts.js";
import { deletedToast, trashNote } from "./trash.js";

export function initSelection(root, gallery, { onDeleted }) {
  const browse = root.querySelector("[data-browse-controls]");
  const bar = root.querySelector("[data-selection-bar]");
  const countLabel = root.querySelector("[data-selection-count]");
  const deleteButton = root.querySelector("[data-delete-selected]");
  const startButton = root.querySelector("[data-select-mode]");

  const setMode = (on) => {
    gallery.setSelecting(on);
    browse.hidden = on;
    bar.hidden = !on;
    root.querySelector("[data-gallery-head]").classList.toggle("gallery-head--selecting", on);
    (on ? bar.querySelector("[data-select-cancel]") : startButton).focus();
  };

  startButton.addEventListener("click", () => setMode(true));
  bar.querySelector("[data-select-cancel]").addEventListener("click", () => setMode(false));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && gallery.selecting && !document.querySelector("dialog[open]")) setMode(false);
  });

  gallery.subscribe(async (event) => {
    if (event.type === "selection") {
      const n = gallery.selected.size;
      countLabel.textContent = `${n} selected`;
      deleteButton.disabled = n === 0;
    } else if (event.type === "delete") {
      await deleteOne(event.image);
    }
  });

  async function deleteOne(image) {
    const ok = await confirmAction({
      title: "Delete this image?",
      message: `“${image.name}” will be removed from the library. ${trashNote()}`,
    });
    if (!ok) return;
    try {
      await request("DELETE", imageDetailUrl(image.id));
      deletedToast(`Moved “${image.name}” to the trash.`, [image.id], onDeleted);
      onDeleted();
    } catch (error) {
      toast(`Could not delete “${image.name}”: ${error.message}`, "error");
    }
  }

  deleteButton.addEventListener("click", async () => {
    const images = [...gallery.selected.values()];
    if (!images.length) return;
    const noun = images.length === 1 ? "image" : "images";
    const ok = await confirmAction({
      title: `Delete ${images.length} ${noun}?`,
      message: `The selected ${noun} will be removed from the library. ${trashNote()}`,
      confirmLabel: `Delete ${images.length}`,
    });
    if (!ok) return;
    try {
      const { body } = await request("POST", config.bulkDeleteUrl, { json: { ids: images.map((i) => i.id) } });
      deletedToast(`Moved ${body.deleted} ${body.deleted === 1 ? "image" : "images"} to the trash.`,
        images.map((i) => i.id), onDeleted);
      setMode(false);
      onDeleted();
    } catch (error) {
      toast(`Nothing was deleted: ${error.message}`, "error");
    }
  });
}
