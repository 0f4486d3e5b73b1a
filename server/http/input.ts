import type { Request } from 'express';
import { notFound } from '../lib/errors.js';

/** A named path parameter as a string; a route without it is a page that does not exist. */
export function pathParam(req: Request, name: string): string {
  const value = (req.params as Record<string, unknown>)[name];
  if (typeof value !== 'string' || value.length === 0) throw notFound();
  return value;
}
