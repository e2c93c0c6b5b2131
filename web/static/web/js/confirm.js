// A confirmation dialog that resolves to true (confirmed) or false (cancelled, Esc).
const dialog = () => document.getElementById("confirm");

export function confirmAction({ title, message, confirmLabel = "Delete" }) {
  const node = dialog();
  node.querySelector("#confirm-title").textContent = title;
  node.querySelector("#confirm-message").textContent = message;
  node.querySelector("[data-confirm-ok]").textContent = confirmLabel;
  node.returnValue = "";
  return new Promise((resolve) => {
    node.addEventListener("close", () => resolve(node.returnValue === "ok"), { once: true });
    node.showModal();
    node.querySelector("[data-confirm-cancel]").focus();
  });
}
