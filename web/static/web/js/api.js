// Talking to the ImageSim API: JSON in, JSON out, errors as ApiError with the server's reason
// (but a 401, an ended session, sends the user to sign in).
import { config } from "./config.js";

export class ApiError extends Error {
  constructor(status, body) {
    super(errorMessage(status, body));
    this.status = status;
    this.code = (body && body.code) || null;
    this.body = body;
  }
}

// The server's own words when it gave any: {"detail": ...}, per-file errors, or field errors.
export function errorMessage(status, body) {
  if (body && typeof body === "object") {
    if (Array.isArray(body.errors) && body.errors.length > 1) {
      return body.errors.map((e) => `${e.name}: ${e.detail}`).join(" ");
    }
    if (typeof body.detail === "string" && body.detail) return body.detail;
    const fields = Object.entries(body)
      .filter(([, value]) => Array.isArray(value))
      .map(([field, value]) => `${field}: ${value.join(" ")}`);
    if (fields.length) return fields.join(" ");
  }
  if (status === 0) return "The server could not be reached. Check your connection and try again.";
  if (status === 413) return "The file is too large for the server.";
  return `The server answered with an error (HTTP ${status}).`;
}

// A 401 means the session is over (it expired, or the user signed out in another tab):
// the page sends the user to sign in and back, rather than showing an error. The call
// that met it never settles, so no caller shows a message on the way out.
let leaving = false;
function signInAgain() {
  if (!leaving) {
    leaving = true;
    window.location.assign(config.signInUrl);
  }
  return new Promise(() => {});
}

function headers(extra = {}) {
  return { Accept: "application/json", "X-CSRFToken": csrfToken(), ...extra };
}

// The cookie is the freshest token (it changes at login); the template's copy is the fallback.
export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : config.csrfToken;
}

async function parse(response) {
  if (response.status === 204) return null;
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 200) };
  }
}

export async function request(method, url, { json, form, signal } = {}) {
  const init = { method, headers: headers(), credentials: "same-origin", signal };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form;
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, null);
  }
  if (response.status === 401) return signInAgain();
  const body = await parse(response);
  if (!response.ok) throw new ApiError(response.status, body);
  return { status: response.status, body };
}

export const getJson = (url, options) => request("GET", url, options).then((r) => r.body);

export function withQuery(url, params) {
  const target = new URL(url, window.location.origin);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") target.searchParams.set(key, value);
  }
  return target.pathname + target.search;
}

// One multipart upload with progress (fetch cannot report upload progress, XHR can).
export function uploadWithProgress(url, formData, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    for (const [name, value] of Object.entries(headers())) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status === 401) {
        signInAgain();
        return;
      }
      let body = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = { detail: xhr.responseText.slice(0, 200) };
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve({ status: xhr.status, body });
      else reject(new ApiError(xhr.status, body));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, null)));
    xhr.addEventListener("abort", () => reject(new ApiError(0, { detail: "The upload was cancelled." })));
    xhr.send(formData);
  });
}
