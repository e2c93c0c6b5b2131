// The trash: deleted uploads wait there config.trashDays days. A delete's toast offers
// "Undo" (restore); the Trash panel lists your deleted uploads (an admin's: everyone's)
// with Restore and "Delete for good", and "Empty trash", after a confirmation.
import { getJson, request, withQuery } from "./api.js";
import { config } from "./config.js";
import { confirmAction } from "./confirm.js";
import { el, icon } from "./icons.js";
import { toast } from "./toasts.js";

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const plural = (n, noun) => `${n} ${noun}${n === 1 ? "" : "s"}`;
const trashItemUrl = (id, action = "") => `${config.trashUrl}${encodeURIComponent(id)}/${action}`;

// Bring images back; resolves to how many came back (an error toast says why others did not).
export async function restoreImages(ids) {
  let restored = 0;
  for (const id of ids) {
    try {
      await request("POST", trashItemUrl(id, "restore/"));
      restored += 1;
    } catch (error) {
      toast(`Could not restore image #${id}: ${error.message}`, "error");
    }
  }
  return restored;
}

// The toast after a delete: what went to the trash, with "Undo".
export function deletedToast(message, ids, onRestored) {
  toast(message, "success", {
    action: ids.length ? {
      label: "Undo",
      run: async () => {
        const restored = await restoreImages(ids);
        if (restored) toast(`Restored ${plural(restored, "image")}.`, "success");
        onRestored?.();
      },
    } : null,
  });
}

export function trashNote() {
  return `Deleted images stay in the Trash for ${plural(config.trashDays, "day")}, where they can be restored.`;
}

export function initTrash(dialog, { opener, onChanged }) {
  const q = (name) => dialog.querySelector(`[data-${name}]`);
  const list = q("trash-list");
  const empty = q("trash-empty");
  const emptyButton = q("trash-empty-all");
  const more = q("trash-more");
  let next = null;

  opener.addEventListener("click", () => {
    dialog.showModal();
    load();
  });
  q("trash-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => opener.focus());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close(); // the backdrop
  });
  more.addEventListener("click", () => load({ url: next }));

  async function load({ url = null } = {}) {
    if (!url) {
      list.replaceChildren();
      empty.hidden = false;
      empty.textContent = "Loading the trash…";
    }
    let body;
    try {
      body = await getJson(url || withQuery(config.trashUrl, { page_size: 50 }));
    } catch (error) {
      empty.hidden = false;
      empty.textContent = `The trash could not be loaded: ${error.message}`;
      return;
    }
    list.append(...body.results.map(row));
    next = body.next;
    more.hidden = !next;
    render();
  }

  function render() {
    const count = list.children.length;
    empty.hidden = count > 0;
    empty.textContent = "The trash is empty.";
    emptyButton.disabled = count === 0;
  }

  function row(image) {
    const restore = el("button", { type: "button", class: "btn btn--ghost btn--small", "data-trash-restore": "" },
      icon("refresh"), el("span", { text: "Restore" }));
    const purge = el("button", { type: "button", class: "btn btn--ghost btn--small trash-item__purge", "data-trash-purge": "" },
      icon("delete"), el("span", { text: "Delete for good" }));
    const details = [`Deleted ${when.format(new Date(image.trashed_at))}`];
    if (image.uploaded_by) details.push(`uploaded by ${image.uploaded_by}`);
    details.push(`gone for good ${when.format(new Date(image.purge_at))}`);
    const item = el("li", { class: "trash-item", dataset: { id: image.id } },
      el("img", { class: "trash-item__thumb", src: image.thumbnail_url, alt: "", loading: "lazy", width: 56, height: 56 }),
      el("div", { class: "trash-item__body" },
        el("p", { class: "trash-item__name", text: image.name, title: image.name }),
        el("p", { class: "trash-item__meta", text: details.join(" · ") })),
      el("div", { class: "trash-item__actions" }, restore, purge));
    restore.addEventListener("click", () => act(item, async () => {
      await request("POST", trashItemUrl(image.id, "restore/"));
      toast(`Restored “${image.name}”.`, "success");
    }));
    purge.addEventListener("click", async () => {
      const ok = await confirmAction({
        title: "Delete for good?",
        message: `“${image.name}” and its file will be deleted for good. This cannot be undone.`,
        confirmLabel: "Delete for good",
      });
      if (ok) await act(item, () => request("DELETE", trashItemUrl(image.id)));
    });
    return item;
  }

  async function act(item, work) {
    const buttons = [...item.querySelectorAll("button")];
    buttons.forEach((button) => { button.disabled = true; });
    try {
      await work();
    } catch (error) {
      toast(error.message, "error");
      buttons.forEach((button) => { button.disabled = false; });
      return;
    }
    item.remove();
    render();
    onChanged?.();
  }

  emptyButton.addEventListener("click", async () => {
    const ok = await confirmAction({
      title: "Empty the trash?",
      message: "Every image in the trash is deleted for good with its file. This cannot be undone.",
      confirmLabel: "Empty trash",
    });
    if (!ok) return;
    try {
      const { body } = await request("POST", `${config.trashUrl}empty/`);
      toast(`Deleted ${plural(body.deleted, "image")} for good.`, "success");
    } catch (error) {
      toast(`Could not empty the trash: ${error.message}`, "error");
    }
    load();
  });
}
