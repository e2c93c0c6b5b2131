// The API keys panel: the user's keys (name, made, last used), a form that makes one and
// shows it once, and a Revoke button per key, after a confirmation.
import { getJson, request } from "./api.js";
import { config, keyDetailUrl } from "./config.js";
import { confirmAction } from "./confirm.js";
import { el, icon } from "./icons.js";
import { toast } from "./toasts.js";

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const formatTime = (iso) => (iso ? when.format(new Date(iso)) : "never");

export function initKeys(dialog, { opener, beforeOpen }) {
  const q = (name) => dialog.querySelector(`[data-${name}]`);
  const form = q("keys-form");
  const nameInput = q("keys-name");
  const createButton = q("keys-create");
  const list = q("keys-list");
  const empty = q("keys-empty");
  const fresh = q("new-key");
  const freshValue = q("new-key-value");
  const copyButton = q("new-key-copy");
  const copyLabel = q("new-key-copy-label");
  let keys = [];
  // The opener sits in the account menu, closed by then: focus goes back to the menu's button.
  const returnFocus = opener.closest("details")?.querySelector("summary") || opener;

  opener.addEventListener("click", () => {
    beforeOpen?.();
    hideNewKey();
    dialog.showModal();
    nameInput.focus();
    load();
  });
  q("keys-close").addEventListener("click", () => dialog.close());
  // The new key is shown once: closing the panel forgets it.
  dialog.addEventListener("close", () => {
    hideNewKey();
    returnFocus.focus();
  });
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close(); // the backdrop
  });

  async function load() {
    empty.hidden = false;
    empty.textContent = "Loading your keys…";
    try {
      keys = await getJson(config.keysUrl);
    } catch (error) {
      empty.textContent = `Your keys could not be loaded: ${error.message}`;
      list.replaceChildren();
      return;
    }
    render();
  }

  function render() {
    empty.hidden = keys.length > 0;
    empty.textContent = "You have no API keys yet.";
    list.replaceChildren(...keys.map(keyRow));
  }

  function keyRow(key) {
    const revoke = el("button", {
      type: "button", class: "btn btn--ghost btn--small key__revoke", "aria-label": `Revoke ${key.name}`,
    }, "Revoke");
    revoke.addEventListener("click", () => revokeKey(key, revoke));
    return el("li", { class: "key", dataset: { keyId: key.id } },
      icon("vpn_key", "key__icon"),
      el("div", { class: "key__body" },
        el("p", { class: "key__name", text: key.name, title: key.name }),
        el("p", { class: "key__meta" },
          el("code", { class: "key__prefix", text: `${key.id}…`, title: "The key's first characters" }),
          el("span", { text: `Made ${formatTime(key.created_at)}` }),
          el("span", { "data-key-last-used": "", text: `Last used ${formatTime(key.last_used_at)}` }))),
      revoke);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = nameInput.value.trim();
    createButton.disabled = true;
    try {
      const { body } = await request("POST", config.keysUrl, { json: { name } });
      const { key, ...listed } = body;
      keys = [listed, ...keys.filter((k) => k.id !== listed.id)];
      render();
      showNewKey(listed.name, key);
      form.reset();
      toast(`API key “${listed.name}” made. Copy it now: it is shown only this once.`, "success");
    } catch (error) {
      toast(`Could not make the key: ${error.message}`, "error");
      nameInput.focus();
    } finally {
      createButton.disabled = false;
    }
  });

  function showNewKey(name, key) {
    q("new-key-name").textContent = name;
    freshValue.value = key;
    copyLabel.textContent = "Copy";
    fresh.hidden = false;
    freshValue.focus();
    freshValue.select();
  }

  function hideNewKey() {
    fresh.hidden = true;
    freshValue.value = "";
  }

  freshValue.addEventListener("focus", () => freshValue.select());
  copyButton.addEventListener("click", async () => {
    if (await copyText(freshValue)) {
      copyLabel.textContent = "Copied";
      toast("The key is on the clipboard.", "success");
    } else {
      freshValue.select();
      toast("The key could not be copied here: it is selected, copy it with Ctrl+C (⌘C).", "warning");
    }
  });

  async function revokeKey(key, button) {
    const ok = await confirmAction({
      title: "Revoke this API key?",
      message: `Scripts that use “${key.name}” (${key.id}…) will be refused from now on. This cannot be undone.`,
      confirmLabel: "Revoke",
    });
    if (!ok) return;
    button.disabled = true;
    try {
      await request("DELETE", keyDetailUrl(key.id));
      keys = keys.filter((k) => k.id !== key.id);
      render();
      toast(`API key “${key.name}” revoked.`, "success");
    } catch (error) {
      button.disabled = false;
      toast(`Could not revoke “${key.name}”: ${error.message}`, "error");
    }
  }
}

// The Clipboard API needs a secure context (HTTPS or localhost); elsewhere, the older way.
async function copyText(input) {
  try {
    await navigator.clipboard.writeText(input.value);
    return true;
  } catch {
    input.select();
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    }
  }
}
