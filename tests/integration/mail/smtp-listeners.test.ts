import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BounceHandler } from '../../../server/deliveries/bounce-handler.js';
import { startBounceServer } from '../../../server/deliveries/bounce-server.js';
import { createLogger } from '../../../server/lib/logger.js';
import { startCaptureServer } from '../../../server/mail/capture-server.js';

/** Opens an SMTP session, starts a transaction, then resets the connection, as a killed client would. */
async function resetMidTransaction(port: number, to: string): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  const replies = async (count: number) => {
    const deadline = Date.now() + 5_000;
    while ((received.match(/^\d{3} /gm) ?? []).length < count) {
      if (Date.now() > deadline) throw new Error(`no reply from the server: ${received}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  await replies(1);
  socket.write('EHLO client.example\r\n');
  await replies(2);
  socket.write('MAIL FROM:<sender@client.example>\r\n');
  await replies(3);
  socket.write(`RCPT TO:<${to}>\r\n`);
  await replies(4);
  socket.write('DATA\r\n');
  await replies(5);
  socket.write('Subject: half a message\r\n\r\nand then the sender died');
  await new Promise((resolve) => setTimeout(resolve, 50));
  socket.resetAndDestroy();
  await new Promise((resolve) => socket.once('close', resolve));
  // Let the server notice.
  await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('the SMTP listeners of the platform', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  /** Errors nobody handled: in production each one would have ended the process. */
  const uncaught: Error[] = [];
  const onUncaught = (error: Error) => uncaught.push(error);
  beforeEach(() => {
    uncaught.length = 0;
    process.on('uncaughtException', onUncaught);
  });
  afterEach(async () => {
    process.off('uncaughtException', onUncaught);
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('keeps the capture server running when clients reset their connections mid-message', async () => {
    const mailbox = mkdtempSync(path.join(os.tmpdir(), 'undersigned-mailbox-'));
    cleanups.push(() => rmSync(mailbox, { recursive: true, force: true }));
    const capture = await startCaptureServer(mailbox, createLogger('silent'));
    cleanups.push(() => capture.close());

    for (let i = 0; i < 3; i++) await resetMidTransaction(capture.port, 'office@ministry.example');
    expect(uncaught.map((e) => e.message)).toEqual([]);

    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: capture.port, ignoreTLS: true });
    cleanups.push(() => transport.close());
    const info = await transport.sendMail({
      from: 'letters@undersigned.example.org',
      to: 'office@ministry.example',
      subject: 'Still here',
      text: 'The capture server survived.',
    });
    expect(info.response).toMatch(/^250\b/);
    expect(readdirSync(mailbox).filter((f) => f.endsWith('.eml'))).toHaveLength(1);
  });

  it('keeps the bounce receiver running when clients reset their connections mid-message', async () => {
    const handled: string[][] = [];
    const handler = {
      accepts: (address: string) => address.startsWith('bounces+'),
      handle: async (envelopeTo: readonly string[]) => {
        handled.push([...envelopeTo]);
        return [];
      },
    } as unknown as BounceHandler;
    const bounces = await startBounceServer(handler, '127.0.0.1', 0, createLogger('silent'));
    cleanups.push(() => bounces.close());

    for (let i = 0; i < 3; i++) await resetMidTransaction(bounces.port, 'bounces+1@undersigned.example.org');
    expect(uncaught.map((e) => e.message)).toEqual([]);

    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: bounces.port, ignoreTLS: true });
    cleanups.push(() => transport.close());
    await transport.sendMail({
      from: '<>',
      to: 'bounces+2@undersigned.example.org',
      subject: 'Undelivered Mail Returned to Sender',
      text: 'A report.',
    });
    expect(handled).toEqual([['bounces+2@undersigned.example.org']]);
  });
});
