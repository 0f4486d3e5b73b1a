import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Request, Response } from 'express';
import { localDefaults } from '../../../server/http/locals.js';
import { createViewEngine } from '../../../server/http/views.js';
import type { TFunction } from '../../../server/lib/i18n.js';
import { viewsDir } from '../../../server/lib/paths.js';

/** Renders a view file through the engine as Express would, resolving with the page or rejecting with the error. */
function render(engine: ReturnType<typeof createViewEngine>, file: string, locals: object): Promise<string> {
  return new Promise((resolve, reject) =>
    engine(file, locals, (error, html) => (error ? reject(error as Error) : resolve(html!))),
  );
}

describe('views compiled strict', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'views-'));
    mkdirSync(path.join(dir, 'partials'));
    mkdirSync(path.join(dir, 'layouts'));
    mkdirSync(path.join(dir, 'pages'));
    writeFileSync(path.join(dir, 'layouts', 'main.hbs'), '<main>{{{body}}}</main>');
    writeFileSync(path.join(dir, 'pages', 'greeting.hbs'), '<p>{{greeting}}, {{person.name}}</p>');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('renders a view whose context has every field it reads', async () => {
    const engine = createViewEngine(dir, true);
    await expect(
      render(engine, path.join(dir, 'pages', 'greeting.hbs'), { greeting: 'Hello', person: { name: 'Ana' } }),
    ).resolves.toBe('<main><p>Hello, Ana</p></main>');
  });

  it('refuses to render a view that reads a field its context lacks, naming the view and the field', async () => {
    const engine = createViewEngine(dir, true);
    const file = path.join(dir, 'pages', 'greeting.hbs');
    await expect(render(engine, file, { person: { name: 'Ana' } })).rejects.toThrow(
      /pages\/greeting\.hbs: "greeting" not defined/,
    );
    await expect(render(engine, file, { greeting: 'Hello', person: {} })).rejects.toThrow(
      /"name" not defined/,
    );
  });

  it('refuses a layout that reads a field the page lacks, naming the layout', async () => {
    writeFileSync(path.join(dir, 'layouts', 'main.hbs'), '<title>{{pageTitle}}</title>{{{body}}}');
    const engine = createViewEngine(dir, true);
    await expect(
      render(engine, path.join(dir, 'pages', 'greeting.hbs'), { greeting: 'Hello', person: { name: 'Ana' } }),
    ).rejects.toThrow(/layouts\/main\.hbs: "pageTitle" not defined/);
  });

  it('translates a text without parameters once per language, and one with parameters every time', async () => {
    writeFileSync(path.join(dir, 'pages', 'texts.hbs'), '{{t "hello"}} {{t "hello"}} {{t "count" n=number}}');
    const engine = createViewEngine(dir, true);
    const file = path.join(dir, 'pages', 'texts.hbs');
    const calls: string[] = [];
    const translator = (language: string) =>
      ((key: string, options?: { n?: number }) => {
        calls.push(`${language}:${key}`);
        return options?.n === undefined ? `${language}-${key}` : `${language}-${key}-${options.n}`;
      }) as unknown as TFunction;
    const en = translator('en');
    const ko = translator('ko');
    const page = (t: TFunction, number: number) => render(engine, file, { t, number, layout: false });
    expect(await page(en, 1)).toBe('en-hello en-hello en-count-1');
    expect(await page(en, 2)).toBe('en-hello en-hello en-count-2');
    expect(await page(ko, 3)).toBe('ko-hello ko-hello ko-count-3');
    expect(calls).toEqual(['en:hello', 'en:count', 'en:count', 'ko:hello', 'ko:count']);
  });

  it('renders the real error page and layout from nothing but the defaults every request has', async () => {
    const engine = createViewEngine(viewsDir, true);
    const res = { locals: {} } as Response;
    const t = ((key: string) => key) as unknown as TFunction;
    localDefaults({ t, publicUrl: 'http://localhost' })({} as Request, res, () => {});
    const html = await render(engine, path.join(viewsDir, 'errors', 'error.hbs'), {
      ...res.locals,
      status: 500,
      code: 'internal_error',
      title: 'Something went wrong',
      message: 'Try again',
    });
    expect(html).toContain('<h1>Something went wrong</h1>');
  });
});
