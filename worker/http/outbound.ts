/**
 * One bounded GET of a URL someone else chose (ssrf.ts decides whether it may be fetched):
 * no redirects followed (a 3xx is an error, so a redirect can never lead to a private
 * target), a deadline, and a size cap enforced while reading, whatever Content-Length says.
 */
import { outboundProblem, type OutboundRules } from "./ssrf";

export interface BoundedFetch {
  maxBytes: number;
  timeoutMs: number;
  accept: string;
}

export type Fetched =
  | { ok: true; status: number; headers: Headers; text: string }
  | { ok: false; reason: string };

export async function boundedGet(url: string, rules: OutboundRules, limits: BoundedFetch): Promise<Fetched> {
  const problem = outboundProblem(url, rules);
  if (problem) return { ok: false, reason: problem };
  let res: Response;
  try {
    res = await fetch(url, { method: "GET", redirect: "manual", headers: { Accept: limits.accept }, signal: AbortSignal.timeout(limits.timeoutMs) });
  } catch (err) {
    return { ok: false, reason: err instanceof Error && err.name === "TimeoutError" ? "timed out" : "could not be fetched" };
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel();
    return { ok: false, reason: "redirects are not followed" };
  }
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > limits.maxBytes) {
    await res.body?.cancel();
    return { ok: false, reason: `larger than ${limits.maxBytes} bytes` };
  }
  const reader = res.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      if (!reader) break;
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limits.maxBytes) {
        await reader.cancel();
        return { ok: false, reason: `larger than ${limits.maxBytes} bytes` };
      }
      chunks.push(value);
    }
  } catch {
    return { ok: false, reason: "timed out or failed while reading" };
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(all);
  } catch {
    return { ok: false, reason: "not UTF-8" };
  }
  return { ok: true, status: res.status, headers: res.headers, text };
}
