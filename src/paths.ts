import { fileURLToPath } from "node:url";

// This file sits one level below the package root both as src/paths.ts (tsx) and dist/paths.js (built),
// so assets and templates resolve the same way in development and after `npm run build`.
export const TEMPLATES_DIR = fileURLToPath(new URL("../src/templates/", import.meta.url));
export const ASSETS_DIR = fileURLToPath(new URL("../assets/", import.meta.url));
export const FONTS_DIR = fileURLToPath(new URL("../assets/fonts/", import.meta.url));
