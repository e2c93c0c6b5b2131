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
  duplicatesUrl: data.duplicatesUrl,
  keysUrl: data.keysUrl,
  keyDetailUrl: data.keyDetailUrl, // ends in "/0/", as imageDetailUrl
  trashUrl: data.trashUrl,
  trashDays: Number(data.trashDays || 30),
  signInUrl: data.signInUrl || "/accounts/sign-in/?next=/",
  iconsUrl: data.iconsUrl,
  // What this user may do. The page leaves out what they may not; the server decides anyway.
  canUpload: data.canUpload === "true",
  canGenerate: data.canGenerate === "true",
  canDelete: data.canDelete === "true",
  canReviewDuplicates: data.canReviewDuplicates === "true",
  canManageKeys: data.canManageKeys === "true",
});

const detailUrl = (template, id) => template.replace(/0\/$/, `${encodeURIComponent(id)}/`);

export const imageDetailUrl = (id) => detailUrl(config.imageDetailUrl, id);
export const keyDetailUrl = (id) => detailUrl(config.keyDetailUrl, id);

export function websocketUrl(path) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${path}`;
}
