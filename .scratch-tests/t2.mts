import nodemailer from 'nodemailer';
import { SmtpSink } from '../tests/support/smtp-sink.ts';
const sink = await new SmtpSink().start();
const tr = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true });
for (let i = 0; i < 5; i++) {
  const t = Date.now();
  await tr.sendMail({ from: 'a@b.example', to: 'c@d.example', subject: 'x', text: 'y' });
  console.log('send', Date.now() - t);
}
const trp = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true, pool: true });
for (let i = 0; i < 5; i++) {
  const t = Date.now();
  await trp.sendMail({ from: 'a@b.example', to: 'c@d.example', subject: 'x', text: 'y' });
  console.log('pool send', Date.now() - t);
}
trp.close(); await sink.stop();
