/**
 * The client's address, as the per-address limits see it. Only a proxy in front of the
 * Worker can vouch for it, so it is read from the one header that proxy sets:
 * `cf-connecting-ip` (Cloudflare's edge, which overwrites any value the client sent) unless
 * `CLIENT_ADDRESS_HEADER` names another (a self-hosted deployment behind its own proxy, e.g.
 * `x-real-ip`). A header the client can set itself must never be named here: each guess
 * would claim a fresh address. Without the header every request counts as `local`.
 */
import type { Env } from "../env";
import { parseIPv6 } from "./ssrf";

export const DEFAULT_CLIENT_ADDRESS_HEADER = "cf-connecting-ip";

/** Longer values are cut: an address is at most 45 characters (IPv6 with IPv4 tail). */
const MAX_ADDRESS_LENGTH = 64;

export function clientAddress(env: Pick<Env, "CLIENT_ADDRESS_HEADER">, headers: Headers): string {
  const name = env.CLIENT_ADDRESS_HEADER?.trim() || DEFAULT_CLIENT_ADDRESS_HEADER;
  const value = headers.get(name);
  if (!value) return "local";
  // A list (x-forwarded-for): the last entry is the one the nearest, trusted proxy appended.
  const last = value.split(",").pop()!.trim();
  return last ? limitedAddress(last.slice(0, MAX_ADDRESS_LENGTH)) : "local";
}

/**
 * The unit the limits count: an IPv4 address as given, an IPv6 address by its /64 (one host
 * is routinely handed a whole /64, so counting full addresses would give each guess a fresh
 * budget), an IPv4-mapped IPv6 address as its IPv4.
 */
export function limitedAddress(address: string): string {
  const bytes = address.includes(":") ? parseIPv6(address) : null;
  if (!bytes) return address;
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12).join(".");
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return `${groups.join(":")}::/64`;
}
