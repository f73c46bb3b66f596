/**
 * Where Latch may send a request it was told to send by someone else (a client's metadata
 * document URL, a webhook endpoint): pure rules, no I/O. Outside local development only
 * https to a public-looking host is allowed; IP literals in private, loopback, link-local,
 * shared, documentation, multicast and other special-purpose ranges (RFC 6890 and its
 * registries) are refused, and so are names that only mean something on a private network
 * (single labels, `localhost`, `.local`, `.internal`, …).
 *
 * A Worker cannot see the address a host name resolves to (its fetch resolves on
 * Cloudflare's side, which does not route to private networks), so names are judged by
 * their form. In development (isDevelopment(env)) loopback targets are allowed, over http
 * too, so tests can serve documents from 127.0.0.1; private ranges stay refused even there.
 */

export interface OutboundRules {
  /** isDevelopment(env): loopback targets (http or https) are allowed. */
  development: boolean;
}

export type AddressKind = "public" | "loopback" | "private" | "link_local" | "special";

/** The four bytes of a dotted-quad IPv4 literal, or null. (URL parsing has already turned `0x7f.1` or `2130706433` into dotted form.) */
export function parseIPv4(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4) return null;
  const bytes = parts.map((p) => (/^(0|[1-9]\d{0,2})$/.test(p) ? Number(p) : NaN));
  return bytes.every((b) => b >= 0 && b <= 255) ? bytes : null;
}

/** The sixteen bytes of an IPv6 literal (with or without brackets, embedded IPv4 allowed), or null. */
export function parseIPv6(input: string): number[] | null {
  let host = input.startsWith("[") && input.endsWith("]") ? input.slice(1, -1) : input;
  if (host.includes("%")) return null; // zone ids never name a public host
  if (!/^[0-9a-fA-F:.]+$/.test(host) || !host.includes(":")) return null;
  let tail: number[] = [];
  const lastColon = host.lastIndexOf(":");
  if (host.slice(lastColon + 1).includes(".")) {
    const v4 = parseIPv4(host.slice(lastColon + 1));
    if (!v4) return null;
    tail = v4;
    host = host.slice(0, lastColon + 1) + "0:0";
  }
  const halves = host.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if ([...head, ...rest].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...rest].map((g) => parseInt(g, 16));
  const bytes = all.flatMap((g) => [g >> 8, g & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

function inV4(b: number[], net: [number, number, number, number], bits: number): boolean {
  for (let i = 0; i < 4; i++) {
    const take = Math.max(0, Math.min(8, bits - i * 8));
    const mask = take === 0 ? 0 : (0xff << (8 - take)) & 0xff;
    if ((b[i]! & mask) !== (net[i]! & mask)) return false;
  }
  return true;
}

/** IPv4 ranges that are not the public Internet (RFC 6890 and the IANA special-purpose registry). */
const V4_RANGES: [[number, number, number, number], number, AddressKind][] = [
  [[127, 0, 0, 0], 8, "loopback"],
  [[10, 0, 0, 0], 8, "private"],
  [[172, 16, 0, 0], 12, "private"],
  [[192, 168, 0, 0], 16, "private"],
  [[100, 64, 0, 0], 10, "private"], // carrier-grade NAT (shared address space)
  [[169, 254, 0, 0], 16, "link_local"], // includes cloud metadata (169.254.169.254)
  [[0, 0, 0, 0], 8, "special"],
  [[192, 0, 0, 0], 24, "special"],
  [[192, 0, 2, 0], 24, "special"],
  [[192, 88, 99, 0], 24, "special"],
  [[198, 18, 0, 0], 15, "special"],
  [[198, 51, 100, 0], 24, "special"],
  [[203, 0, 113, 0], 24, "special"],
  [[224, 0, 0, 0], 4, "special"], // multicast
  [[240, 0, 0, 0], 4, "special"], // reserved, broadcast
];

export function ipv4Kind(bytes: number[]): AddressKind {
  for (const [net, bits, kind] of V4_RANGES) if (inV4(bytes, net, bits)) return kind;
  return "public";
}

export function ipv6Kind(b: number[]): AddressKind {
  const zeroUpTo = (n: number) => b.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(15) && b[15] === 1) return "loopback"; // ::1
  if (zeroUpTo(16)) return "special"; // ::
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::/96) carry an IPv4 address.
  if (zeroUpTo(10) && b[10] === 0xff && b[11] === 0xff) return ipv4Kind(b.slice(12));
  if (zeroUpTo(12)) return ipv4Kind(b.slice(12));
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) return ipv4Kind(b.slice(12));
  if ((b[0]! & 0xfe) === 0xfc) return "private"; // fc00::/7 unique local
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return "link_local"; // fe80::/10
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return "private"; // fec0::/10 site-local (deprecated)
  if (b[0] === 0xff) return "special"; // multicast
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return "special"; // documentation
  if (b[0] === 0x20 && b[1] === 0x02) return "special"; // 6to4 relays: an IPv4 address behind a tunnel
  if (b[0] === 0x20 && b[1] === 0x01 && (b[2]! & 0xfe) === 0x00) return "special"; // 2001::/23 (Teredo, ORCHID, …)
  if (b[0] === 0x01 && zeroUpTo(8)) return "special"; // 100::/64 discard
  return "public";
}

/** What kind of address an IP literal host is; null when the host is a name. */
export function addressKind(host: string): AddressKind | null {
  const v4 = parseIPv4(host);
  if (v4) return ipv4Kind(v4);
  const v6 = parseIPv6(host);
  return v6 ? ipv6Kind(v6) : null;
}

/** Suffixes that name hosts on a private network, never on the Internet. */
const PRIVATE_SUFFIXES = [".localhost", ".local", ".internal", ".localdomain", ".lan", ".intranet", ".home.arpa", ".arpa", ".corp", ".home"];

/** A host name (not an IP literal) that only resolves on a private network or this machine. */
export function privateName(name: string): boolean {
  const host = name.toLowerCase().replace(/\.$/, "");
  if (host === "localhost") return true;
  if (!host.includes(".")) return true; // single label: an intranet name or a search-domain guess
  return PRIVATE_SUFFIXES.some((s) => host.endsWith(s));
}

function loopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return name === "localhost" || name.endsWith(".localhost") || addressKind(name) === "loopback";
}

/**
 * Why Latch may not send a request to `target` under `rules`, or null when it may.
 * The reason is for logs and operators; callers show their own generic message.
 */
export function outboundProblem(target: string | URL, rules: OutboundRules): string | null {
  let url: URL;
  try {
    url = typeof target === "string" ? new URL(target) : target;
  } catch {
    return "not an absolute URL";
  }
  if (url.username || url.password) return "URLs with credentials are not allowed";
  const host = url.hostname;
  if (!host) return "no host";
  const loopback = loopbackHost(host);
  if (rules.development && loopback) return url.protocol === "https:" || url.protocol === "http:" ? null : "only http(s) is allowed";
  if (url.protocol !== "https:") return "only https is allowed";
  const kind = addressKind(host);
  if (kind !== null) return kind === "public" ? null : `${kind.replace("_", "-")} addresses are not allowed`;
  if (privateName(host)) return "host names of private networks are not allowed";
  return null;
}
