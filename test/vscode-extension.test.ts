// The VS Code extension builds into a .vsix offline (esbuild, then vsce), and
// the package holds what VS Code needs to start `cgoguard lsp` for Go files.
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/cli.js';
import { readZip } from './support/zip.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'cgoguard-vsix-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the VS Code extension', () => {
  it('packages into a .vsix that starts cgoguard lsp for Go files', () => {
    const out = path.join(tmp, 'cgoguard.vsix');
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/package-vscode.mjs'), '--out', out], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const zip = readZip(out);
    expect([...zip.keys()].sort()).toEqual(['[Content_Types].xml', 'extension.vsixmanifest', 'extension/LICENSE.txt', 'extension/dist/extension.js', 'extension/package.json', 'extension/readme.md']);
    const manifest = JSON.parse(zip.get('extension/package.json')!.toString('utf8'));
    expect(manifest).toMatchObject({ name: 'cgoguard', main: './dist/extension.js', activationEvents: ['onLanguage:go'], engines: { vscode: expect.any(String) } });
    expect(manifest.version).toBe(JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version);
    expect(zip.get('extension.vsixmanifest')!.toString('utf8')).toContain(`Version="${manifest.version}"`);
    // One file: the language client is bundled in, VS Code's own API is the only module left to require.
    const bundle = zip.get('extension/dist/extension.js')!.toString('utf8');
    const required = new Set([...bundle.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]));
    const foreign = [...required].filter((m) => m !== 'vscode' && !builtinModules.includes(m.replace(/^node:/, '')));
    expect(foreign).toEqual([]);
    expect(required.has('vscode')).toBe(true);
    expect(bundle).toContain('"lsp"');
    expect(bundle).toContain('documentSelector');
  });
});
