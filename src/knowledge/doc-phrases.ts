// What a C function's doc comment says about ownership: that what it returns
// (or writes to an out parameter) must be released, and with what, or that it
// is only lent. Phrases are matched per part of the comment: the part about
// the result (`@return`, `Returns:`), the part about each parameter
// (`@param out`, `\param out`, GLib's `@out:`), and the rest.

export interface DocSections {
  /** Text about no parameter in particular. */
  general: string;
  /** The part about the result. */
  returns?: string;
  /** The part about each parameter, by name. */
  params: Map<string, string>;
}

/** Splits a doc comment into its general text, its result part and its parameter parts. */
export function docSections(doc: string): DocSections {
  const out: DocSections = { general: '', params: new Map() };
  let target: { k: 'general' } | { k: 'returns' } | { k: 'param'; name: string } = { k: 'general' };
  const add = (line: string) => {
    if (target.k === 'general') out.general += `${line}\n`;
    else if (target.k === 'returns') out.returns = `${out.returns ?? ''}${line}\n`;
    else out.params.set(target.name, `${out.params.get(target.name) ?? ''}${line}\n`);
  };
  for (const raw of doc.split('\n')) {
    const line = raw.trim();
    const param = /^[@\\]param(?:\[[^\]]*\])?\s+([A-Za-z_]\w*)\s*:?\s*(.*)$/.exec(line) ?? /^@([A-Za-z_]\w*):\s*(.*)$/.exec(line) ?? /^:param\s+(?:\w+\s+)?([A-Za-z_]\w*):\s*(.*)$/.exec(line);
    const ret = /^(?:[@\\]returns?\b|Returns?\s*:|:returns?:|Return value\s*:)\s*(.*)$/i.exec(line);
    if (ret) {
      target = { k: 'returns' };
      add(ret[1]);
    } else if (param) {
      target = { k: 'param', name: param[1] };
      add(param[2]);
    } else if (/^[@\\](brief|note|see|since|deprecated|warning|code|endcode)\b/.test(line) && target.k !== 'general') {
      target = { k: 'general' };
      add(line.replace(/^[@\\]\w+\s*/, ''));
    } else {
      add(line);
    }
  }
  return out;
}

export type DocClaim =
  /** The text says the caller must release it (with `releaser`, when it names one). */
  | { k: 'owned'; releaser?: string; phrase: string }
  /** The text says it must not be freed (it belongs to `owner`, when it names what owns it). */
  | { k: 'borrowed'; owner?: string; phrase: string };

const RELEASED = '(?:freed|released|destroyed|deallocated|disposed(?:\\s+of)?|deleted|unref(?:\'?e?d)?|free\\(\\)d|closed)';

