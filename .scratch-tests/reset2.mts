import net from 'node:net';
import { startCaptureServer } from '../server/mail/capture-server.ts';
import { createLogger } from '../server/lib/logger.ts';
const cap = await startCaptureServer('/tmp/cap-mailbox', createLogger('silent'));
process.on('uncaughtException', (e) => console.log('UNCAUGHT', e.message));
async function reset(stage: number) {
  const s = net.connect(cap.port, '127.0.0.1');
  await new Promise(r => s.once('data', r));
  const cmds = ['EHLO x\r\n','MAIL FROM:<a@b.example>\r\n','RCPT TO:<c@d.example>\r\n','DATA\r\n','Subject: x\r\n\r\nbody'];
  for (const c of cmds.slice(0, stage)) { s.write(c); await new Promise(r => setTimeout(r, 50)); }
  s.resetAndDestroy();
  await new Promise(r => setTimeout(r, 100));
}
for (const stage of [2,2,3,3,5,5]) { await reset(stage); console.log('after reset at stage', stage); }
await cap.close();
