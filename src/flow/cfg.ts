// Control-flow graphs of Go function bodies. Conditions are split at && and
// || so each branch sees what it implies; switch, select and range choose
// among successors nondeterministically; returns and panics end in terminators
// that the interpreter treats as function exits (running deferred calls).
import { NO_VAR, type Expr, type FuncIR, type Stmt, type VarId } from '../syntax/goast.js';
import { forEachChildExpr } from '../syntax/walk.js';
import { unparen } from '../syntax/exprs.js';

export type Instr =
  | { k: 'eval'; x: Expr; pos: number }
  | { k: 'assign'; lhs: Expr[]; rhs: Expr[]; define: boolean; op: string; pos: number }
  | { k: 'incdec'; x: Expr; pos: number }
  | { k: 'send'; ch: Expr; value: Expr; pos: number }
  | { k: 'defer'; call: Expr; pos: number }
  | { k: 'go'; call: Expr; pos: number }
  | { k: 'range'; key?: Expr; value?: Expr; define: boolean; pos: number }
  | { k: 'bind'; v: VarId; x: Expr; pos: number }
  | { k: 'results'; results: Expr[]; pos: number };

export type Term =
  | { k: 'jump'; to: number }
  | { k: 'cond'; cond: Expr; t: number; f: number }
  /** rangeOver: the first test of a range over this expression (see the engine). */
  | { k: 'choice'; to: number[]; rangeOver?: Expr }
  | { k: 'return'; pos: number }
  | { k: 'panic'; pos: number }
  | { k: 'none' };

export interface Block {
  id: number;
  instrs: Instr[];
  term: Term;
}

export interface CFG {
  fn: FuncIR;
  blocks: Block[];
  entry: number;
}

interface Target {
  label?: string;
  brk: number;
  cont?: number;
}

/** Calls that never return: the path ends like a panic. */
export function isNoReturnCall(x: Expr): boolean {
  if (x.k !== 'call') return false;
  const f = x.fun;
  if (f.k === 'ident' && f.v === NO_VAR && f.name === 'panic') return true;
  if (f.k === 'sel') {
    if (f.x.k === 'ident' && f.x.v === NO_VAR) {
      const q = `${f.x.name}.${f.name}`;
      if (/^(os\.Exit|syscall\.Exit|runtime\.Goexit|log\.(Fatal|Fatalf|Fatalln|Panic|Panicf|Panicln))$/.test(q)) return true;
    }
    // testing.T/B/F methods that stop the test goroutine.
    if (/^(Fatal|Fatalf|FailNow|Skip|Skipf|SkipNow)$/.test(f.name) && x.args.length <= 8 && f.x.k === 'ident' && /^(t|b|f|tb)$/.test(f.x.name)) return true;
  }
  return false;
}

export function buildCFG(fn: FuncIR): CFG {
  const b = new Builder(fn);
  return b.build();
}

class Builder {
  private readonly blocks: Block[] = [];
  private cur: Block;
  private readonly targets: Target[] = [];
  private readonly labels = new Map<string, number>();
  private pendingLabel: string | undefined;
  /** For `fallthrough`: the body block of the next case. */
  private fallthroughTo: number | undefined;

  constructor(private readonly fn: FuncIR) {
    this.cur = this.newBlock();
  }

  build(): CFG {
    const entry = this.cur.id;
    this.stmts(this.fn.body);
    if (this.cur.term.k === 'none') this.cur.term = { k: 'return', pos: this.fn.bodyEnd };
    return { fn: this.fn, blocks: this.blocks, entry };
  }

  private newBlock(): Block {
    const b: Block = { id: this.blocks.length, instrs: [], term: { k: 'none' } };
    this.blocks.push(b);
    return b;
  }

  private labelBlock(name: string): number {
    let id = this.labels.get(name);
    if (id === undefined) {
      id = this.newBlock().id;
      this.labels.set(name, id);
    }
    return id;
  }

  /** Ends the current block with `term` and continues in a fresh (possibly unreachable) block. */
  private end(term: Term): void {
    if (this.cur.term.k === 'none') this.cur.term = term;
    this.cur = this.newBlock();
  }

  private jumpTo(id: number): void {
    if (this.cur.term.k === 'none') this.cur.term = { k: 'jump', to: id };
    this.cur = this.blocks[id];
  }

  private emit(i: Instr): void {
    this.cur.instrs.push(i);
  }

  private stmts(list: Stmt[]): void {
    for (const s of list) this.stmt(s);
  }

  private takeLabel(): string | undefined {
    const l = this.pendingLabel;
    this.pendingLabel = undefined;
    return l;
  }

