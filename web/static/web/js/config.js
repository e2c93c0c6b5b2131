// The page's configuration, read once from the data- attributes on <body>.
const data = document.body.dataset;

export const config = Object.freeze({
  csrfToken: data.csrfToken || "",
  imagesUrl: data.imagesUrl,
  bulkDeleteUrl: data.bulkDeleteUrl,
  imageDetailUrl: data.imageDetailUrl, // ends in "/0/": the id goes in place of the 0
  featuresJobsUrl: data.featuresJobsUrl,
  featuresStatusUrl: data.featuresStatusUrl,
  featuresWsPath: data.featuresWsPath,
  searchUrl: data.searchUrl,
  iconsUrl: data.iconsUrl,
});

export function imageDetailUrl(id) {
  return config.imageDetailUrl.replace(/0\/$/, `${encodeURIComponent(id)}/`);
}

export function websocketUrl(path) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${path}`;
}
