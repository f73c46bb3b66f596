/**
 * A small client for Latch's management API (`/api/v1`, Kinde's paths and envelopes).
 * It authenticates with client_credentials (an m2m client's id and secret, audience
 * `{issuer}/api`), caches the token until a minute before it expires, shares one token
 * request between concurrent calls, and retries a call once with a new token on 401.
 */

export interface ManagementClientOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes to ask for; default every scope the client was given. */
  scope?: string;
  fetch?: typeof fetch;
  /** The clock, ms; default Date.now. */
  now?: () => number;
}

export class ManagementApiError extends Error {
  override readonly name = "ManagementApiError";
  constructor(
    readonly status: number,
    /** The first error code of the envelope (`USER_NOT_FOUND`, `UNAUTHORIZED`…). */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ManagedUser {
  id: string;
  provided_id: string | null;
  email?: string | null;
  preferred_email?: string | null;
  username: string;
  first_name: string | null;
  last_name: string | null;
  is_suspended: boolean;
  picture: string | null;
  last_signed_in: string | null;
  created_on: string | null;
  identities: { type: string; identity: string }[];
}

export interface NewUser {
  username?: string;
  email?: string;
  emailVerified?: boolean;
  given_name?: string;
  family_name?: string;
  provided_id?: string;
}

export interface UserChange {
  given_name?: string;
  family_name?: string;
  picture?: string;
  is_suspended?: boolean;
  is_password_reset_requested?: boolean;
  provided_id?: string;
}

export interface Role {
  id: string;
  key: string;
  name: string;
  description?: string | null;
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

export interface PageQuery {
  pageSize?: number;
  nextToken?: string;
}

const TOKEN_MARGIN_MS = 60_000;

export function createManagementClient(options: ManagementClientOptions) {
  const fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
  const now = options.now ?? Date.now;
  const api = `${options.issuer}/api/v1`;
  let cached: { token: string; expiresAt: number } | null = null;
  let pending: Promise<string> | null = null;

  async function fetchToken(): Promise<string> {
    const started = now();
    const body = new URLSearchParams({ grant_type: "client_credentials" });
    if (options.scope) body.set("scope", options.scope);
    const res = await fetcher(`${options.issuer}/oauth2/token`, {
      method: "POST",
      headers: { Authorization: `Basic ${btoa(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`)}`, "Content-Type": "application/x-www-form-urlencoded" },
      body,
    });
    const json = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
    if (!res.ok || typeof json.access_token !== "string") {
      throw new ManagementApiError(res.status, json.error ?? "TOKEN_REQUEST_FAILED", json.error_description ?? `The token endpoint answered ${res.status}.`);
    }
    cached = { token: json.access_token, expiresAt: started + (json.expires_in ?? 60) * 1000 };
    return json.access_token;
  }

  function token(): Promise<string> {
    if (cached && cached.expiresAt - now() > TOKEN_MARGIN_MS) return Promise.resolve(cached.token);
    pending ??= fetchToken().finally(() => {
      pending = null;
    });
    return pending;
  }

  async function request<T>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
    const res = await fetcher(`${api}${path}`, {
      method,
      headers: { Authorization: `Bearer ${await token()}`, Accept: "application/json", ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (res.status === 401 && !retried) {
      cached = null;
      return request<T>(method, path, body, true);
    }
    const json = (await res.json().catch(() => ({}))) as { errors?: { code?: string; message?: string }[] } & Record<string, unknown>;
    if (!res.ok) {
      const first = json.errors?.[0];
      throw new ManagementApiError(res.status, first?.code ?? "HTTP_ERROR", first?.message ?? `${method} ${path} answered ${res.status}.`);
    }
    return json as T;
  }

  const q = (params: Record<string, string | number | undefined>) => {
    const s = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) s.set(k, String(v));
    const text = s.toString();
    return text ? `?${text}` : "";
  };
  const page = (p: PageQuery = {}) => ({ page_size: p.pageSize, next_token: p.nextToken });
  const id = encodeURIComponent;

  return {
    /** A raw call to `/api/v1{path}`, for endpoints without a typed method. */
    request,
    users: {
      async list(query: PageQuery & { email?: string; username?: string } = {}): Promise<Page<ManagedUser>> {
        const r = await request<{ users: ManagedUser[]; next_token?: string }>("GET", `/users${q({ ...page(query), email: query.email, username: query.username })}`);
        return { items: r.users ?? [], ...(r.next_token ? { nextToken: r.next_token } : {}) };
      },
      get: (userId: string) => request<ManagedUser>("GET", `/user${q({ id: userId })}`),
      async create(input: NewUser): Promise<{ id: string }> {
        const identities: unknown[] = [];
        if (input.email) identities.push({ type: "email", is_verified: input.emailVerified === true, details: { email: input.email } });
        if (input.username) identities.push({ type: "username", details: { username: input.username } });
        const profile = { ...(input.given_name ? { given_name: input.given_name } : {}), ...(input.family_name ? { family_name: input.family_name } : {}) };
        const r = await request<{ id: string }>("POST", "/user", { profile, identities, ...(input.provided_id ? { provided_id: input.provided_id } : {}) });
        return { id: r.id };
      },
      update: (userId: string, change: UserChange) => request<Record<string, unknown>>("PATCH", `/user${q({ id: userId })}`, change),
      async delete(userId: string): Promise<void> {
        await request("DELETE", `/user${q({ id: userId })}`);
      },
      /** The user's next refresh carries current claims (roles, permissions, flags). */
      async refreshClaims(userId: string): Promise<void> {
        await request("POST", `/users/${id(userId)}/refresh_claims`);
      },
      async roles(userId: string, query: PageQuery = {}): Promise<Page<Role>> {
        const r = await request<{ roles: Role[]; next_token?: string }>("GET", `/users/${id(userId)}/roles${q(page(query))}`);
        return { items: r.roles ?? [], ...(r.next_token ? { nextToken: r.next_token } : {}) };
      },
      async addRole(userId: string, roleId: string): Promise<void> {
        await request("POST", `/users/${id(userId)}/roles`, { role_id: roleId });
      },
      async removeRole(userId: string, roleId: string): Promise<void> {
        await request("DELETE", `/users/${id(userId)}/roles/${id(roleId)}`);
      },
    },
    roles: {
      async list(query: PageQuery = {}): Promise<Page<Role>> {
        const r = await request<{ roles: Role[]; next_token?: string }>("GET", `/roles${q(page(query))}`);
        return { items: r.roles ?? [], ...(r.next_token ? { nextToken: r.next_token } : {}) };
      },
      async create(input: { key: string; name: string; description?: string }): Promise<{ id: string }> {
        const r = await request<{ role: { id: string } }>("POST", "/roles", input);
        return { id: r.role.id };
      },
      get: async (roleId: string): Promise<Role> => (await request<{ role: Role }>("GET", `/roles/${id(roleId)}`)).role,
      async delete(roleId: string): Promise<void> {
        await request("DELETE", `/roles/${id(roleId)}`);
      },
    },
  };
}

export type ManagementClient = ReturnType<typeof createManagementClient>;
