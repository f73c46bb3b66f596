/**
 * The Node project's one worker and its Chromium, found before any test runs. Every test
 * file reaches the worker through harness.ts's startWorker() and Chromium through inject.
 */
import type { TestProject } from "vitest/node";
import { findChromium, INSTALL_CHROMIUM } from "./chromium";
import { SHARED_STATE, startOwnWorker } from "./harness";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const chromium = findChromium();
  if (!chromium) throw new Error(INSTALL_CHROMIUM);
  const worker = await startOwnWorker({ persist: SHARED_STATE });
  project.provide("workerUrl", worker.url);
  project.provide("chromium", chromium);
  return () => worker.dispose();
}
