// Feature generation: the button, the status line and the progress bar.
//
// Progress comes from the websocket (/ws/features/): a "status" message on connect,
// then "progress" and "complete" messages. If the socket drops, it reconnects with
// a growing delay and, meanwhile, polls the REST status so the bar keeps moving.
// Nothing lives only in the page: after a reload, the status says which job runs.
import { getJson, request } from "./api.js";
import { config, websocketUrl } from "./config.js";
import { el } from "./icons.js";
import { toast } from "./toasts.js";

const POLL_MS = 1500;
const MAX_RETRY_MS = 15000;
const ACTIVE = new Set(["queued", "running"]);

export class FeatureProgress {
  constructor(root) {
    this.root = root;
    this.q = (name) => root.querySelector(`[data-${name}]`);
    this.job = null;
    this.counts = null;
    this.socket = null;
    this.retryMs = 1000;
    this.pollTimer = 0;
    this.listeners = new Set();
    this.started = new Set(); // jobs this page started: their end gets a toast
    this.watched = new Set(); // jobs this page saw running
    // Only users who may generate features have the button.
    this.q("generate")?.addEventListener("click", () => this.generate());
  }

  subscribe(fn) { this.listeners.add(fn); }

  get active() { return Boolean(this.job && ACTIVE.has(this.job.state)); }

  start() {
    this.refresh();
    this.connect();
  }

  connect() {
    let socket;
    try {
      socket = new WebSocket(websocketUrl(config.featuresWsPath));
    } catch {
      this.retry();
      return;
    }
    this.socket = socket;
    this.connected = false;
    socket.addEventListener("message", (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      if (!this.connected) {
        // The server greets every connection with the status: only then is it live.
        this.connected = true;
        this.retryMs = 1000;
        this.q("connection").hidden = true;
        this.stopPolling();
      }
      this.handle(message);
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.connected = false;
      this.q("connection").hidden = false;
      this.poll();
      this.retry();
    });
  }

  retry() {
    setTimeout(() => this.connect(), this.retryMs);
    this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
  }

  get live() { return this.connected && this.socket?.readyState === WebSocket.OPEN; }

  // The REST fallback: poll while a job runs and the socket is down.
  poll() {
    if (this.pollTimer || this.live) return;
    this.pollTimer = setTimeout(async () => {
      this.pollTimer = 0;
      if (this.live) return;
      await this.refresh();
      if (this.active) this.poll();
    }, POLL_MS);
  }

  stopPolling() {
    clearTimeout(this.pollTimer);
    this.pollTimer = 0;
  }

  async refresh() {
    try {
      const body = await getJson(config.featuresStatusUrl);
      this.handle({ type: "status", ...body });
    } catch (error) {
      if (!this.counts) this.q("features-status").textContent = `Feature status is unavailable: ${error.message}`;
    }
  }

  handle(message) {
    const wasActive = this.active;
    const previousJob = this.job;
    if (message.job !== undefined && !this.isStale(message.job)) this.job = message.job;
    if (message.counts) this.counts = message.counts;
    // While the library is re-embedded with a newly configured extractor, searches keep
    // using the previous one's vectors (message.serving) until the new set is complete.
    if (message.switching !== undefined) {
      this.switching = message.switching;
      this.serving = message.serving;
    }
    const finished = message.type === "complete" ||
      (wasActive && this.job && !ACTIVE.has(this.job.state) && previousJob?.id === this.job.id);
    if (finished && this.job) {
      this.announceOnce(this.job);
      if (message.type !== "complete" || !message.counts) this.refresh();
    }
    if (this.active) this.watched.add(this.job.id);
    if (this.active && !this.live) this.poll();
    this.render();
    for (const fn of this.listeners) fn(this);
  }

  // The websocket, a REST answer and the POST's reply race each other: never go back.
  isStale(job) {
    const current = this.job;
    if (!job || !current || job.id !== current.id) return false;
    const rank = (state) => ({ queued: 0, running: 1 })[state] ?? 2;
    if (rank(job.state) !== rank(current.state)) return rank(job.state) < rank(current.state);
    return job.done + job.failed < current.done + current.failed;
  }

  // Uploads start small jobs by themselves: only failures, or a job asked for here, speak up.
  announceOnce(job) {
    this.announced ??= new Set();
    if (this.announced.has(job.id)) return;
    if (!this.started.has(job.id) && !job.failed && job.state !== "failed") return;
    this.announced.add(job.id);
    this.announce(job);
  }

  announce(job) {
    if (job.state === "failed") {
      toast("Feature generation stopped with an error. Try again, or see the server log.", "error");
    } else if (job.failed) {
      toast(`Features generated for ${job.done} ${job.done === 1 ? "image" : "images"}; ${job.failed} could not be read.`, "warning");
    } else {
      toast(`Features generated for ${job.done} ${job.done === 1 ? "image" : "images"}.`, "success");
    }
  }

