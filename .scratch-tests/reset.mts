import net from 'node:net';
import { startCaptureServer } from '../server/mail/capture-server.ts';
import { createLogger } from '../server/lib/logger.ts';
const cap = await startCaptureServer('/tmp/cap-mailbox', createLogger('silent'));
async function resetMidTransaction() {
  const s = net.connect(cap.port, '127.0.0.1');
  await new Promise(r => s.once('data', r));
  s.write('EHLO x\r\n'); await new Promise(r => setTimeout(r, 50));
  s.write('MAIL FROM:<a@b.example>\r\n'); await new Promise(r => setTimeout(r, 50));
  s.resetAndDestroy();
  await new Promise(r => setTimeout(r, 100));
}
for (let i = 0; i < 3; i++) { await resetMidTransaction(); console.log('survived reset', i + 1); }
await cap.close();
