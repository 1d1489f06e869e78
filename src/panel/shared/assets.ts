import { Elysia } from "elysia";
import htmxPath from "htmx.org/dist/htmx.min.js" with { type: "file" };
import ssePath from "htmx-ext-sse/dist/sse.min.js" with { type: "file" };
import uplotPath from "uplot/dist/uPlot.iife.min.js" with { type: "file" };
import uplotCssPath from "uplot/dist/uPlot.min.css" with { type: "file" };
import cssPath from "./assets/panel.css" with { type: "file" };
import jsPath from "./assets/panel.js" with { type: "file" };
import { ASSET_URLS, ICON_URL } from "./asset-urls";
import { hostRefusal } from "../../admin/guard";

/** The panel's icon, small enough to live here (a "K" on the accent blue). */
const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#3858e9"/><path d="M11 8v16M11 17l9-9M14 14l8 10" stroke="#fff" stroke-width="3.2" fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

/** The panel's static files, embedded in the binary; the version is in the URL so caching is safe. */
const FILES: Array<[string, string, string]> = [
  [ASSET_URLS.htmx, htmxPath, "text/javascript; charset=utf-8"],
  [ASSET_URLS.sse, ssePath, "text/javascript; charset=utf-8"],
  [ASSET_URLS.uplot, uplotPath, "text/javascript; charset=utf-8"],
  [ASSET_URLS.uplotCss, uplotCssPath, "text/css; charset=utf-8"],
  [ASSET_URLS.css, cssPath, "text/css; charset=utf-8"],
  [ASSET_URLS.js, jsPath, "text/javascript; charset=utf-8"],
];

export const assetRoutes = (allowed: Set<string>) => {
  const app = new Elysia().onBeforeHandle(({ request }) => hostRefusal(request, allowed) ?? undefined);
  for (const [url, path, type] of FILES) {
    const file = Bun.file(path);
    app.get(url, () => new Response(file, { headers: { "content-type": type, "cache-control": "public, max-age=31536000, immutable" } }));
  }
  // Browsers ask for /favicon.ico on their own (e.g. for the JSON of /api/tokens); an SVG answers it
  // instead of a 404 in every page's console. Unversioned URL, so a short cache.
  app.get(ICON_URL, () => new Response(ICON_SVG, { headers: { "content-type": "image/svg+xml", "cache-control": "public, max-age=31536000, immutable" } }));
  app.get("/favicon.ico", () => new Response(ICON_SVG, { headers: { "content-type": "image/svg+xml", "cache-control": "public, max-age=86400" } }));
  return app;
};
