import { readdirSync, statSync, type Dirent } from 'node:fs';
import path from 'node:path';
import type { ResvgRenderOptions } from '@resvg/resvg-js';
import { LATIN_FAMILY } from './card.js';

/**
 * The font files a share card is drawn with: DejaVu Sans for Latin and Cyrillic, NanumGothic for Hangul
 * (Debian's fonts-dejavu-core and fonts-nanum), regular and bold. Found by name under the usual font
 * folders wherever a distribution puts them; when one is missing the renderer also loads the system's
 * fonts, so a card is still drawn (in whatever font has the letters) rather than blank.
 */
export const CARD_FONT_FILES = [
  'DejaVuSans.ttf',
  'DejaVuSans-Bold.ttf',
  'NanumGothic.ttf',
  'NanumGothicBold.ttf',
] as const;

/** Where fonts live on Linux (Debian, Fedora, Arch, Alpine) and macOS; searched a few levels deep. */
export const FONT_ROOTS = ['/usr/share/fonts', '/usr/local/share/fonts', '/Library/Fonts'] as const;
const MAX_DEPTH = 3;

/** The fonts found, and whether any of CARD_FONT_FILES is missing (the system's fonts are loaded then). */
export interface CardFonts {
  files: string[];
  missing: string[];
}

/** Finds CARD_FONT_FILES under `roots` (the first of each name found). */
export function findCardFonts(roots: readonly string[] = FONT_ROOTS): CardFonts {
  const wanted = new Set<string>(CARD_FONT_FILES);
  const found = new Map<string, string>();
  const visit = (dir: string, depth: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (found.size === wanted.size) return;
      const file = path.join(dir, entry.name);
      if (wanted.has(entry.name) && !found.has(entry.name)) {
        found.set(entry.name, file);
        continue;
      }
      if (depth >= MAX_DEPTH) continue;
      if (entry.isDirectory()) visit(file, depth + 1);
      else if (entry.isSymbolicLink()) {
        try {
          if (statSync(file).isDirectory()) visit(file, depth + 1);
        } catch {
          // A broken link: not where our fonts are.
        }
      }
    }
  };
  for (const root of roots) visit(root, 0);
  return {
    files: CARD_FONT_FILES.flatMap((name) => found.get(name) ?? []),
    missing: CARD_FONT_FILES.filter((name) => !found.has(name)),
  };
}

/** The renderer's options for a card drawn with `fonts`. */
export function cardRenderOptions(fonts: CardFonts): ResvgRenderOptions {
  return {
    font: {
      fontFiles: fonts.files,
      // Loading the system's fonts costs more than drawing the card: only when ours are not all there.
      loadSystemFonts: fonts.missing.length > 0,
      defaultFontFamily: fonts.files.length > 0 ? LATIN_FAMILY : '',
      sansSerifFamily: LATIN_FAMILY,
    },
    fitTo: { mode: 'original' },
    logLevel: 'off',
  };
}
