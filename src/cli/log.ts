import type { Command } from 'commander';
import type { CliContext } from './production.js';
export function registerLogCommands(_p: Command, _c: CliContext): void {}
