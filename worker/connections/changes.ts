/**
 * Creating, changing and deleting connections, for both faces that configure them (the
 * operator API and the management API): each change is one D1 batch with its event, and
 * clears this isolate's cached list so the login page shows it at once.
 */
import { isDevelopment, type Env } from "../env";
import { eventStatement, type EventSource } from "../events/log";
import { deleteConnectionIdentitiesStatement } from "../identity/identities";
import { changedConnection, connectionFromInput } from "./input";
import { clearConnectionCache, deleteConnectionStatements, insertConnectionStatement, isNameTaken, updateConnectionStatement, type Connection } from "./store";

export class ConnectionNameTakenError extends Error {
  constructor() {
    super("Another connection of this app has this name.");
  }
}

async function write(env: Env, appId: string, statements: D1PreparedStatement[]): Promise<void> {
  try {
    await env.DB.batch(statements);
  } catch (err) {
    if (isNameTaken(err)) throw new ConnectionNameTakenError();
    throw err;
  } finally {
    clearConnectionCache(appId);
  }
}

function eventData(c: Connection) {
  return { connection: { id: c.id, name: c.name, strategy: c.strategy, enabled: c.enabled } };
}

export async function createConnection(env: Env, appId: string, body: Record<string, unknown>, source: EventSource): Promise<Connection> {
  const connection = await connectionFromInput(env, appId, body, isDevelopment(env));
  await write(env, appId, [insertConnectionStatement(env, connection), eventStatement(env, appId, "connection.created", null, eventData(connection), Date.now(), source)]);
  return connection;
}

export async function updateConnection(env: Env, current: Connection, body: Record<string, unknown>, source: EventSource): Promise<Connection> {
  const next = await changedConnection(env, current, body, isDevelopment(env));
  await write(env, current.appId, [updateConnectionStatement(env, next), eventStatement(env, current.appId, "connection.updated", null, eventData(next), Date.now(), source)]);
  return next;
}

/** The connection, its sign-ins under way and every user's identity at it. */
export async function deleteConnection(env: Env, connection: Connection, source: EventSource): Promise<void> {
  await write(env, connection.appId, [
    ...deleteConnectionStatements(env, connection.appId, connection.id),
    deleteConnectionIdentitiesStatement(env, connection.appId, connection.id),
    eventStatement(env, connection.appId, "connection.deleted", null, eventData(connection), Date.now(), source),
  ]);
}
