// Validates a SARIF log against the official 2.1.0 schema (vendored).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { repoRoot } from './cli.js';

/** The schema's errors for this log, none when it is valid. */
export function sarifErrors(log: unknown): string {
  const schema = JSON.parse(readFileSync(path.join(repoRoot, 'test/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
  // The schema's patterns are ECMAScript regexps without the unicode flag.
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  return validate(log) ? '' : JSON.stringify(validate.errors?.slice(0, 3));
}