  private stmt(s: Stmt): void {
    switch (s.k) {
      case 'expr':
        this.emit({ k: 'eval', x: s.x, pos: s.pos });
        if (isNoReturnCall(s.x)) this.end({ k: 'panic', pos: s.pos });
        break;
      case 'assign':
        this.emit({ k: 'assign', lhs: s.lhs, rhs: s.rhs, define: s.define, op: s.op, pos: s.pos });
        break;
      case 'vardecl':
        this.emit({ k: 'assign', lhs: s.vars, rhs: s.values, define: true, op: 'var', pos: s.pos });
        break;
      case 'incdec':
        this.emit({ k: 'incdec', x: s.x, pos: s.pos });
        break;
      case 'send':
        this.emit({ k: 'send', ch: s.ch, value: s.value, pos: s.pos });
        break;
      case 'block':
        this.stmts(s.body);
        break;
      case 'if': {
        if (s.init) this.stmt(s.init);
        const thenB = this.newBlock();
        const elseB = this.newBlock();
        const join = this.newBlock();
        this.cond(s.cond, thenB.id, elseB.id);
        this.cur = thenB;
        this.stmts(s.then);
        this.jumpTo(join.id);
        this.cur = elseB;
        if (s.else) this.stmt(s.else);
        this.jumpTo(join.id);
        this.cur = join;
        break;
      }
      case 'for': {
        const label = this.takeLabel();
        if (s.init) this.stmt(s.init);
        const head = this.newBlock();
        const body = this.newBlock();
        const post = this.newBlock();
        const exit = this.newBlock();
        this.jumpTo(head.id);
        if (s.cond) this.cond(s.cond, body.id, exit.id);
        else this.jumpTo(body.id);
        this.cur = body;
        this.targets.push({ label, brk: exit.id, cont: post.id });
        this.stmts(s.body);
        this.targets.pop();
        this.jumpTo(post.id);
        if (s.post) this.stmt(s.post);
        this.jumpTo(head.id);
        this.cur = exit;
        break;
      }
      case 'range': {
        const label = this.takeLabel();
        if (s.x) this.emit({ k: 'eval', x: s.x, pos: s.pos });
        const first = this.newBlock();
        const head = this.newBlock();
        const body = this.newBlock();
        const exit = this.newBlock();
        this.jumpTo(first.id);
        first.term = { k: 'choice', to: [body.id, exit.id], ...(s.x ? { rangeOver: unparen(s.x) } : {}) };
        head.term = { k: 'choice', to: [body.id, exit.id] };
        this.cur = body;
        this.emit({ k: 'range', key: s.key, value: s.value, define: s.define, pos: s.pos });
        this.targets.push({ label, brk: exit.id, cont: head.id });
        this.stmts(s.body);
        this.targets.pop();
        this.jumpTo(head.id);
        this.cur = exit;
        break;
      }
      case 'switch': {
        const label = this.takeLabel();
        if (s.init) this.stmt(s.init);
        const exit = this.newBlock();
        const bodies = s.cases.map(() => this.newBlock());
        if (s.tag) {
          this.emit({ k: 'eval', x: s.tag, pos: s.tag.pos });
          const hasDefault = s.cases.some((c) => c.exprs === null);
          const to = bodies.map((b) => b.id);
          if (!hasDefault) to.push(exit.id);
          this.cur.term = { k: 'choice', to };
        } else {
          // Tagless switch: cases are conditions tried in order, default last.
          const order = s.cases.map((c, i) => ({ c, i })).filter((x) => x.c.exprs !== null);
          const def = s.cases.findIndex((c) => c.exprs === null);
          for (const { c, i } of order) {
            for (const e of c.exprs!) {
              const next = this.newBlock();
              this.cond(e, bodies[i].id, next.id);
              this.cur = next;
            }
          }
          this.jumpTo(def >= 0 ? bodies[def].id : exit.id);
        }
        this.targets.push({ label, brk: exit.id });
        s.cases.forEach((c, i) => {
          this.cur = bodies[i];
          this.fallthroughTo = i + 1 < bodies.length ? bodies[i + 1].id : exit.id;
          this.stmts(c.body);
          this.jumpTo(exit.id);
        });
        this.fallthroughTo = undefined;
        this.targets.pop();
        this.cur = exit;
        break;
      }
      case 'typeswitch': {
        const label = this.takeLabel();
        if (s.init) this.stmt(s.init);
        this.emit({ k: 'eval', x: s.x, pos: s.x.pos });
        const exit = this.newBlock();
        const bodies = s.cases.map(() => this.newBlock());
        const to = bodies.map((b) => b.id);
        if (!s.cases.some((c) => c.types === null)) to.push(exit.id);
        this.cur.term = { k: 'choice', to };
        this.targets.push({ label, brk: exit.id });
        s.cases.forEach((c, i) => {
          this.cur = bodies[i];
          if (c.bind !== undefined) this.emit({ k: 'bind', v: c.bind, x: s.x, pos: c.pos });
          this.stmts(c.body);
          this.jumpTo(exit.id);
        });
        this.targets.pop();
        this.cur = exit;
        break;
      }
      case 'select': {
        const label = this.takeLabel();
        const exit = this.newBlock();
        const bodies = s.cases.map(() => this.newBlock());
        // `select {}` blocks forever: the path ends.
        this.cur.term = bodies.length ? { k: 'choice', to: bodies.map((b) => b.id) } : { k: 'panic', pos: s.pos };
        this.targets.push({ label, brk: exit.id });
        s.cases.forEach((c, i) => {
          this.cur = bodies[i];
          if (c.comm) this.stmt(c.comm);
          this.stmts(c.body);
          this.jumpTo(exit.id);
        });
        this.targets.pop();
        this.cur = exit;
        break;
      }
      case 'go':
        this.emit({ k: 'go', call: s.call, pos: s.pos });
        break;
      case 'defer':
        this.emit({ k: 'defer', call: s.call, pos: s.pos });
        break;
      case 'return':
        if (s.results.length) this.emit({ k: 'results', results: s.results, pos: s.pos });
        this.end({ k: 'return', pos: s.pos });
        break;
      case 'branch':
        this.branch(s.tok, s.label);
        break;
      case 'labeled': {
        const id = this.labelBlock(s.label);
        this.jumpTo(id);
        this.pendingLabel = s.label;
        this.stmt(s.stmt);
        this.pendingLabel = undefined;
        break;
      }
      case 'empty':
        break;
    }
  }

