import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../server/config.js';
import { SmtpSink } from '../support/smtp-sink.js';
import { createTestPlatform } from '../support/test-platform.js';

/** Whether something listens on a loopback port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('createTestPlatform with a configuration the platform refuses', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('throws the ConfigError and leaves no SMTP sink listening and no data folder behind', async () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'undersigned-refused-'));
    try {
      vi.spyOn(os, 'tmpdir').mockReturnValue(parent);
      const sinks: SmtpSink[] = [];
      const start = SmtpSink.prototype.start;
      vi.spyOn(SmtpSink.prototype, 'start').mockImplementation(function (this: SmtpSink) {
        sinks.push(this);
        return start.call(this);
      });
      const refused = createTestPlatform({
        relay: true,
        env: {
          DKIM_DOMAIN: 'unrelated.example.net',
          DKIM_SELECTOR: 's1',
          DKIM_PRIVATE_KEY_FILE: path.join(parent, 'dkim.pem'),
        },
      });
      await expect(refused).rejects.toBeInstanceOf(ConfigError);
      expect(sinks).toHaveLength(1);
      expect(sinks[0]!.port).toBeGreaterThan(0);
      expect(await listening(sinks[0]!.port)).toBe(false);
      expect(readdirSync(parent)).toEqual([]);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
