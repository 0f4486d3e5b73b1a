import type { ServerResponse } from 'node:http';

/**
 * Answers 303 See Other to a local path built by withLanguages (already encoded), with no body: every
 * browser follows it at once. Express's res.redirect would negotiate a "Redirecting to" page by Accept
 * (and Vary on it) that no one reads; this is the same answer on the signing lane and in the route.
 */
export function seeOther(res: ServerResponse, location: string): void {
  res.statusCode = 303;
  res.setHeader('Location', location);
  res.setHeader('Content-Length', '0');
  res.end();
}
