// cgo.Handle and runtime.Pinner: a handle is made, deleted once and not used
// after; a local Pinner's pins are released by Unpin on every path, and a
// Pinner is never copied. Both are resources with the lifecycle of C memory,
// kept by the ownership module and worded by the rules here.
import { unparen } from '../../syntax/exprs.js';
import type { Expr } from '../../syntax/goast.js';
import type { Ty } from '../../model/types.js';
import type { ApiCall, CCall, CallExpr, DomainModule, Engine, Loss, ResourceKind } from '../../flow/hooks.js';
import { objId, varKey, type Obj, type State, type Val } from '../../flow/state.js';
import type { FuncInfo } from '../../model/program.js';
import { OWNERSHIP, type Ownership } from '../ownership/api.js';
import { cgoHandle } from './cgo-handle.js';
import { checkPinnerCopies } from './pinner-copies.js';
import { pinner } from './pinner.js';

declare module '../../flow/state.js' {
  interface ObjFacets {
    /** A handle given to C: the C function and the step that says so (C gives it back to Go code that deletes it). */
    toC?: { callee: string; name: string; step: Step };
  }
}

const HANDLE: ResourceKind = {
  rule: cgoHandle.meta,
  releasing: 'deleting it',
  releasedHere: (name) => `${name}.Delete deletes the handle here`,
  returnedBy: (fn) => `${fn} returns a cgo.Handle the caller must delete`,
  lost: (d) => cgoHandle.message({ kind: 'lost', ...d }),
  releasedTwice: (d) => cgoHandle.message({ kind: 'deleted-twice', ...d }),
  usedAfterRelease: (d) => cgoHandle.message({ kind: 'used-after-delete', ...d }),
};

const PINS: ResourceKind = {
  rule: pinner.meta,
  releasing: 'unpinning',
  lost: (d) => pinner.message({ kind: 'lost', what: d.what, how: d.how, atLine: d.atLine }),
};

export const handles: DomainModule = {
  id: 'handles',
  rules: [cgoHandle.meta, pinner.meta],
  apis: {
    'runtime/cgo.NewHandle': { evalRecv: false },
    'runtime/cgo.Handle.*': { evalRecv: true },
    'runtime.Pinner.*': { evalRecv: false },
  },
  resources: { handle: HANDLE, pinner: PINS },
  create: (engine) => new HandlesDomain(engine),
  packageCheck: { trigger: /\bPinner\b/, run: checkPinnerCopies },
};

class HandlesDomain {
  constructor(private readonly x: Engine) {}

  apiCall(call: ApiCall, st: State): Val[] | undefined {
    // Handles and pins are kept by the ownership module; without it there is nothing to follow.
    const ownership = this.x.domain<Ownership>(OWNERSHIP);
    if (!ownership) return undefined;
    const op = call.api.slice(call.api.lastIndexOf('.') + 1);
    if (call.api.startsWith('runtime.Pinner.')) {
      this.pinnerCall(ownership, op, call.recvExpr!, st, call.pos, call.e.end);
      return undefined;
    }
    return this.handleCall(ownership, op, call.e, call.args, call.recv, st, call.pos);
  }

  /** cgo.NewHandle, Handle.Delete and Handle.Value: a handle is made, deleted once, and not used after. */
  private handleCall(ownership: Ownership, op: string, e: CallExpr, args: Val[], recv: Val | undefined, st: State, pos: number): Val[] | undefined {
    const name = e.fun.k === 'sel' ? this.x.src(e.fun.x) : 'the handle';
    switch (op) {
      case 'NewHandle':
        // The value is kept by the handle table until Delete.
        args.forEach((a) => this.x.escape(st, a));
        return [ownership.newObject(st, pos, e.end, 'cgo.NewHandle', { nullable: false, releasedBy: ['Delete'], steps: [this.x.step(pos, 'cgo.NewHandle makes a handle here')], resource: 'handle' })];
      case 'Delete':
        if (recv && objId(recv)) ownership.release(st, recv, { by: 'Delete', name, pos, end: e.end });
        return undefined;
      case 'Value':
        if (recv) this.x.use(st, recv, 'read with Value', name, pos, e.end);
        return undefined;
    }
    return undefined;
  }

