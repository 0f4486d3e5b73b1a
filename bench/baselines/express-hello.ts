/**
 * Baseline: an Express 5 hello-world in a process of its own, the least an Express response costs on
 * this machine. Tells its parent its port over IPC; stops on SIGTERM.
 */
import express from 'express';

const app = express();
app.get('/', (_req, res) => {
  res.send('hello');
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
