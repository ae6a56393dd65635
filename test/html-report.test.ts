// The HTML report in a real headless Chromium (Debian's, driven by
// playwright-core): it renders findings, chart and stacks, and text from the
// analysed code cannot run script in it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/findings/finding.js';
import { formatHTML } from '../src/report/html.js';

const browserPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => spawnSync(p, ['--version']).status === 0);
const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-html-'));
let browser: Browser | undefined;

beforeAll(async () => {
  if (browserPath) browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const HOSTILE = `</pre><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">`;

function fixtureFindings(src: string): Finding[] {
  const stat: Finding = {
    rule: 'leak',
    severity: 'error',
    message: `C memory from C.CString is not freed ${HOSTILE}`,
    file: src,
    line: 4,
    column: 8,
    endLine: 4,
    endColumn: 20,
    function: 'put',
    trace: [{ file: src, line: 4, column: 8, message: 'C.CString allocates C memory here' }],
    confirmedBy: ['asan'],
  };
  const dyn: Finding = {
    ...stat,
    message: 'LeakSanitizer: direct leak: 6 byte(s) in 1 object(s)',
    column: 1,
    trace: [],
    confirmedBy: undefined,
    confirmed: true,
    dynamic: {
      stage: 'asan',
      tool: 'lsan',
      kind: 'Direct leak',
      package: 'example.com/p',
      bytes: 6,
      objects: 1,
      definite: true,
      locatedBy: 'call site',
      count: 1,
      stacks: [{ title: 'allocated', frames: [{ fn: '__interceptor_malloc' }, { fn: `_cgo_1_Cfunc__Cmalloc${HOSTILE}`, file: '_cgo_export.c', line: 32 }] }],
    },
  };
  const overflow: Finding = { ...dyn, rule: 'c-overflow', message: 'AddressSanitizer: heap-buffer-overflow: write of 10 byte(s)', confirmed: false, dynamic: { ...dyn.dynamic!, tool: 'asan', kind: 'heap-buffer-overflow', package: `example.com/${HOSTILE}` } };
  return [stat, dyn, overflow];
}

describe.skipIf(!browserPath && !process.env.CI)('HTML report in Chromium', () => {
  it('renders findings, chart, stacks and links, and runs no injected script', async () => {
    const src = path.join(tmp, `main${'"'}x.go`);
    writeFileSync(src, `package main\n\nfunc put(s string) {\n\tcs := C.CString(s) // ${HOSTILE}\n\t_ = cs\n}\n`);
    const html = formatHTML({ title: `cgoguard test ${HOSTILE}`, findings: fixtureFindings(src), stages: [{ stage: 'asan', status: 'ran', ms: 1234, packages: 1 }], cwd: tmp, version: '0.0.0' });
    const file = path.join(tmp, 'report.html');
    writeFileSync(file, html);
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href);

    expect(await page.locator('section.finding').count()).toBe(3);
    expect(await page.locator('svg.chart-class g.bar').count()).toBe(2); // leak, c-overflow
    expect(await page.locator('svg.chart-package g.bar').count()).toBe(3); // the static finding's folder, and two packages
    expect(await page.locator('details.stack li').count()).toBe(4);
    expect(await page.locator('span.confirmed').count()).toBe(2);
    // The static finding and its run-time confirmation link to each other.
    await page.locator('a', { hasText: 'seen at run time by asan' }).click();
    expect(page.url()).toMatch(/#f2$/);
    expect(await page.locator('#f2 a', { hasText: 'predicted by the static finding' }).count()).toBe(1);
    // The code excerpt shows the line, as text.
    expect(await page.locator('pre.code .hit').first().textContent()).toContain('C.CString(s)');
    // Hostile text is shown, never executed or parsed as markup.
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('p.msg').first().textContent()).toContain('<script>window.__pwned = 1</script>');
    expect(await page.title()).toContain('<script>');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws live C memory as an icicle graph, outermost frame on top', async () => {
    const file = path.join(tmp, 'icicle.html');
    const live = [
      { frames: [{ fn: 'p.leaf', line: 3 }, { fn: 'main.main', line: 9 }], bytes: 300 },
      { frames: [{ fn: `p.${HOSTILE}`, line: 4 }, { fn: 'main.main', line: 9 }], bytes: 100 },
    ];
    writeFileSync(file, formatHTML({ title: 'cgoguard trace', findings: [], stages: [], cwd: tmp, version: '0.0.0', live }));
    const page = await browser!.newPage();
    await page.goto(pathToFileURL(file).href);
    const frames = page.locator('svg.icicle g.frame');
    expect(await frames.count()).toBe(4); // all, main.main, and the two leaves
    const widths = await page.locator('svg.icicle rect').evaluateAll((rs) => rs.map((r) => Math.round(Number(r.getAttribute('width')))));
    expect(widths.slice(0, 3)).toEqual([999, 999, 749]); // 300 of 400 bytes under p.leaf
    expect(await page.locator('svg.icicle title').nth(2).textContent()).toBe('p.leaf :3: 300 bytes');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.close();
  });

  it('says so when there is nothing to report', async () => {
    const file = path.join(tmp, 'clean.html');
    writeFileSync(file, formatHTML({ title: 'cgoguard test', findings: [], stages: [], cwd: tmp, version: '0.0.0' }));
    const page = await browser!.newPage();
    await page.goto(pathToFileURL(file).href);
    expect(await page.locator('p.clean').textContent()).toBe('No findings.');
    await page.close();
  });
});