  private branch(tok: 'break' | 'continue' | 'goto' | 'fallthrough', label?: string): void {
    if (tok === 'goto') {
      if (label) {
        this.cur.term = { k: 'jump', to: this.labelBlock(label) };
        this.cur = this.newBlock();
      }
      return;
    }
    if (tok === 'fallthrough') {
      if (this.fallthroughTo !== undefined) this.end({ k: 'jump', to: this.fallthroughTo });
      return;
    }
    for (let i = this.targets.length - 1; i >= 0; i--) {
      const t = this.targets[i];
      if (label && t.label !== label) continue;
      if (tok === 'break') {
        this.end({ k: 'jump', to: t.brk });
        return;
      }
      if (t.cont !== undefined) {
        this.end({ k: 'jump', to: t.cont });
        return;
      }
      if (label) break;
    }
    // A branch with no target (broken code): end the path.
    this.end({ k: 'panic', pos: this.fn.bodyEnd });
  }

  /** Lowers a condition into branches, splitting &&, || and !. */
  private cond(e: Expr, t: number, f: number): void {
    if (e.k === 'paren') return this.cond(e.x, t, f);
    if (e.k === 'unary' && e.op === '!') return this.cond(e.x, f, t);
    if (e.k === 'binary' && (e.op === '&&' || e.op === '||')) {
      const mid = this.newBlock();
      if (e.op === '&&') this.cond(e.x, mid.id, f);
      else this.cond(e.x, t, mid.id);
      this.cur = mid;
      this.cond(e.y, t, f);
      return;
    }
    this.cur.term = { k: 'cond', cond: e, t, f };
    this.cur = this.newBlock();
  }
}

/** Instructions with a call can fork (summary cases, inlined closures). */
export function mayFork(instr: Instr): boolean {
  let found = false;
  const visit = (e: Expr | undefined): void => {
    if (!e || found) return;
    if (e.k === 'call') {
      found = true;
      return;
    }
    forEachChildExpr(e, visit);
  };
  switch (instr.k) {
    case 'eval':
    case 'incdec':
      visit(instr.x);
      break;
    case 'assign':
      instr.lhs.forEach(visit);
      instr.rhs.forEach(visit);
      break;
    case 'send':
      visit(instr.ch);
      visit(instr.value);
      break;
    case 'defer':
    case 'go':
      return true;
    case 'range':
      visit(instr.key);
      visit(instr.value);
      break;
    case 'bind':
      visit(instr.x);
      break;
    case 'results':
      instr.results.forEach(visit);
      break;
  }
  return found;
}
