// The library grid's tiles: plain elements built from an image, with no state of
// their own. The grid (gallery.js) positions them and loads their thumbnails.
import { el, icon } from "./icons.js";

// A tile still waiting for its page of images.
export function placeholderTile() {
  return el("div", { class: "tile tile--loading", role: "listitem", "aria-label": "Loading" },
    el("div", { class: "tile__frame skeleton" }), el("div", { class: "tile__caption skeleton-line" }));
}

// The tile of one image. Its <img> has the thumbnail in data-src: the caller sets src
// (at once, or when the tile comes into view). Only an image the server says this user
// may delete (image.can_delete) gets a delete button and can be selected.
export function imageTile(image, { index, selecting, selected }) {
  const selectable = Boolean(image.can_delete);
  const refusal = image.is_original
    ? "Originals cannot be deleted" : "Only its uploader or an administrator can delete it";
  const img = el("img", {
    class: "tile__img", alt: image.name, "data-src": image.thumbnail_url,
    width: 200, height: 200, decoding: "async", draggable: "false",
  });
  let label = `View ${image.name}`;
  if (selecting) label = selectable ? `Select ${image.name}` : `${image.name}: ${refusal.toLowerCase()}`;
  const open = el("button", {
    type: "button", class: "tile__frame tile__open", "data-action": "open", "aria-label": label,
    "aria-pressed": selecting && selectable ? String(selected) : null,
    "aria-disabled": selecting && !selectable ? "true" : null,
    title: selecting && !selectable ? refusal : image.name,
  }, img);
  const classes = ["tile", image.is_original && "tile--original", !selectable && "tile--locked",
    selected && "tile--selected"];
  const tile = el("div", {
    class: classes.filter(Boolean).join(" "),
    role: "listitem", dataset: { id: image.id, name: image.name, index },
  }, open);
  if (image.is_original) {
    tile.append(el("span", { class: "badge badge--original" }, icon("lock"), "Original"));
  } else if (selectable && selecting) {
    tile.append(el("span", { class: "tile__check", "aria-hidden": "true" },
      icon(selected ? "check_box" : "check_box_outline_blank")));
  } else if (selectable) {
    tile.append(el("button", {
      type: "button", class: "icon-btn tile__delete", "data-action": "delete",
      "aria-label": `Delete ${image.name}`, title: "Delete",
    }, icon("delete")));
  }
  tile.append(el("span", { class: "tile__caption", text: image.name, title: image.name }));
  return tile;
}
