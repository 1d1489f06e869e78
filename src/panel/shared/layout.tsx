import type { PropsWithChildren } from "@kitajs/html";
import { ASSET_URLS, ICON_URL } from "./asset-urls";

const NAV = [
  ["/", "Dashboard"],
  ["/accounts", "Accounts"],
  ["/logs", "Live logs"],
  ["/requests", "Requests"],
  ["/keys", "Keys"],
  ["/settings", "Settings"],
] as const;

/** The document head; signed-in pages also load htmx, its SSE extension and panel.js. */
function Head(props: { title: string; scripts?: boolean }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title safe>{`${props.title} · kiro-server`}</title>
      <link rel="stylesheet" href={ASSET_URLS.css} />
      <link rel="icon" href={ICON_URL} type="image/svg+xml" />
      {props.scripts ? (
        <>
          <script src={ASSET_URLS.htmx}></script>
          <script src={ASSET_URLS.sse}></script>
          <script src={ASSET_URLS.js} defer></script>
        </>
      ) : ""}
    </head>
  );
}

/** Shell of every signed-in page. The CSRF token rides on every htmx request via hx-headers. */
export function Page(props: PropsWithChildren<{ title: string; csrf: string; active: string; version: string }>) {
  const headers = JSON.stringify({ "x-csrf-token": props.csrf });
  return (
    <html lang="en">
      <Head title={props.title} scripts />
      <body hx-headers={headers}>
        <header class="top">
          <a class="brand" href="/"><span class="logo" aria-hidden="true"></span>kiro-server</a>
          <nav>
            {NAV.map(([href, label]) => (
              <a href={href} class={href === props.active ? "on" : ""}>{label}</a>
            ))}
          </nav>
          <form method="post" action="/logout" class="logout">
            <input type="hidden" name="_csrf" value={props.csrf} />
            <button type="submit" class="link" id="logout">Log out</button>
          </form>
        </header>
        <main>
          <h1 safe>{props.title}</h1>
          {props.children}
        </main>
        <footer safe>{`kiro-server ${props.version}`}</footer>
      </body>
    </html>
  );
}

/** Shell of the login page (no navigation, no CSRF yet). */
export function Bare(props: PropsWithChildren<{ title: string }>) {
  return (
    <html lang="en">
      <Head title={props.title} />
      <body class="bare">
        <main>{props.children}</main>
      </body>
    </html>
  );
}