  async generate() {
    const button = this.q("generate");
    button.disabled = true;
    try {
      const { body } = await request("POST", config.featuresJobsUrl);
      this.started.add(body.id);
      this.handle({ type: "progress", job: body });
      // A quick job may have ended (over the websocket) before this reply came.
      if (this.job?.id === body.id && !this.active) this.announceOnce(this.job);
    } catch (error) {
      toast(`Could not start feature generation: ${error.message}`, "error");
      this.q("features-status").textContent = error.message;
      button.disabled = false;
    }
  }

  render() {
    const { job, counts } = this;
    const status = this.q("features-status");
    const button = this.q("generate");
    const label = this.q("generate-label");
    const active = this.active;
    const upToDate = counts && counts.images > 0 && counts.pending === 0;
    // Nothing pending but some images failed: a new job gives those another try.
    const retryable = Boolean(upToDate && counts.failed > 0);

    if (counts) {
      status.classList.toggle("features-status--done", Boolean(upToDate && !active));
      if (counts.images === 0) {
        status.textContent = config.canGenerate
          ? "No images yet: upload some, and their features follow by themselves." : "No images yet.";
      } else if (this.switching && this.serving) {
        status.textContent = `Re-embedding the library with the new extractor: ${counts.with_vectors.toLocaleString()} of ${counts.images.toLocaleString()} images done. ` +
          `Searches use the previous extractor (${this.serving.counts.with_vectors.toLocaleString()} images) until it completes.`;
      } else if (active) {
        // The same numbers as the bar's: the job's, not the library's (which counts
        // images other jobs will take).
        const processed = job.done + job.failed;
        status.textContent = `Extracting features: ${processed.toLocaleString()} of ${job.total.toLocaleString()} images done` +
          (job.failed ? `, ${job.failed.toLocaleString()} failed.` : ".");
      } else if (upToDate) {
        status.textContent = counts.failed
          ? `All readable images have features (${counts.with_vectors.toLocaleString()}); ${counts.failed} could not be read.`
          : `All ${counts.images.toLocaleString()} images have features. Search is ready.`;
      } else {
        status.textContent = `${counts.with_vectors.toLocaleString()} of ${counts.images.toLocaleString()} images have features; ${counts.pending.toLocaleString()} pending.`;
      }
    }
    if (button) {
      button.disabled = active || !counts || counts.images === 0 || Boolean(upToDate && !retryable);
      label.textContent = active ? "Generating…"
        : retryable ? `Retry failed (${counts.failed.toLocaleString()})`
        : upToDate ? "Features up to date" : "Generate features";
      button.classList.toggle("btn--done", Boolean(upToDate && !retryable && !active));
    }

    // A finished job stays on show if it ran while the page watched, or if it left
    // nothing pending; an old small job (one upload's) would only confuse.
    const box = this.q("features-progress");
    const relevant = job && (active || this.watched.has(job.id) || counts?.pending === 0);
    box.hidden = !relevant;
    if (!relevant) return;
    // job.done counts the images that got a vector, job.failed those that could not be
    // read: both are processed, and the percentage (from the server) counts both.
    const processed = job.done + job.failed;
    const percent = Math.max(0, Math.min(100, Math.round(job.percent ?? (job.total ? (100 * processed) / job.total : 0))));
    const failedText = job.failed ? `, ${job.failed.toLocaleString()} failed` : "";
    this.q("features-bar").setAttribute("aria-valuenow", percent);
    this.q("features-bar").setAttribute("aria-valuetext", `${percent}% (${processed} of ${job.total}${failedText})`);
    this.q("features-fill").style.width = `${percent}%`;
    box.dataset.state = job.state;
    this.q("features-percent").textContent = `${percent}%`;
    this.q("features-counts").textContent = `${processed.toLocaleString()} / ${job.total.toLocaleString()} images${failedText}`;
    this.q("features-rate").textContent = job.rate ? `${job.rate.toFixed(1)} images/s` : "";
    this.q("features-eta").textContent = active && job.eta_seconds !== null && job.eta_seconds !== undefined
      ? `ETA ${formatDuration(job.eta_seconds)}`
      : job.state === "done" ? "Done" : job.state === "failed" ? "Stopped" : "";

    const failures = job.failures || [];
    const details = this.q("features-failures");
    details.hidden = !job.failed;
    if (job.failed) {
      this.q("features-failures-summary").textContent = `${job.failed} ${job.failed === 1 ? "image" : "images"} failed`;
      this.q("features-failures-list").replaceChildren(...failures.map((f) =>
        el("li", {}, el("strong", { text: f.filename }), ` ${f.reason}`)));
    }
  }
}

export function formatDuration(seconds) {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
