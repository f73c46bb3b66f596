/**
 * Where Chromium is: the CHROMIUM environment variable, Debian's /usr/bin/chromium, or a
 * browser in playwright's cache. null when there is none (global-setup.ts then stops the
 * run with one line saying how to install it).
 */
import { existsSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  const cache = process.env.PLAYWRIGHT_BROWSERS_PATH ?? join(homedir(), ".cache", "ms-playwright");
  if (existsSync(cache)) {
    for (const dir of readdirSync(cache).filter((d) => d.startsWith("chromium")).sort().reverse()) {
      candidates.push(join(cache, dir, "chrome-linux", "chrome"), join(cache, dir, "chrome-linux64", "chrome"));
    }
  }
  return candidates.find((path): path is string => typeof path === "string" && path !== "" && existsSync(path)) ?? null;
}

export const INSTALL_CHROMIUM = "Chromium not found: install it (Debian: sudo apt-get install -y chromium) or set CHROMIUM=/path/to/chrome.";
