/**
 * A list of values bound to a D1 statement as ONE parameter: `col IN ${IN_LIST}` with
 * `listParam(values)`. D1 refuses a statement with more than 100 bound parameters, so a
 * placeholder per value (`IN (?, ?, …)`) fails at 100 values with a 500; a JSON array read
 * back with json_each costs one parameter whatever the length. Use this for every list of ids.
 */
export const IN_LIST = "IN (SELECT value FROM json_each(?))";

export function listParam(values: readonly (string | number)[]): string {
  return JSON.stringify(values);
}
