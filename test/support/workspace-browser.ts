import { mkdir } from "node:fs/promises";
import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import type { RunningServer } from "../../src/http/server.js";
import type { Harness } from "../http/fixtures.js";
import { launchChromium } from "./browser.js";
import { aCampaign, aQuote, aSpeaker } from "./builders.js";
import { startSite } from "./site.js";

/**
 * The world of a workspace page test: a fresh harness, the app on a real socket, test-output/ for
 * screenshots and headless Chromium (the harness is closed again if Chromium fails to start).
 */
export async function startBrowserSite(
  name: string,
): Promise<{ h: Harness; server: RunningServer; browser: Browser }> {
  const { h, server } = await startSite(name);
  try {
    await mkdir("test-output", { recursive: true });
    return { h, server, browser: await launchChromium() };
  } catch (e) {
    await h.close(server);
    throw e;
  }
}

export type SignInOptions = {
  /** The new context's options; a 1280×1000 viewport unless given. */
  context?: BrowserContextOptions;
  /** The context's default timeout for actions and locators, when set. */
  defaultTimeout?: number;
  /** Console errors containing this are not errors of the page (e.g. a missing favicon's "404"). */
  ignoreConsole: string;
  /** Also count every response of 400 or more (but /favicon.ico) as an error. */
  failedResponses?: boolean;
  /** Called on the login page, before the token is typed. */
  onLoginPage?: (page: Page) => void | Promise<void>;
  /** The URL signing in lands on; `path` on the server unless given. */
  until?: string | RegExp;
};

/**
 * Opens `path` in a new context, signs in with `token` on the login form it is sent to and waits to be
 * back on the page. `errors` collects the page's uncaught errors and console errors (see SignInOptions).
 */
export async function signedInPage(
  browser: Browser,
  server: RunningServer,
  token: string,
  path: string,
  opts: SignInOptions,
) {
  const context = await browser.newContext(opts.context ?? { viewport: { width: 1280, height: 1000 } });
  if (opts.defaultTimeout !== undefined) context.setDefaultTimeout(opts.defaultTimeout);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().includes(opts.ignoreConsole)) errors.push(m.text());
  });
  if (opts.failedResponses)
    page.on("response", (r) => {
      if (r.status() >= 400 && !r.url().endsWith("/favicon.ico")) errors.push(`${r.status()} ${r.url()}`);
    });
  await page.goto(`${server.url}${path}`);
  await opts.onLoginPage?.(page);
  await page.fill("#token", token);
  await Promise.all([
    page.waitForURL(opts.until ?? `${server.url}${path}`),
    page.click("button[type=submit]"),
  ]);
  return { page, context, errors };
}

/** A viewer in New York (campaigns drop on Baghdad time) who may download; page 4xx logs are not errors. */
/** A quote of 968 characters: too long to fit any card, so its preview says it cannot fit. */
export const LONG = "They lied to us about everything, and we believed them. ".repeat(17).trim();

export const NEW_YORK: SignInOptions = {
  context: { viewport: { width: 1280, height: 1000 }, timezoneId: "America/New_York", acceptDownloads: true },
  ignoreConsole: "status of 4",
};

/**
 * The campaign the drops and preview pages are tried on: en and ar, two narratives, square and
 * landscape, one output per speaker per drop; s1 says q1 (and q1-ar, its Arabic translation), s2 says q2.
 */
export function twoSpeakerCampaign() {
  return {
    campaigns: [
      aCampaign({
        locales: ["en", "ar"],
        narratives: ["corruption", "brutality"],
        formats: ["square", "landscape"],
        exposure: { maxPerSpeakerPerDrop: 1 },
      }),
    ],
    speakers: [aSpeaker("s1"), aSpeaker("s2")],
    quotes: [
      aQuote("q1", "s1", { text: "This is not a holy war." }),
      aQuote("q1-ar", "s1", { locale: "ar", text: "هذه ليست حربا مقدسة.", translationOf: "q1" }),
      aQuote("q2", "s2", { text: "We were lied to." }),
    ],
  };
}
