// Drawing a box on the query image, to search by that part of it only.
// The box is kept as fractions (0..1) of the picture as the browser shows it: upright, as
// the server cuts it (Chromium and Firefox apply the EXIF orientation to <img> by default).
import { el } from "./icons.js";

const MIN_DRAG_PX = 4; // a shorter drag is a click, not a box
const NUDGE = 0.02; // arrow keys move (or with Shift resize) the box by 2% of the image

const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

export class RegionTool {
  // frame: the element around the <img>, sized as the image; onChange(region|null, {final}).
  constructor(frame, img, onChange) {
    this.frame = frame;
    this.img = img;
    this.onChange = onChange;
    this.region = null;
    this.enabled = true;
    this.drag = null;
    this.box = el("div", {
      class: "region__box", tabindex: "0", role: "img", hidden: true,
      "aria-label": "Search region. Arrow keys move it, Shift with arrow keys resizes it, Delete clears it.",
      "data-region-box": "",
    });
    frame.append(this.box);
    this.box.addEventListener("keydown", (event) => this.onKey(event));
    // Keyboard users place a box with Enter on the image, then move and size it with the arrows.
    frame.tabIndex = 0;
    frame.setAttribute("aria-label", "Query image: drag on it to search a part of it, or press Enter to place a box");
    frame.addEventListener("keydown", (event) => {
      if (event.target !== frame || (event.key !== "Enter" && event.key !== " ") || !this.enabled) return;
      event.preventDefault();
      if (!this.region) {
        this.show({ x: 0.25, y: 0.25, width: 0.5, height: 0.5 });
        this.onChange(this.region, { final: false });
      }
      this.box.focus();
    });
  }

  // The pointer is followed on a surface around the frame (the preview), so that a drag
  // may start on the image's very edge or just beside it.
  static follow(surface, tool) {
    surface.addEventListener("pointerdown", (event) => tool()?.start(event, surface));
    surface.addEventListener("pointermove", (event) => tool()?.move(event));
    surface.addEventListener("pointerup", (event) => tool()?.end(event));
    surface.addEventListener("pointercancel", () => tool()?.cancel());
  }

  // A point of the pointer as fractions of the shown image, kept inside it.
  point(event) {
    const rect = this.img.getBoundingClientRect();
    return {
      x: clamp((event.clientX - rect.left) / rect.width, 0, 1),
      y: clamp((event.clientY - rect.top) / rect.height, 0, 1),
      px: event.clientX, py: event.clientY,
    };
  }

  start(event, surface) {
    if (!this.enabled || event.button !== 0 || !this.img.complete || !this.img.naturalWidth) return;
    if (event.target.closest("button")) return;
    event.preventDefault();
    surface.setPointerCapture(event.pointerId);
    this.drag = { from: this.point(event), before: this.region };
  }

  move(event) {
    if (!this.drag) return;
    const to = this.point(event);
    const { from } = this.drag;
    if (Math.abs(to.px - from.px) < MIN_DRAG_PX && Math.abs(to.py - from.py) < MIN_DRAG_PX) return;
    this.show({
      x: Math.min(from.x, to.x), y: Math.min(from.y, to.y),
      width: Math.abs(to.x - from.x), height: Math.abs(to.y - from.y),
    });
  }

  end(event) {
    if (!this.drag) return;
    this.move(event);
    const { before } = this.drag;
    this.drag = null;
    if (this.region && this.region !== before && this.region.width > 0 && this.region.height > 0) {
      this.onChange(this.region, { final: true });
    } else {
      this.show(before); // a click, or a line: keep the box there was
    }
  }

  cancel() {
    if (!this.drag) return;
    this.show(this.drag.before);
    this.drag = null;
  }

  clear() {
    const had = this.region !== null;
    this.show(null);
    if (had) this.onChange(null, { final: true });
  }

  show(region) {
    this.region = region;
    this.box.hidden = !region;
    if (!region) return;
    // Set through the CSSOM: the Content-Security-Policy refuses style attributes.
    Object.assign(this.box.style, {
      left: `${region.x * 100}%`, top: `${region.y * 100}%`,
      width: `${region.width * 100}%`, height: `${region.height * 100}%`,
    });
  }

  onKey(event) {
    if (!this.region || !this.enabled) return;
    if (event.key === "Delete" || event.key === "Backspace" || event.key === "Escape") {
      event.preventDefault();
      this.clear();
      return;
    }
    const step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[event.key];
    if (!step) return;
    event.preventDefault();
    let { x, y, width, height } = this.region;
    if (event.shiftKey) {
      width = clamp(width + step[0] * NUDGE, NUDGE, 1 - x);
      height = clamp(height + step[1] * NUDGE, NUDGE, 1 - y);
    } else {
      x = clamp(x + step[0] * NUDGE, 0, 1 - width);
      y = clamp(y + step[1] * NUDGE, 0, 1 - height);
    }
    this.show({ x, y, width, height });
    this.onChange(this.region, { final: false });
  }
}

// The region as the API's form fields, rounded (and kept inside the image after rounding).
export function regionFields(region) {
  const round = (value) => Math.round(value * 1e6) / 1e6;
  const x = round(region.x);
  const y = round(region.y);
  return {
    x, y,
    width: Math.min(round(region.width), round(1 - x)),
    height: Math.min(round(region.height), round(1 - y)),
  };
}
