// CPU profile of the worker isolate while a load runs: Miniflare's inspector port (workerd's V8
// inspector), Profiler.start / Profiler.stop, then self time grouped by function and by module.
//   const stop = await startProfile(inspectorPort); ...load...; report(await stop())
// Used by bench/profile.mjs to break a route's CPU down (bench/README.md).
import WebSocket from "ws";

export async function startProfile(port, { interval = 100 } = {}) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const target = targets.find((t) => /core:user/.test(t.webSocketDebuggerUrl ?? t.id ?? "")) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => (ws.on("open", resolve), ws.on("error", reject)));
  let id = 0;
  const pending = new Map();
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data));
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  });
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      const n = ++id;
      pending.set(n, resolve);
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval });
  await send("Profiler.start");
  return async () => {
    const { result } = await send("Profiler.stop");
    ws.close();
    return result.profile;
  };
}

/** Self time (ms) per function and per bundled source region, biggest first. */
export function summarise(profile, { top = 25 } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0) / 1000);
  const fns = new Map();
  let total = 0;
  for (const [nodeId, ms] of self) {
    const f = byId.get(nodeId).callFrame;
    const key = `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\//, "")}:${f.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + ms);
    total += ms;
  }
  return { total, functions: [...fns.entries()].sort((a, b) => b[1] - a[1]).slice(0, top) };
}

/** Inclusive time (ms) per function (a recursive function is counted once per stack). */
export function inclusive(profile, { top = 40 } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0) / 1000);
  const keyOf = (n) => `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.replace(/^.*\//, "")}:${n.callFrame.lineNumber + 1}`;
  const out = new Map();
  const walk = (node, onStack) => {
    let total = self.get(node.id) ?? 0;
    const key = keyOf(node);
    const fresh = !onStack.has(key);
    if (fresh) onStack.add(key);
    for (const child of node.children ?? []) total += walk(byId.get(child), onStack);
    if (fresh) {
      onStack.delete(key);
      out.set(key, (out.get(key) ?? 0) + total);
    }
    return total;
  };
  const root = profile.nodes[0];
  const total = walk(root, new Set());
  return { total, functions: [...out.entries()].sort((a, b) => b[1] - a[1]).slice(0, top) };
}

/** Prints self and inclusive time per function, as ms per measured request (`n` requests). */
export function printProfile(profile, n) {
  for (const [title, { total, functions }] of [["self", summarise(profile)], ["inclusive", inclusive(profile)]]) {
    console.log(`\nprofile (${title} time, ms per measured request; ${(total / n).toFixed(2)} ms sampled in all):`);
    for (const [fn, ms] of functions) console.log(`  ${(ms / n).toFixed(3).padStart(7)}  ${fn}`);
  }
}
