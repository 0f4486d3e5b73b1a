import { execFileSync } from 'node:child_process';
import { threadId } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAt } from '../../../server/deliveries/pdf-renderer.js';
import { signedIn } from '../../support/accounts.js';
import { addRecipient, createDraft, postForm } from '../../support/admin-forms.js';
import { Visitor } from '../../support/http.js';
import { signAndConfirm } from '../../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const CHROMIUM = '/usr/bin/chromium';

/** The Chromium processes this test process started, directly or through Debian's wrapper script. */
function chromiumDescendants(): string[] {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((match) => match !== null)
    .map(([, pid, ppid, args]) => ({ pid: Number(pid), ppid: Number(ppid), args: args! }));
  const ours = new Set([process.pid]);
  // Parents are listed before their children in ps's order of process ids, but not always: repeat.
  for (let grown = true; grown;) {
    grown = false;
    for (const row of rows)
      if (ours.has(row.ppid) && !ours.has(row.pid)) {
        ours.add(row.pid);
        grown = true;
      }
  }
  return rows
    .filter((row) => row.pid !== process.pid && ours.has(row.pid) && /chrom/i.test(row.args))
    .map((row) => row.args);
}

describe.skipIf(!chromiumAt(CHROMIUM))(`a delivery's PDF (needs Chromium at ${CHROMIUM})`, () => {
  let t: TestPlatform;
  let webRenders = 0;
  let closed = false;
  let attachments: { contentType: string; content: Buffer }[] = [];

  beforeAll(async () => {
    t = await createTestPlatform({ pdf: true });
    expect(t.platform.pdf.available).toBe(true);
    // The web process's renderer (kept for the admin's PDF export): counts what it is asked to render.
    const render = t.platform.pdf.render.bind(t.platform.pdf);
    t.platform.pdf.render = (html: string) => {
      webRenders += 1;
      return render(html);
    };
    const { user, visitor } = await signedIn(t.app, t.platform, 'organizer');
    const recipientId = await addRecipient(t.platform.db, t.clock.now());
    const id = await createDraft(visitor, [recipientId]);
    expect((await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}/publish`, [])).status).toBe(
      303,
    );
    const slug = (await t.platform.repositories.letters.findById(id))!.slug;
    await signAndConfirm(t, new Visitor(t.app), slug, { name: 'Olena Kovalenko', display: 'full' });
    const delivery = `/admin/letters/${id}/delivery`;
    const response = await postForm(visitor, delivery, `${delivery}/test`, [
      ['request_key', 'pdf-thread-key'],
    ]);
    expect(response.status).toBe(303);
    await t.compileDeliveries();
    await t.drainOutbox();
    const [letter] = t.sink!.to(user.email);
    expect(letter, 'the test letter reached the organizer').toBeDefined();
    attachments = letter!.parsed.attachments;
  }, 90_000);
  afterAll(async () => {
    if (!closed) await t?.close();
  });

  it('is rendered in the compile worker thread, never by the web process thread', () => {
    expect(attachments.map((a) => a.contentType)).toEqual(['application/pdf']);
    expect(attachments[0]!.content.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(webRenders).toBe(0);
    expect(t.platform.compileWorker.lastThreadId).toBeGreaterThan(0);
    expect(t.platform.compileWorker.lastThreadId).not.toBe(threadId);
  });

  it("leaves no Chromium running once the platform has shut down (the worker thread's closed too)", async () => {
    expect(chromiumDescendants().length).toBeGreaterThan(0);
    closed = true;
    await t.close();
    expect(chromiumDescendants()).toEqual([]);
  });
});
