/**
 * The event log, read side: Kinde's `GET /events/{id}` and `GET /event_types`, and Latch's
 * `GET /events?type=&user_id=` (newest first, paged).
 */
import { Hono } from "hono";
import { EVENT_TYPES, isEventType } from "../events/log";
import { eventById, listEvents, type EventRow } from "../events/read";
import { ApiError } from "../http/errors";
import { bad, need, ok, type ManageEnv } from "./context";
import { pageOf, parsePage } from "./paging";

export const eventRoutes = new Hono<ManageEnv>();

/** Kinde's event shape; `timestamp` in seconds as in get_event_response. */
function eventView(row: EventRow) {
  return {
    event_id: row.id,
    type: row.type,
    source: row.source,
    timestamp: Math.floor(row.created_at / 1000),
    user_id: row.user_id,
    data: JSON.parse(row.data) as Record<string, unknown>,
  };
}

eventRoutes.get("/events", need("read:events"), async (c) => {
  const page = parsePage(c.req.query("page_size"), c.req.query("next_token"));
  const type = c.req.query("type") || undefined;
  if (type !== undefined && !isEventType(type)) bad(`Unknown event type: ${type}.`, "INVALID_EVENT_TYPE");
  const results = await listEvents(c.env, c.var.app.id, { type, userId: c.req.query("user_id") || undefined, after: page.after, limit: page.size + 1 });
  const { items, nextToken } = pageOf(results, page.size);
  return ok(c, { events: items.map(eventView), ...(nextToken ? { next_token: nextToken } : {}) });
});

eventRoutes.get("/events/:eventId", need("read:events"), async (c) => {
  const id = c.req.param("eventId");
  const row = await eventById(c.env, c.var.app.id, id);
  if (!row) throw new ApiError("EVENT_NOT_FOUND", `No event with id ${id}.`);
  return ok(c, { event: eventView(row) });
});

eventRoutes.get("/event_types", need("read:event_types"), (c) =>
  ok(c, {
    event_types: Object.entries(EVENT_TYPES).map(([code, name]) => ({ id: code, code, name, origin: "latch", schema: {} })),
  }),
);
