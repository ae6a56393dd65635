// Builds the VS Code extension in editors/vscode into a .vsix, offline: the
// extension and vscode-languageclient bundled into one file with esbuild,
// then packaged with @vscode/vsce. Usage: node scripts/package-vscode.mjs [--out FILE]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { createVSIX } from '@vscode/vsce';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ext = path.join(repo, 'editors/vscode');
const manifest = JSON.parse(readFileSync(path.join(ext, 'package.json'), 'utf8'));
const version = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')).version;
if (manifest.version !== version) {
  console.error(`package-vscode: editors/vscode/package.json has version ${manifest.version}, cgoguard is ${version}: make them the same`);
  process.exit(1);
}
const i = process.argv.indexOf('--out');
const out = i > 0 ? path.resolve(process.argv[i + 1]) : path.join(ext, `cgoguard-${version}.vsix`);

await build({
  entryPoints: [path.join(ext, 'src/extension.js')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  external: ['vscode'],
  outfile: path.join(ext, 'dist/extension.js'),
  minify: true,
  logLevel: 'warning',
});
await createVSIX({ cwd: ext, packagePath: out, dependencies: false });
console.log(out);
