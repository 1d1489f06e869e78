import { Elysia } from "elysia";
import htmxPath from "htmx.org/dist/htmx.min.js" with { type: "file" };
import ssePath from "htmx-ext-sse/dist/sse.min.js" with { type: "file" };
import cssPath from "../../views/panel.css" with { type: "file" };
import jsPath from "../../views/panel.js" with { type: "file" };
import { ASSET_URLS } from "./asset-urls";
import { hostRefusal } from "./guard";

/** The panel's static files, embedded in the binary; the version is in the URL so caching is safe. */
const FILES: Array<[string, string, string]> = [
  [ASSET_URLS.htmx, htmxPath, "text/javascript; charset=utf-8"],
  [ASSET_URLS.sse, ssePath, "text/javascript; charset=utf-8"],
  [ASSET_URLS.css, cssPath, "text/css; charset=utf-8"],
  [ASSET_URLS.js, jsPath, "text/javascript; charset=utf-8"],
];

export const assetRoutes = (allowed: Set<string>) => {
  const app = new Elysia().onBeforeHandle(({ request }) => hostRefusal(request, allowed) ?? undefined);
  for (const [url, path, type] of FILES) {
    const file = Bun.file(path);
    app.get(url, () => new Response(file, { headers: { "content-type": type, "cache-control": "public, max-age=31536000, immutable" } }));
  }
  return app;
};
