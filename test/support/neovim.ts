// Runs test/support/lsp-client.lua in a headless Neovim against this
// checkout's `cgoguard lsp`, with the given steps; returns what each step saw.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bin } from './cli.js';

export const hasNeovim = spawnSync('nvim', ['--version'], { encoding: 'utf8' }).status === 0;

export type Step = Record<string, unknown> & { op: string };
export type StepResult = Record<string, any> & { op: string };

export async function neovim(root: string, steps: Step[], timeoutMs = 120_000): Promise<StepResult[]> {
  const work = mkdtempSync(path.join(tmpdir(), 'cgoguard-nvim-'));
  try {
    const stepsFile = path.join(work, 'steps.json');
    const outFile = path.join(work, 'out.json');
    writeFileSync(stepsFile, JSON.stringify(steps));
    // Neovim's own state (logs, shada) stays in the scratch folder.
    for (const d of ['state', 'cache', 'data', 'config']) mkdirSync(path.join(work, d));
    const env = {
      ...process.env,
      LSP_STEPS: stepsFile,
      LSP_OUT: outFile,
      LSP_ROOT: root,
      LSP_CMD: JSON.stringify([process.execPath, bin, 'lsp']),
      XDG_STATE_HOME: path.join(work, 'state'),
      XDG_CACHE_HOME: path.join(work, 'cache'),
      XDG_DATA_HOME: path.join(work, 'data'),
      XDG_CONFIG_HOME: path.join(work, 'config'),
    };
    const script = path.join(__dirname, 'lsp-client.lua');
    const code = await new Promise<number | null>((resolve) => {
      const p = spawn('nvim', ['--headless', '--clean', '-n', '-i', 'NONE', '-c', `luafile ${script}`], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
      p.on('close', (c) => {
        clearTimeout(timer);
        if (c !== 0 && stderr) process.stderr.write(stderr);
        resolve(c);
      });
    });
    let out: StepResult[];
    try {
      out = JSON.parse(readFileSync(outFile, 'utf8'));
    } catch {
      throw new Error(`neovim ended (status ${code}) without results`);
    }
    const failed = out.find((r) => r.op === 'error');
    if (failed) throw new Error(`${failed.error}\nserver log:\n${(failed.logs ?? []).join('\n')}`);
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
