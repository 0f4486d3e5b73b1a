import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { publicDir } from '../../server/lib/paths.js';

/** What public/verify-check.js exports: the browser's check, typed here for tests that run it in Node. */
export interface BrowserCheck {
  leafData(leaf: Record<string, string>): Uint8Array;
  leafHash(leaf: Record<string, string>): Promise<Uint8Array>;
  toHex(bytes: Uint8Array): string;
  parseReceipt(text: string): {
    receipt?: {
      letter: string;
      round: number;
      treeSize: number;
      root: string;
      leafIndex: number;
      leaf: Record<string, string>;
      proof: string[];
    };
    problem?: 'tooLarge' | 'json' | 'version' | 'field';
    field?: string;
  };
  receiptFromFragment(hash: string): string | undefined;
  checkReceipt(
    receipt: unknown,
    published: { root: string; treeSize: number },
  ): Promise<{
    valid: boolean;
    reason?: 'root' | 'size' | 'path';
    leafData: string;
    leafHash: string;
    steps: { sibling: string; side: 'left' | 'right'; hash: string }[];
    reached: string;
  }>;
  checkConsistency(
    earlier: { treeSize: number; root: string },
    later: { treeSize: number; root: string },
    proof: string[],
  ): Promise<{ valid: boolean }>;
}

/**
 * The page's own check, loaded as the browser loads it (an ES module using WebCrypto and TextEncoder,
 * which Node has too): the unit tests hold it to the platform's results without starting Chromium.
 */
export async function loadBrowserCheck(): Promise<BrowserCheck> {
  return (await import(pathToFileURL(path.join(publicDir, 'verify-check.js')).href)) as BrowserCheck;
}
