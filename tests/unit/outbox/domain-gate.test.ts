import { describe, expect, it } from 'vitest';
import { DomainGate } from '../../../server/outbox/domain-gate.js';
import type { PolitenessPolicy } from '../../../server/outbox/outbox.js';

/** A clock that only moves when the gate sleeps: every wait is recorded and passes at once. */
class FakeTime {
  current = 1_000_000;
  readonly sleeps: number[] = [];
  readonly now = (): number => this.current;
  readonly sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.current += ms;
  };
}

interface Deferred {
  promise: Promise<string>;
  resolve: (value: string) => void;
  reject: (error: Error) => void;
}

function deferred(): Deferred {
  let resolve!: (value: string) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued promise callback run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/**
 * Sends whose end the test decides. `open` counts connections as the receiving server would: from
 * the moment the gate starts a send until the test lets it finish.
 */
class Sends {
  open = 0;
  most = 0;
  readonly started: string[] = [];
  private readonly pending = new Map<string, Deferred>();

  send(name: string): () => Promise<string> {
    return () => {
      this.started.push(name);
      this.open += 1;
      this.most = Math.max(this.most, this.open);
      const d = deferred();
      this.pending.set(name, d);
      return d.promise;
    };
  }

  finish(name: string): void {
    this.open -= 1;
    this.pending.get(name)!.resolve(`250 ${name}`);
  }

  fail(name: string): void {
    this.open -= 1;
    this.pending.get(name)!.reject(new Error(`421 ${name}`));
  }
}

const TWO_AT_A_TIME_NO_PACING: PolitenessPolicy = { connectionsPerDomain: 2, messagesPerSecond: 0 };

describe('DomainGate', () => {
  it('starts the first message to a domain at once, without waiting', async () => {
    const time = new FakeTime();
    const gate = new DomainGate({ connectionsPerDomain: 2, messagesPerSecond: 1 }, time.now, time.sleep);
    await expect(gate.run('example.org', async () => 'ok')).resolves.toBe('ok');
    expect(time.sleeps).toEqual([]);
  });

  it('spaces the starts to one domain by 1 / messagesPerSecond', async () => {
    const time = new FakeTime();
    const gate = new DomainGate({ connectionsPerDomain: 2, messagesPerSecond: 5 }, time.now, time.sleep);
    const startedAt: number[] = [];
    const send = async () => {
      startedAt.push(time.now());
      return 'ok';
    };
    await Promise.all([gate.run('example.org', send), gate.run('example.org', send)]);
    await gate.run('example.org', send);
    const t0 = startedAt[0]!;
    expect(startedAt.map((t) => t - t0)).toEqual([0, 200, 400]);
  });

  it('does not make a message wait when the last one to its domain started long enough ago', async () => {
    const time = new FakeTime();
    const gate = new DomainGate({ connectionsPerDomain: 2, messagesPerSecond: 1 }, time.now, time.sleep);
    await gate.run('example.org', async () => 'first');
    time.current += 1_500;
    await gate.run('example.org', async () => 'second');
    expect(time.sleeps).toEqual([]);
  });

  it('paces each domain on its own: a busy domain does not delay another', async () => {
    const time = new FakeTime();
    const gate = new DomainGate({ connectionsPerDomain: 2, messagesPerSecond: 1 }, time.now, time.sleep);
    const started: string[] = [];
    const send = (name: string) => async () => {
      started.push(name);
      return name;
    };
    await Promise.all([
      gate.run('busy.example', send('busy-1')),
      gate.run('busy.example', send('busy-2')),
      gate.run('quiet.example', send('quiet-1')),
    ]);
    // Only the second message to the busy domain waited (a second); the quiet domain's went at once.
    expect(time.sleeps).toEqual([1_000]);
    expect(started).toEqual(['busy-1', 'quiet-1', 'busy-2']);
  });

  it('keeps at most connectionsPerDomain sends to one domain in flight, starting the next as one ends', async () => {
    const time = new FakeTime();
    const gate = new DomainGate(TWO_AT_A_TIME_NO_PACING, time.now, time.sleep);
    const sends = new Sends();
    const runs = ['a', 'b', 'c', 'd'].map((name) => gate.run('example.org', sends.send(name)));
    await settle();
    expect(sends.started).toEqual(['a', 'b']);

    sends.finish('a');
    await settle();
    expect(sends.started).toEqual(['a', 'b', 'c']);

    sends.finish('b');
    sends.finish('c');
    await settle();
    expect(sends.started).toEqual(['a', 'b', 'c', 'd']);
    sends.finish('d');
    await expect(Promise.all(runs)).resolves.toEqual(['250 a', '250 b', '250 c', '250 d']);
    expect(sends.most).toBe(2);
  });

  it('never lets a newcomer take the connection that an ending send hands to a waiting one', async () => {
    // The worker's next claim can call run() in the very turn a send ends (its database calls
    // resolve in between). Try every place in the queue of callbacks such a newcomer can land.
    for (let delay = 0; delay < 12; delay++) {
      const time = new FakeTime();
      const gate = new DomainGate(TWO_AT_A_TIME_NO_PACING, time.now, time.sleep);
      const sends = new Sends();
      const runs = ['a', 'b', 'waiting'].map((name) => gate.run('example.org', sends.send(name)));
      await settle();
      expect(sends.started).toEqual(['a', 'b']);

      sends.finish('a');
      let hops = Promise.resolve();
      for (let i = 0; i < delay; i++) hops = hops.then(() => undefined);
      const newcomer = hops.then(() => gate.run('example.org', sends.send('newcomer')));
      await settle();
      expect(sends.most, `a newcomer arriving after ${delay} callbacks`).toBe(2);
      expect(sends.open).toBe(2);

      for (const name of ['b', 'waiting', 'newcomer']) {
        if (sends.started.includes(name)) sends.finish(name);
        await settle();
      }
      await Promise.all([...runs, newcomer]);
      expect(sends.most).toBe(2);
    }
  });

  it('frees the connection of a send that failed and passes the error on', async () => {
    const time = new FakeTime();
    const gate = new DomainGate({ connectionsPerDomain: 1, messagesPerSecond: 0 }, time.now, time.sleep);
    const sends = new Sends();
    const first = gate.run('example.org', sends.send('first'));
    const second = gate.run('example.org', sends.send('second'));
    await settle();
    sends.fail('first');
    await expect(first).rejects.toThrow('421 first');
    await settle();
    expect(sends.started).toEqual(['first', 'second']);
    sends.finish('second');
    await expect(second).resolves.toBe('250 second');
    expect(gate.saturated()).toEqual([]);
  });

  it('names the domains whose connections are all taken, so the claim leaves their mail queued', async () => {
    const time = new FakeTime();
    const gate = new DomainGate(TWO_AT_A_TIME_NO_PACING, time.now, time.sleep);
    const sends = new Sends();
    expect(gate.saturated()).toEqual([]);

    const busy = [gate.run('busy.example', sends.send('b1')), gate.run('busy.example', sends.send('b2'))];
    const half = gate.run('half.example', sends.send('h1'));
    await settle();
    expect(gate.saturated()).toEqual(['busy.example']);

    sends.finish('b1');
    await settle();
    expect(gate.saturated()).toEqual([]);

    // Messages waiting for a connection count too: one in flight and one waiting fill two.
    const more = [gate.run('half.example', sends.send('h2')), gate.run('half.example', sends.send('h3'))];
    await settle();
    expect(gate.saturated()).toEqual(['half.example']);

    for (const name of ['b2', 'h1', 'h2', 'h3']) {
      sends.finish(name);
      await settle();
    }
    await Promise.all([...busy, half, ...more]);
    expect(gate.saturated()).toEqual([]);
  });

  it('does not report a domain as busy while it only waits for its next start time', async () => {
    let now = 0;
    const waits: (() => void)[] = [];
    const gate = new DomainGate(
      { connectionsPerDomain: 2, messagesPerSecond: 1 },
      () => now,
      () => new Promise<void>((resolve) => waits.push(resolve)),
    );
    await gate.run('example.org', async () => 'first');
    expect(gate.saturated()).toEqual([]);
    const second = gate.run('example.org', async () => 'second');
    await settle();
    expect(waits).toHaveLength(1);
    expect(gate.saturated()).toEqual([]);
    now = 1_000;
    waits[0]!();
    await expect(second).resolves.toBe('second');
  });

  it('does not pace at all when messagesPerSecond is 0', async () => {
    const time = new FakeTime();
    const gate = new DomainGate({ connectionsPerDomain: 3, messagesPerSecond: 0 }, time.now, time.sleep);
    await Promise.all([1, 2, 3].map(() => gate.run('example.org', async () => 'ok')));
    await gate.run('example.org', async () => 'ok');
    expect(time.sleeps).toEqual([]);
  });

  it('with a shared pace, starts when the deployment reserved and leaves out domains reserved far ahead', async () => {
    const time = new FakeTime();
    // Another worker has reserved busy.example's starts until 3 s from now; this one's come after them.
    const next = new Map([['busy.example', time.current + 3_000]]);
    const calls: { counts: Record<string, number>; spacing: number }[] = [];
    const shared = {
      reserveStarts: async (counts: ReadonlyMap<string, number>, nowMs: number, spacingMs: number) => {
        calls.push({ counts: Object.fromEntries(counts), spacing: spacingMs });
        const firsts = new Map<string, number>();
        for (const [domain, count] of counts) {
          const first = Math.max(nowMs, next.get(domain) ?? 0);
          next.set(domain, first + count * spacingMs);
          firsts.set(domain, first);
        }
        return firsts;
      },
      reservedBeyond: async (afterMs: number) => [...next].filter(([, at]) => at > afterMs).map(([d]) => d),
    };
    const gate = new DomainGate(
      { connectionsPerDomain: 2, messagesPerSecond: 3 },
      time.now,
      time.sleep,
      shared,
    );
    // Two connections at a third of a second (rounded up to 334 ms): 668 ms of reservations is its horizon.
    expect(await gate.excluded()).toEqual(['busy.example']);
    const started: [string, number][] = [];
    const send = (name: string) => async () => {
      started.push([name, time.now()]);
      return name;
    };
    const t0 = time.current;
    // Three sends in one turn of the event loop: one reservation for all, two starts for busy.example.
    await Promise.all([
      gate.run('busy.example', send('busy-1')),
      gate.run('busy.example', send('busy-2')),
      gate.run('quiet.example', send('quiet-1')),
    ]);
    expect(calls).toEqual([{ counts: { 'busy.example': 2, 'quiet.example': 1 }, spacing: 334 }]);
    // The fake clock moves as each wait passes: busy-1 waits until +3 s, busy-2 until +3 334 ms, quiet-1 not at all.
    expect(time.sleeps).toEqual([3_000, 334]);
    expect(time.current - t0).toBe(3_334);
    expect(started.map(([name]) => name).sort()).toEqual(['busy-1', 'busy-2', 'quiet-1']);
  });
});
