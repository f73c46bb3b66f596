/**
 * Sign-in identifiers (usernames and emails) as one namespace per app, pure.
 *
 * A user keeps the display form of both; uniqueness and lookup use their *key*:
 * NFKC, then full case folding, then NFKC again (so `Demo` = `demo`, NFC `josé` = NFD
 * `josé`, `ß` = `ss`), then a confusable skeleton that maps the Cyrillic and Greek letters
 * that look like Latin ones to those (so `mаllory` with a Cyrillic `а` = `mallory`),
 * after UTS #39's skeleton idea restricted to the lookalikes that matter for Latin names.
 * Usernames and emails share the key function, so a username can never equal someone
 * else's email either (SPEC §4: the hosted login takes either).
 */

/** Cyrillic and Greek letters (after case folding) that render like a Latin letter. */
const CONFUSABLE: Record<string, string> = {
  // Cyrillic
  "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j", "к": "k", "ӏ": "l", "м": "m",
  "н": "h", "о": "o", "р": "p", "с": "c", "ѕ": "s", "т": "t", "у": "y", "х": "x", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y",
  // Greek
  "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c",
  // Latin lookalikes outside ASCII
  "ı": "i", "ɡ": "g", "ɑ": "a", "ℓ": "l",
};

/** Full case folding, approximated by lower(upper(lower(s))): ß → ss, ǅ → ǆ, ﬁ → fi. */
function fold(s: string): string {
  return s.toLowerCase().toUpperCase().toLowerCase();
}

/** The key of a username or email for uniqueness and lookup. */
export function identifierKey(value: string): string {
  const folded = fold(value.normalize("NFKC").trim()).normalize("NFKC");
  let out = "";
  for (const ch of folded) out += CONFUSABLE[ch] ?? ch;
  return out;
}

/**
 * An email as stored: trimmed, NFC, lower-cased. Domains are case-insensitive (RFC 5321
 * §2.4); local parts may in theory differ by case, but no provider that matters treats
 * them so, and one stored form keeps one address from showing two ways.
 */
export function displayEmail(email: string): string {
  return email.trim().normalize("NFC").toLowerCase();
}
