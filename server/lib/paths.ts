import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root (the folder holding package.json), whether running from server/ via tsx or from dist/. */
function findProjectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

export const projectRoot = findProjectRoot();
export const viewsDir = path.join(projectRoot, 'views');
export const templatesDir = path.join(projectRoot, 'templates');
export const localesDir = path.join(projectRoot, 'locales');
export const publicDir = path.join(projectRoot, 'public');
export const seedsDir = path.join(projectRoot, 'seeds');
export const docsDir = path.join(projectRoot, 'docs');
