// Toasts: short messages at the edge of the screen that go away by themselves.
import { el, icon } from "./icons.js";

const ICONS = { success: "check_circle", error: "error", info: "info", warning: "warning" };
const MAX_VISIBLE = 5;
let container = null;

// While a modal dialog is open (the viewer, the API keys) everything outside it lies under
// its backdrop and is inert: the toasts go inside it then, and back when it closes.
function place() {
  const modal = [...document.querySelectorAll("dialog[open]")].filter((d) => d.matches(":modal")).pop();
  const host = modal || document.body;
  if (container.parentElement === host) return;
  host.append(container);
  modal?.addEventListener("close", place, { once: true });
}

// ``action`` ({label, run}) adds a button (e.g. "Undo") that runs once and dismisses the toast;
// such a toast stays longer, to leave time to press it.
export function toast(message, kind = "info", { timeout, action } = {}) {
  container ??= document.getElementById("toasts");
  place();
  const close = el("button", { type: "button", class: "icon-btn toast__close", "aria-label": "Dismiss" }, icon("close"));
  const button = action
    ? el("button", { type: "button", class: "btn btn--ghost btn--small toast__action", "data-toast-action": "", text: action.label })
    : null;
  const node = el(
    "div",
    { class: `toast toast--${kind}`, role: kind === "error" ? "alert" : "status", dataset: { kind } },
    icon(ICONS[kind] || "info", "toast__icon"),
    el("p", { class: "toast__message", text: message }),
    button,
    close,
  );
  const dismiss = () => {
    if (!node.isConnected) return;
    node.classList.add("toast--leaving");
    setTimeout(() => node.remove(), 200);
  };
  close.addEventListener("click", dismiss);
  button?.addEventListener("click", () => {
    button.disabled = true;
    dismiss();
    action.run();
  });
  container.append(node);
  while (container.children.length > MAX_VISIBLE) container.firstElementChild.remove();
  setTimeout(dismiss, timeout ?? (kind === "error" || action ? 10000 : 5000));
  return node;
}
