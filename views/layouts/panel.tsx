import type { PropsWithChildren } from "@kitajs/html";
import { ASSET_URLS, ICON_URL } from "../../src/panel/shared/asset-urls";
import { LOCALES, LOCALE_NAMES } from "../../src/panel/shared/i18n";
import type { MessageKey } from "../../src/panel/shared/i18n";
import type { Tr } from "../../src/panel/shared/i18n/tr";

const NAV: Array<[string, MessageKey]> = [
  ["/", "nav.dashboard"],
  ["/accounts", "nav.accounts"],
  ["/usage", "nav.usage"],
  ["/logs", "nav.logs"],
  ["/requests", "nav.requests"],
  ["/keys", "nav.keys"],
  ["/settings", "nav.settings"],
];

/** The document head; signed-in pages also load htmx, its SSE extension and panel.js. */
function Head(props: { title: string; scripts?: boolean; charts?: boolean }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="color-scheme" content="light dark" />
      <title safe>{`${props.title} · kiro-server`}</title>
      <link rel="stylesheet" href={ASSET_URLS.css} />
      <link rel="icon" href={ICON_URL} type="image/svg+xml" />
      {props.charts ? <link rel="stylesheet" href={ASSET_URLS.uplotCss} /> : ""}
      {props.scripts ? (
        <>
          {/* Swapped-in content is wired up (its hx- attributes processed) in the same task as the
              swap, not 20 ms later: a control clicked or changed right after a swap, such as the
              live log's level select just after Pause, would otherwise do nothing. */}
          <meta name="htmx-config" content='{"defaultSettleDelay":0}' />
          <script src={ASSET_URLS.htmx}></script>
          <script src={ASSET_URLS.sse}></script>
          {props.charts ? <script src={ASSET_URLS.uplot}></script> : ""}
          <script src={ASSET_URLS.js} defer></script>
        </>
      ) : ""}
    </head>
  );
}

/** Links to the other languages; /lang remembers the choice in a cookie and comes back to `here`. */
export function LangSwitch(props: { tr: Tr; here: string }) {
  return (
    <nav class="lang" aria-label={props.tr.t("lang.switch")}>
      {LOCALES.filter((l) => l !== props.tr.locale).map((l) => (
        <a href={`/lang?to=${encodeURIComponent(l)}&next=${encodeURIComponent(props.here)}`} lang={l} hreflang={l} data-lang={l} safe>{LOCALE_NAMES[l]}</a>
      ))}
    </nav>
  );
}

/** Shell of every signed-in page. The CSRF token rides on every htmx request via hx-headers. */
export function Page(props: PropsWithChildren<{ tr: Tr; title: string; csrf: string; active: string; version: string; charts?: boolean; here?: string }>) {
  const headers = JSON.stringify({ "x-csrf-token": props.csrf });
  const t = props.tr.t;
  return (
    <html lang={props.tr.locale}>
      <Head title={props.title} scripts charts={props.charts} />
      <body hx-headers={headers}>
        <header class="top">
          <a class="brand" href="/"><span class="logo" aria-hidden="true"></span>kiro-server</a>
          <nav class="main-nav">
            {NAV.map(([href, label]) => (
              <a href={href} class={href === props.active ? "on" : ""} safe>{t(label)}</a>
            ))}
          </nav>
          <LangSwitch tr={props.tr} here={props.here ?? props.active} />
          <form method="post" action="/logout" class="logout">
            <input type="hidden" name="_csrf" value={props.csrf} />
            <button type="submit" class="link" id="logout" safe>{t("nav.logout")}</button>
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
export function Bare(props: PropsWithChildren<{ tr: Tr; title: string }>) {
  return (
    <html lang={props.tr.locale}>
      <Head title={props.title} />
      <body class="bare">
        <main>{props.children}</main>
      </body>
    </html>
  );
}
