/** Versioned asset URLs (served with immutable caching by src/admin/assets.ts). */
export const ASSET_URLS = {
  htmx: "/assets/htmx-2.0.11.min.js",
  sse: "/assets/htmx-ext-sse-2.2.4.js",
  css: "/assets/panel-1.css",
  js: "/assets/panel-1.js",
} as const;
