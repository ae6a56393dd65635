// Contract protocols: a handle a `creates` contract makes (returned, or
// initialised in Go storage the first argument points to), and the order of
// calls on it: `not after F` and `invalidates P`.
import { resolveCType } from '../../model/ctypes.js';
import type { Contract } from '../../model/contracts.js';
import type { CCall, CallExpr, DomainModule, Engine } from '../../flow/hooks.js';
import { NIL, attachedKey, objId, type Obj, type State, type Val } from '../../flow/state.js';
import { OWNERSHIP, type Ownership } from '../ownership/api.js';
import { checkUseAfterClose } from './close-methods.js';
import { protocol } from './protocol.js';

declare module '../../flow/state.js' {
  interface ObjFacets {
    /** Calls made on this handle that protocol clauses refer to ("!F": F invalidated it). */
    marks?: string[];
  }
}

export const protocols: DomainModule = {
  id: 'protocol',
  rules: [protocol.meta],
  facetKey: (o: Obj) => (o.marks ? `|m${o.marks.join('+')}` : ''),
  create: (engine) => new ProtocolDomain(engine),
  packageCheck: { trigger: /=\s*nil\b/, run: checkUseAfterClose },
};

class ProtocolDomain {
  constructor(private readonly x: Engine) {}

  /** A handle `creates` made inside Go storage stands for that storage in every later call. */
  callTarget(st: State, v: Val): Val | undefined {
    const id = objId(v);
    return id ? st.env.get(attachedKey(id)) : undefined;
  }

  /** `not after F` and `invalidates` on the first argument. */
  beforeCCall(cc: CCall, st: State): void {
    const { name, contract, targets, e, pos } = cc;
    const id = objId(targets[0] ?? NIL);
    const o = id ? st.obj(id) : undefined;
    if (!o?.marks?.length) return;
    const after = contract?.notAfter.find((f) => o.marks!.includes(f));
    const invalid = o.marks.find((m) => m.startsWith('!'));
    const violation = after ? { after, how: 'not-after' as const } : invalid && !cc.effects.released.has(0) ? { after: invalid.slice(1), how: 'invalidated' as const } : undefined;
    if (!violation) return;
    const argName = this.x.argName(e, 0);
    this.x.report(`protocol:${pos}`, {
      rule: protocol.meta,
      message: protocol.message({ callee: `C.${name}`, name: argName, after: `C.${violation.after}`, how: violation.how }),
      pos,
      end: e.end,
      trace: [...o.steps, this.x.step(pos, `C.${name} is called on ${argName} after C.${violation.after}`)],
    });
  }

  /** Remembers calls that later protocol clauses refer to. */
  afterCCall(cc: CCall, st: State): void {
    const { name, contract, targets } = cc;
    const mark = (v: Val | undefined, m: string) => {
      const id = objId(v ?? NIL);
      const o = id ? st.obj(id) : undefined;
      if (o && !o.marks?.includes(m)) st.setObj(id!, { ...o, marks: [...(o.marks ?? []), m] });
    };
    if (this.x.pkg.contracts.protocolMarkers().has(name)) mark(targets[0], name);
    for (const i of contract?.invalidates ?? []) mark(targets[i], `!${name}`);
  }

  cCallResult(cc: CCall, st: State): Val[] | undefined {
    if (!cc.contract?.creates) return undefined;
    const made = this.createHandle(st, cc.name, cc.contract, cc.e, cc.args, cc.pos);
    return made ? [made] : undefined;
  }

  /**
   * `creates`: a function returning a pointer makes an owned object; one that
   * initialises what its first argument points to (jpeg_create_decompress(&cinfo))
   * makes a handle living in that Go storage, released when the storage is.
   */
  private createHandle(st: State, name: string, contract: Contract, e: CallExpr, args: Val[], pos: number): Val | undefined {
    const releasedBy = contract.creates!;
    const decl = this.x.pkg.cDeclaration(name);
    const returnsPointer = decl ? resolveCType(decl.ret, this.x.pkg.c).k === 'ptr' : !args.length;
    const steps = [this.x.step(pos, `C.${name} creates a handle here, to be released by ${releasedBy.map((f) => `C.${f}`).join(' or ')}`)];
    const ownership = this.x.domain<Ownership>(OWNERSHIP);
    if (!ownership) return undefined;
    const handle = () => ownership.newObject(st, pos, e.end, `C.${name}`, { nullable: returnsPointer, releasedBy, steps });
    if (returnsPointer) return handle();
    const owner = args[0] ?? NIL;
    const id = objId(owner);
    if (id && st.obj(id)?.kind === 'go') st.assign(attachedKey(id), handle());
    else if (owner.startsWith('a:v')) st.assign(owner.slice(2), handle());
    return undefined;
  }
}
