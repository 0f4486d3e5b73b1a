/**
 * The benchmark's SMTP sink, in a process of its own (as a relay is another machine): it accepts every
 * message and keeps nothing, and tells its parent its port and, on request, how many it received.
 */
import type { Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';

let received = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['AUTH', 'STARTTLS'],
  logger: false,
  // No reverse DNS per connection: this sandbox has no resolver worth waiting for.
  disableReverseLookup: true,
  onData(stream, _session, callback) {
    stream.on('data', () => undefined);
    stream.on('end', () => {
      received += 1;
      callback();
    });
  },
});
server.on('error', () => undefined);
server.listen(0, '127.0.0.1', () => {
  // Replies are small writes: without TCP_NODELAY, delayed ACKs stall every exchange by ~40 ms.
  server.server.on('connection', (socket: Socket) => socket.setNoDelay(true));
  const address = server.server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('message', (message) => {
  if (message === 'count') process.send?.({ received });
  if (message === 'stop') server.close(() => process.exit(0));
});
