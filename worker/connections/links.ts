/**
 * Where the hosted pages send a browser to sign in through a connection. The login page
 * shows one button per enabled connection; `/oauth2/auth?connection_id=…` (Kinde's
 * parameter) skips the page and goes straight there. Both carry the authorization request,
 * which the upstream face stores with its state and continues with afterwards.
 */
import type { Env } from "../env";
import { buttonLabel, connectionsOfApp } from "./store";

export interface ConnectionButton {
  href: string;
  label: string;
}

export function upstreamStartHref(connectionId: string, fields: [string, string][]): string {
  const query = new URLSearchParams(fields.filter(([k]) => k !== "connection_id"));
  return `/upstream/${encodeURIComponent(connectionId)}/start?${query.toString()}`;
}

export async function connectionButtons(env: Env, appId: string, fields: [string, string][]): Promise<ConnectionButton[]> {
  return (await connectionsOfApp(env, appId)).filter((c) => c.enabled).map((c) => ({ href: upstreamStartHref(c.id, fields), label: buttonLabel(c) }));
}
