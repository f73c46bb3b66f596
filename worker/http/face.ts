/** Which wire format a path belongs to, for errors thrown before or outside a face. */
import type { Face } from "./errors";

const KINVEY = /^\/(appdata|user|rpc|group)(\/|$)/;
const API = /^\/(api|admin)(\/|$)/;

export function faceOf(path: string): Face {
  if (KINVEY.test(path)) return "kinvey";
  if (API.test(path)) return "api";
  return "oauth";
}
