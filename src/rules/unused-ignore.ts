import type { RuleMeta } from './rule.js';

export const unusedIgnore: RuleMeta = {
  id: 'unused-ignore',
  title: 'A cgoguard:ignore directive that suppresses nothing',
  severity: 'warning',
  rationale:
    'An ignore that matches no finding on its line (or the line below it) is stale: the code or the ' +
    'analysis changed. Remove it so it cannot hide a future bug on that line.',
  bad: `n := len(s) //cgoguard:ignore leak not an allocation`,
  good: `n := len(s)`,
};
