/**
 * One error type, `LatchError`, rendered once per wire format:
 * - Kinvey (§3):   {error, description, debug}
 * - OAuth (§4):    {error, error_description}
 * - Kinde / admin: {errors: [{code, message}]}
 * Shared code (body parsing, credentials) throws a `RequestError` with a neutral kind;
 * the face that served the request decides its name on the wire.
 */
export type Face = "kinvey" | "oauth" | "api";

export class LatchError extends Error {
  constructor(
    readonly face: Face,
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly debug = "",
  ) {
    super(message);
    this.name = code;
  }
}

/** A Kinvey error; see KINVEY_ERRORS for names, statuses and descriptions. */
export class KinveyError extends LatchError {
  constructor(name: KinveyErrorName, debug = "", description?: string) {
    const [status, defaultDescription] = KINVEY_ERRORS[name];
    super("kinvey", status, name, description ?? defaultDescription, {}, debug);
  }
}

/** An RFC 6749 / 6750 / 7009 error. */
export class OAuthError extends LatchError {
  constructor(code: OAuthErrorCode, description: string, status?: number, headers: Record<string, string> = {}) {
    super("oauth", status ?? OAUTH_STATUS[code], code, description, headers);
  }
}

/**
 * A management (Kinde-style) or operator API error: `{errors: [{code, message}]}` with the
 * status API_ERRORS gives its code. The message says what exactly was wrong. `status`
 * overrides it only where a malformed body names something missing, which is a 400
 * (manage/context.ts `bad`).
 */
export class ApiError extends LatchError {
  constructor(code: ApiErrorCode, message: string, headers: Record<string, string> = {}, status: number = API_ERRORS[code]) {
    super("api", status, code, message, headers);
  }
}

/** Every code the management and operator APIs answer, with its status. */
export const API_ERRORS = {
  INVALID_REQUEST: 400,
  INVALID_JSON: 400,
  INVALID_ENDPOINT: 400,
  INVALID_EVENT_TYPE: 400,
  INVALID_NEXT_TOKEN: 400,
  IDENTITY_TYPE_UNSUPPORTED: 400,
  ORGANIZATIONS_UNSUPPORTED: 400,
  HASHED_PASSWORD_UNSUPPORTED: 400,
  PERMISSION_NOT_FOUND: 404,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  ROUTE_NOT_FOUND: 404,
  APP_NOT_FOUND: 404,
  CLIENT_NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  PASSKEY_NOT_FOUND: 404,
  CONSENT_NOT_FOUND: 404,
  ROLE_NOT_FOUND: 404,
  FEATURE_FLAG_NOT_FOUND: 404,
  OVERRIDE_NOT_FOUND: 404,
  EVENT_NOT_FOUND: 404,
  WEBHOOK_NOT_FOUND: 404,
  CONNECTION_NOT_FOUND: 404,
  IDENTITY_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  USER_ALREADY_EXISTS: 409,
  SLUG_TAKEN: 409,
  DOMAIN_TAKEN: 409,
  ROLE_KEY_TAKEN: 409,
  PERMISSION_KEY_TAKEN: 409,
  FEATURE_FLAG_KEY_TAKEN: 409,
  CONNECTION_NAME_TAKEN: 409,
  IDENTITY_ALREADY_EXISTS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_ERROR: 500,
} as const satisfies Record<string, number>;
export type ApiErrorCode = keyof typeof API_ERRORS;

/** A problem with the request itself, found by shared code before any face looked at it. */
export type RequestErrorKind =
  | "malformed_body"
  | "incomplete_body"
  | "too_deep"
  | "body_too_large"
  | "unsupported_media_type"
  | "invalid_credentials"
  | "rate_limited"
  | "insecure_transport"
  | "method_not_allowed"
  | "unavailable";

export class RequestError extends Error {
  constructor(
    readonly kind: RequestErrorKind,
    message: string,
    readonly retryAfter?: number,
    /** For method_not_allowed: the methods the path answers (RFC 9110 §15.5.6 `Allow`). */
    readonly allow?: string[],
  ) {
    super(message);
  }
}

export const KINVEY_ERRORS = {
  InvalidCredentials: [401, "Invalid credentials. Please retry your request with correct credentials."],
  InsufficientCredentials: [401, "The credentials used to authenticate this request are not authorized to run this operation. Please retry your request with appropriate credentials."],
  EntityNotFound: [404, "This entity not found in the collection."],
  UserNotFound: [404, "This user does not exist for this app backend."],
  AppNotFound: [404, "This app backend not found."],
  UserAlreadyExists: [409, "This username is already taken. Please retry your request with a different username."],
  MissingQuery: [400, "The request is missing a query string."],
  InvalidQuerySyntax: [400, "The query string in the request has an invalid syntax."],
  JSONParseError: [400, "Unable to parse the JSON in the request."],
  BadRequest: [400, "Unable to understand request."],
  IncompleteRequestBody: [400, "The request body is either missing or incomplete."],
  FeatureUnavailable: [400, "Requested functionality is unavailable in this API version."],
  ResultSetSizeExceeded: [400, "Your query produced more than the maximum number of results. Please rewrite your query to be more selective."],
  RequestEntityTooLarge: [413, "The request body is too large."],
  UnsupportedMediaType: [415, "The request body must be JSON (Content-Type: application/json)."],
  MethodNotAllowed: [405, "This method is not allowed on this resource."],
  NotFound: [404, "The resource was not found."],
  TooManyRequests: [429, "Too many failed attempts. Please retry later."],
  KinveyInternalErrorRetry: [500, "The Kinvey server encountered an unexpected error. Please retry your request."],
} as const satisfies Record<string, readonly [number, string]>;
export type KinveyErrorName = keyof typeof KINVEY_ERRORS;