  /** A local Pinner's pins are a resource of their own, released by Unpin. */
  private pinnerCall(ownership: Ownership, op: string, recv: Expr, st: State, pos: number, end: number): void {
    const who = this.x.src(recv);
    const r = unparen(recv);
    // Only a Pinner declared here is ours to unpin (not a parameter, a field or a pointer).
    const local = r.k === 'ident' && r.v >= 0 && !this.x.info.decl.ir.params.includes(r.v) && isPinnerType(this.x.types.vars[r.v]);
    const key = local ? pinsKey(r.v) : undefined;
    const pins = key ? objId(st.env.get(key) ?? '') : undefined;
    if (op === 'Pin') {
      if (key && !(pins && st.obj(pins)?.state === 'live')) {
        const steps = [this.x.step(pos, `${who}.Pin pins memory here`)];
        st.assign(key, ownership.newObject(st, pos, end, `${who}.Pin`, { nullable: false, releasedBy: ['Unpin'], steps, resource: 'pinner' }));
      }
    } else if (op === 'Unpin') {
      const o = pins ? st.obj(pins) : undefined;
      if (o) st.setObj(pins!, { ...o, state: 'moved' });
    }
  }

  /** A Pinner passed by value shares what it pins with the callee, which may unpin it. */
  beforeCall(e: CallExpr, st: State): void {
    for (const a of e.args) {
      const x = unparen(a);
      const pins = x.k === 'ident' && x.v >= 0 ? st.env.get(pinsKey(x.v)) : undefined;
      if (pins) this.x.escape(st, pins);
    }
  }

  /** A Pinner whose address is given away may be unpinned there. */
  escapesWithAddress(st: State, v: number): Val[] {
    const pins = st.env.get(pinsKey(v));
    return pins ? [pins] : [];
  }

  /** A handle given to C: C hands it back later to Go code that deletes it (checked when the handle's last reference goes). */
  transferArg(cc: CCall, i: number, st: State): boolean {
    const id = objId(cc.targets[i]);
    const o = id ? st.obj(id) : undefined;
    if (!o || o.resource !== 'handle' || o.state !== 'live') return false;
    const callee = this.x.src(cc.e.fun);
    if (!o.toC) st.setObj(id!, { ...o, toC: { callee, name: this.x.argName(cc.e, i), step: this.x.step(cc.pos, `${callee} receives it`) } });
    return true;
  }

  onLost(_st: State, _id: string, o: Obj, loss: Loss): boolean {
    if (!o.toC) return false;
    // Only a package that deletes handles somewhere can delete the ones it gave C.
    if (o.site < 0 || packageDeletesHandles(this.x.info.pkg)) return true;
    this.x.report(`handle-to-c:${o.site}`, {
      rule: cgoHandle.meta,
      message: cgoHandle.message({ kind: 'to-c', callee: o.toC.callee }),
      pos: o.site,
      end: o.siteEnd ?? o.site,
      trace: [...o.steps, o.toC.step, this.x.step(loss.at, 'no code in the package calls Delete on a handle')],
    });
    return true;
  }
}

function isPinnerType(t: Ty | undefined): boolean {
  return t?.k === 'named' && t.pkg === 'runtime' && t.name === 'Pinner';
}

/** Where the pins of the runtime.Pinner in local variable v are kept. */
function pinsKey(v: number): string {
  return `pins:${varKey(v)}`;
}

const deletesHandles = new WeakMap<object, boolean>();

/** Some code of the package calls Delete (on a cgo.Handle, as far as text tells). */
function packageDeletesHandles(pkg: FuncInfo['pkg']): boolean {
  let r = deletesHandles.get(pkg);
  if (r === undefined) deletesHandles.set(pkg, (r = pkg.files.some((f) => /\.Delete\(\)/.test(f.go.text))));
  return r;
}
