import type { BounceHandler } from './bounce-handler.js';
import type { InboundHandler } from './bounce-server.js';
import type { ReplyReceiver } from './delivery-reply-receiver.js';

/**
 * The one inbound listener's routing: bounces to VERP return paths (bounces+m…@) go to the bounce
 * handler, replies to deliveries' reply addresses (replies+d…@) to the reply receiver; anything else is
 * refused at RCPT. Each handler reads only the envelope addresses that are its own.
 */
export function inboundMail(bounces: BounceHandler, replies: ReplyReceiver | undefined): InboundHandler {
  return {
    accepts: (address) => bounces.accepts(address) || (replies?.accepts(address) ?? false),
    async handle(envelopeTo, raw) {
      await bounces.handle(envelopeTo, raw);
      if (replies) await replies.handle(envelopeTo, raw);
    },
  };
}