export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "invalid_token"
  | "insufficient_scope"
  | "access_denied"
  | "unsupported_response_type"
  | "login_required"
  | "server_error"
  | "temporarily_unavailable"
  | "not_found"
  | "method_not_allowed"
  | "slow_down"
  | "invalid_target"
  | "invalid_redirect_uri"
  | "invalid_client_metadata";

const OAUTH_STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  access_denied: 403,
  unsupported_response_type: 400,
  login_required: 400,
  server_error: 500,
  temporarily_unavailable: 503,
  not_found: 404,
  method_not_allowed: 405,
  slow_down: 429,
  invalid_target: 400,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
};

/** Translates a neutral RequestError into the face's own error. */
export function faceError(face: Face, err: RequestError): LatchError {
  const retry: Record<string, string> = err.retryAfter ? { "Retry-After": String(err.retryAfter) } : {};
  const allow: Record<string, string> = err.allow ? { Allow: err.allow.join(", ") } : {};
  switch (face) {
    case "kinvey": {
      const name: KinveyErrorName = {
        malformed_body: "JSONParseError",
        incomplete_body: "IncompleteRequestBody",
        too_deep: "BadRequest",
        insecure_transport: "BadRequest",
        method_not_allowed: "MethodNotAllowed",
        unavailable: "KinveyInternalErrorRetry",
        body_too_large: "RequestEntityTooLarge",
        unsupported_media_type: "UnsupportedMediaType",
        invalid_credentials: "InvalidCredentials",
        rate_limited: "TooManyRequests",
      }[err.kind] as KinveyErrorName;
      const e = new KinveyError(name, err.message);
      Object.assign(e.headers, retry, allow);
      return e;
    }
    case "oauth": {
      if (err.kind === "invalid_credentials") return new OAuthError("invalid_client", err.message);
      if (err.kind === "rate_limited") return new OAuthError("slow_down", err.message, 429, retry);
      if (err.kind === "unavailable") return new OAuthError("temporarily_unavailable", err.message, 503, retry);
      if (err.kind === "method_not_allowed") return new OAuthError("method_not_allowed", err.message, 405, allow);
      return new OAuthError("invalid_request", err.message, err.kind === "body_too_large" ? 413 : 400);
    }
    case "api": {
      const code = ({
        malformed_body: "INVALID_JSON",
        incomplete_body: "INVALID_REQUEST",
        too_deep: "INVALID_JSON",
        insecure_transport: "INVALID_REQUEST",
        method_not_allowed: "METHOD_NOT_ALLOWED",
        unavailable: "INTERNAL_ERROR",
        body_too_large: "PAYLOAD_TOO_LARGE",
        unsupported_media_type: "UNSUPPORTED_MEDIA_TYPE",
        invalid_credentials: "UNAUTHORIZED",
        rate_limited: "TOO_MANY_REQUESTS",
      } as const)[err.kind];
      return new ApiError(code, err.message, { ...retry, ...allow });
    }
  }
}

/** The wire body of an error in its face's format. */
export function errorBody(err: LatchError): unknown {
  switch (err.face) {
    case "kinvey":
      return { error: err.code, description: err.message, debug: err.debug };
    case "oauth":
      return { error: err.code, error_description: oauthErrorText(err.message) };
    case "api":
      return { errors: [{ code: err.code, message: err.message }] };
  }
}

/** The error to answer for an unexpected exception; its details stay in the log. */
export function internalError(face: Face): LatchError {
  switch (face) {
    case "kinvey":
      return new KinveyError("KinveyInternalErrorRetry");
    case "oauth":
      return new OAuthError("server_error", "The server encountered an unexpected error.");
    case "api":
      return new ApiError("INTERNAL_ERROR", "The server encountered an unexpected error.");
  }
}

/**
 * RFC 6749 §4.1.2.1 allows `error_description` only %x20-21 / %x23-5B / %x5D-7E. Messages
 * may quote request input (an unknown scope), so `"` becomes `'` and anything else outside
 * the set becomes `?`: no raw input (bidi overrides, control characters) ever reaches a client's
 * screen or log through it. Applied where the field is written: JSON bodies, redirects,
 * WWW-Authenticate.
 */
export function oauthErrorText(text: string): string {
  return text.replace(/"/g, "'").replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/gu, "?");
}
