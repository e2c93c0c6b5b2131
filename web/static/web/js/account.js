// The account menu in the header: a <details> disclosure (it opens and closes by itself,
// without script), which this closes on a click elsewhere, on Esc and when focus leaves it.

export function initAccountMenu(menu) {
  if (!menu) return null; // an anonymous visitor has a "Sign in" link instead
  const summary = menu.querySelector("summary");
  const close = ({ focus = false } = {}) => {
    if (!menu.open) return;
    menu.open = false;
    if (focus) summary.focus();
  };
  document.addEventListener("click", (event) => {
    if (!menu.contains(event.target)) close();
  });
  menu.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !menu.open) return;
    close({ focus: true });
    event.preventDefault();
    event.stopPropagation(); // the Esc closed the menu, nothing else (not select mode)
  });
  menu.addEventListener("focusout", (event) => {
    if (event.relatedTarget && !menu.contains(event.relatedTarget)) close();
  });
  return { close };
}
