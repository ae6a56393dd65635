import type { Command } from 'commander';
import type { CliContext } from './production.js';
export function registerWatchCommand(_p: Command, _c: CliContext): void {}
