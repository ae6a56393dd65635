import type { RuleMeta } from './rule.js';

export const badDirective: RuleMeta = {
  id: 'bad-directive',
  title: 'A cgoguard directive that cannot be used',
  severity: 'warning',
  rationale:
    'A directive that does not parse does nothing, so what it meant to say goes unchecked.\n\n' +
    '`//cgoguard:ignore RULE[,RULE...] reason` must name existing rules and give a reason: ' +
    'suppressions are reviewed like code.\n\n' +
    '`cgoguard:contract` (in a Go doc comment, the cgo preamble or cgoguard.yaml) follows this ' +
    'grammar: [NAME] [(PARAM, ...)] CLAUSE [; CLAUSE]... where CLAUSE is one of\n' +
    '  returns owned [released by FUNC[, FUNC]...]\n' +
    '  returns borrowed\n' +
    '  releases PARAM | takes PARAM | borrows PARAM\n' +
    '  takes PARAM with destructor PARAM2\n' +
    '  writes owned to PARAM [released by FUNC] [on success | on failure]\n' +
    '  creates [released by FUNC]\n' +
    '  not after FUNC | invalidates PARAM\n' +
    'and PARAM is a parameter name or a 1-based position. A `// Contract:` comment ' +
    'starts with `TYPE allocated by C.f()`; each following line is `→ owned by Go`, ' +
    '`→ freed via C.g()` or `→ NOT passed to C.h() after C.k()`.',
  bad: `p := C.CString(s) //cgoguard:ignore leak

// cgoguard:contract make_buf(n) returns owned freed by free_buf`,
  good: `p := C.CString(s) //cgoguard:ignore leak the registry frees every entry in Close

// cgoguard:contract make_buf(n) returns owned released by free_buf`,
};