/** Phrases that say the caller owns what is described. */
const OWNED: RegExp[] = [
  new RegExp(`\\b(?:must|should|has to|have to|needs? to|is to|can|will need to)\\s+(?:later\\s+|eventually\\s+)?be\\s+${RELEASED}\\b`, 'i'),
  /\b(?:caller|application|user|you)\s+(?:must|should|has to|is responsible for|needs to|will need to)\s+(?:\w+\s+){0,3}?(?:free|freeing|release|releasing|destroy|destroying|dispose|unref)\b/i,
  /\b(?:must|should)\s+(?:eventually\s+|later\s+)?(?:free|release|destroy|dispose of|unref)\s+(?:it|them|the\s+\w+)/i,
  /\b(?:use|call)\s+[A-Za-z_]\w*(?:\(\))?\s+(?:on it\s+|when done\s+|afterwards\s+)?to\s+(?:free|release|destroy|deallocate|dispose)\b/i,
  /\b(?:free|release|destroy)\s+(?:it|them|the (?:result|returned \w+|string|buffer|object|array|list|memory))\s+(?:with|using|via|by calling)\b/i,
  /\b(?:caller|application|user)\s+(?:owns|takes ownership|gets ownership)\b/i,
  /\bowned by the (?:caller|application|user)\b/i,
  /\bownership (?:belongs to|is transferred to|passes to) the (?:caller|application|user)\b|\bbelongs to the (?:caller|application|user)\b/i,
  /\(transfer full\)/,
  /\bnewly[- ]allocated\b/i,
  /\bmalloc(?:\(\))?(?:'?e?d)\b|\ballocated (?:with|by|using) malloc\b/i,
];

/** Phrases that say the caller must not release it, and the capture group naming its owner (if any). */
const BORROWED: { re: RegExp; owner?: number }[] = [
  { re: /\b(?:do|must|should|shall|need)\s+not\s+(?:be\s+)?(?:free|freed|release|released|deallocate|destroy|destroyed|modif\w+\s+or\s+free\w*)\b/i },
  { re: /\b(?:don'?t|never)\s+(?:free|release|destroy)\b/i },
  { re: /\bnot\s+(?:need\s+to|have\s+to|to)\s+be\s+(?:freed|released|destroyed)\b/i },
  { re: /\bowned by\s+(?:the|this|its|that)\s+(?:given\s+|parent\s+)?([A-Za-z_]\w*)/i, owner: 1 },
  { re: /\bvalid\s+(?:only\s+)?(?:until|as long as|while|for the lifetime of|for as long as)\s+(?:the|this|its|that)?\s*([A-Za-z_]\w*)?/i, owner: 1 },
  { re: /\bmust not be used after\s+(?:the\s+)?(?:destruction|release|free|freeing|closing)\s+of\s+(?:the\s+)?([A-Za-z_]\w*)/i, owner: 1 },
  { re: /\b(?:pointer|reference)\s+(?:in)?to\s+(?:the\s+|an\s+)?internal\b|\binternal\s+(?:buffer|storage|pointer|string)\b/i },
  { re: /\(transfer none\)/ },
  { re: /\bstatic(?:ally allocated)?\s+(?:string|buffer|storage|memory)\b/i },
  { re: /\bbelongs to\b/i },
];

/** Doxygen and GLib markup around names: `\p name`, `@p name`, `#GError`, `%NULL`, backticks. */
function plain(text: string): string {
  return text
    .replace(/[\\@]p\s+/g, '')
    .replace(/[`#%[\]]/g, '')
    .replace(/\s+/g, ' ');
}

/**
 * The releaser the sentence around offset `at` names (`with F`, `using F()`, `call F to free`):
 * after the phrase first ("allocated by F must be freed with G" names G), never the function itself.
 */
function releaserAround(text: string, at: number, self: string | undefined): string | undefined {
  const start = Math.max(text.lastIndexOf('. ', at), text.lastIndexOf('; ', at)) + 1;
  const ends = ['. ', '; '].map((d) => text.indexOf(d, at)).filter((i) => i >= 0);
  const end = ends.length ? Math.min(...ends) : text.length;
  const names = (from: number, to: number) =>
    [...text.slice(from, to).matchAll(/\b(?:with|by|using|via|through|calling|call|use|to)\s+([A-Za-z_]\w*)/gi)].map((m) => m[1]).filter((w) => w !== self && isFunctionWord(w));
  return names(at, end)[0] ?? names(start, at)[0];
}

/** What one part of a doc comment claims about ownership: nothing, or one claim (conflicting phrases claim nothing). */
export function docClaim(text: string | undefined, self?: string, shared = false): DocClaim | 'conflict' | undefined {
  if (!text) return undefined;
  let flat = plain(text);
  // A comment shared by several functions speaks of this one only in the sentences that name it.
  if (shared && self) flat = flat.split(/(?<=[.;])\s+/).filter((x) => new RegExp(`\\b${self}\\b`).test(x)).join(' ');
  let owned: { k: 'owned'; releaser?: string; phrase: string } | undefined;
  for (const re of OWNED) {
    const m = re.exec(flat);
    // "does not need to be freed", "is not to be freed": said the other way round.
    if (!m || /\b(?:not|no|never)\s+(?:\w+\s+)?$/i.test(flat.slice(Math.max(0, m.index - 16), m.index)) || /^\w+\s+not\b/i.test(m[0])) continue;
    const releaser = releaserAround(flat, m.index, self);
    if (!owned || (releaser && !owned.releaser)) owned = { k: 'owned', releaser, phrase: m[0].trim() };
    if (owned.releaser) break;
  }
  let borrowed: DocClaim | undefined;
  for (const { re, owner } of BORROWED) {
    const m = re.exec(flat);
    if (!m || /owned by the (?:caller|application|user)|belongs to the (?:caller|application|user)/i.test(flat.slice(m.index, m.index + 40))) continue;
    borrowed = { k: 'borrowed', owner: owner ? m[owner] : undefined, phrase: m[0].trim() };
    break;
  }
  // "only allocated ... if it is found": allocated on a condition the analysis cannot test (rocksdb_key_may_exist's value_found).
  if (owned && /\bonly\s+(?:be\s+)?(?:allocated|returned|set|filled)\b[^.;]*\b(?:if|when)\b/i.test(flat)) return 'conflict';
  if (owned && borrowed) {
    // "must not be freed until X is done" still has the caller free it; "do not free, it is owned by the repository" does not.
    if (/\bnot\s+(?:be\s+)?freed\s+(?:until|before)\b/i.test(flat)) return owned;
    return 'conflict';
  }
  return owned ?? borrowed;
}

/** A word that can name a function: not an English word a sentence would put after "freed with". */
function isFunctionWord(w: string): boolean {
  return /_|[a-z][A-Z]|^[A-Z][a-z]+[A-Z]/.test(w) || /^(free|g_free|cfree)$/.test(w);
}
