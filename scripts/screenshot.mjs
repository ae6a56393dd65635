// Takes a picture of an HTML report in Debian's Chromium (playwright-core, no
// browser download), for the README: node scripts/screenshot.mjs REPORT.html OUT.png [CSS selector]
import { chromium } from 'playwright-core';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const [html, out, selector = 'body'] = process.argv.slice(2);
if (!html || !out) {
  process.stderr.write('usage: node scripts/screenshot.mjs REPORT.html OUT.png [selector]\n');
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1040, height: 900 } });
  await page.goto(pathToFileURL(path.resolve(html)).href);
  await page.locator(selector).first().screenshot({ path: out });
} finally {
  await browser.close();
}
