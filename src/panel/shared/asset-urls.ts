/** Versioned asset URLs (served with immutable caching by src/panel/shared/assets.ts). */
export const ASSET_URLS = {
  htmx: "/assets/htmx-2.0.11.min.js",
  sse: "/assets/htmx-ext-sse-2.2.4.js",
  uplot: "/assets/uplot-1.6.32.min.js",
  uplotCss: "/assets/uplot-1.6.32.min.css",
  css: "/assets/panel-3.css",
  js: "/assets/panel-3.js",
} as const;

/** The panel icon (an SVG held in src/panel/shared/assets.ts, not a file on disk). */
export const ICON_URL = "/assets/icon-1.svg";
