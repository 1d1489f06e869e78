// Files embedded with `import p from "…" with { type: "file" }`: the import is the file's path
// (node_modules in dev, /$bunfs/… inside the compiled binary).
declare module "htmx.org/dist/htmx.min.js" {
  const path: string;
  export default path;
}
declare module "htmx-ext-sse/dist/sse.min.js" {
  const path: string;
  export default path;
}
declare module "uplot/dist/uPlot.iife.min.js" {
  const path: string;
  export default path;
}
declare module "*.css" {
  const path: string;
  export default path;
}
declare module "*/panel.js" {
  const path: string;
  export default path;
}
