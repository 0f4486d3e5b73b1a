/** The sites allowed to frame a letter's embed: pure rules, no I/O. */

/** At most this many sites; a campaign embeds its form on a handful of its own. */
export const MAX_EMBED_ORIGINS = 20;
/** The field's longest accepted text (20 origins of up to ~190 characters each). */
export const MAX_EMBED_ORIGINS_INPUT = 4_000;

/** Why a list of sites was refused: an i18n key under embed.origins.errors, and the entry at fault. */
export interface OriginsRefusal {
  key: 'tooLong' | 'tooMany' | 'notHttps' | 'notOrigin' | 'wildcard' | 'invalid';
  value: string;
}

/**
 * The organizer's list (one site per line; spaces and commas also separate) as normalised origins
 * (`https://example.org`, `https://example.org:8443`), deduplicated in their order; empty: any site may
 * frame the embed. Only https origins, written as an origin (no path, query, fragment or credentials):
 * the list goes into a Content-Security-Policy header, so nothing else may reach it.
 */
export function parseEmbedOrigins(
  input: string,
): { ok: true; origins: string[] } | { ok: false; refusal: OriginsRefusal } {
  if (input.length > MAX_EMBED_ORIGINS_INPUT) return { ok: false, refusal: { key: 'tooLong', value: '' } };
  const entries = input.split(/[\s,]+/).filter((entry) => entry !== '');
  const origins: string[] = [];
  for (const entry of entries) {
    if (entry.includes('*')) return { ok: false, refusal: { key: 'wildcard', value: entry } };
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      return { ok: false, refusal: { key: 'invalid', value: entry } };
    }
    if (url.protocol !== 'https:') return { ok: false, refusal: { key: 'notHttps', value: entry } };
    // An origin only: "https://example.org/" is one, "https://example.org/page" and "https://u@x" are not.
    if (
      url.username !== '' ||
      url.password !== '' ||
      url.pathname !== '/' ||
      url.search !== '' ||
      url.hash !== '' ||
      entry.endsWith('?') ||
      entry.endsWith('#') ||
      !/^[a-z0-9.-]+$/i.test(url.hostname)
    )
      return { ok: false, refusal: { key: 'notOrigin', value: entry } };
    if (!origins.includes(url.origin)) origins.push(url.origin);
  }
  if (origins.length > MAX_EMBED_ORIGINS)
    return { ok: false, refusal: { key: 'tooMany', value: String(origins.length) } };
  return { ok: true, origins };
}
