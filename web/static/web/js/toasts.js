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

export function toast(message, kind = "info", { timeout } = {}) {
  container ??= document.getElementById("toasts");
  place();
  const close = el("button", { type: "button", class: "icon-btn toast__close", "aria-label": "Dismiss" }, icon("close"));
  const node = el(
    "div",
    { class: `toast toast--${kind}`, role: kind === "error" ? "alert" : "status", dataset: { kind } },
    icon(ICONS[kind] || "info", "toast__icon"),
    el("p", { class: "toast__message", text: message }),
    close,
  );
  const dismiss = () => {
    if (!node.isConnected) return;
    node.classList.add("toast--leaving");
    setTimeout(() => node.remove(), 200);
  };
  close.addEventListener("click", dismiss);
  container.append(node);
  while (container.children.length > MAX_VISIBLE) container.firstElementChild.remove();
  setTimeout(dismiss, timeout ?? (kind === "error" ? 9000 : 5000));
  return node;
}
