import type { Services } from "../services";
import { panelRoutes } from "../panel/routes";

/** The admin panel at / (src/panel): one feature folder per page, mounted here with the other HTTP routes. */
export const adminRoutes = (s: Services) => panelRoutes(s);
