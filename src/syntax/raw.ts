// A plain-JS copy of a tree-sitter subtree, taken in one cursor walk so the
// (costly, per-call) wasm tree can be deleted right away and the converters
// work on ordinary objects.
import type { Node, Tree, TreeCursor } from 'web-tree-sitter';

export interface RawNode {
  type: string;
  field: string | null;
  start: number; // UTF-16 offsets into the source string
  end: number;
  named: boolean;
  children: RawNode[];
}

// Anonymous tokens worth keeping when they carry no field name.
const KEEP_ANONYMOUS = new Set([':=', '=']);

interface LanguageTables {
  typeNames: string[];
  named: boolean[];
  fieldNames: (string | null)[];
}

const tables = new WeakMap<object, LanguageTables>();

function tablesFor(tree: Tree): LanguageTables {
  const lang = tree.language;
  let t = tables.get(lang);
  if (!t) {
    const typeNames: string[] = [];
    const named: boolean[] = [];
    for (let i = 0; i < lang.nodeTypeCount; i++) {
      typeNames.push(lang.nodeTypeForId(i) ?? '');
      named.push(lang.nodeTypeIsNamed(i));
    }
    const fieldNames: (string | null)[] = [null];
    for (let i = 1; i <= lang.fieldCount; i++) fieldNames.push(lang.fieldNameForId(i));
    t = { typeNames, named, fieldNames };
    tables.set(lang, t);
  }
  return t;
}

/**
 * Copies `node` and its descendants. Anonymous punctuation is dropped, and
 * so are the insides of nodes whose type is in `prune` (kept as empty nodes).
 */
export function copyTree(tree: Tree, node: Node, prune?: ReadonlySet<string>): RawNode {
  const t = tablesFor(tree);
  const cursor = node.walk();
  try {
    return copyAt(cursor, t, null, prune);
  } finally {
    cursor.delete();
  }
}

function copyAt(cursor: TreeCursor, t: LanguageTables, field: string | null, prune: ReadonlySet<string> | undefined): RawNode {
  const typeId = cursor.nodeTypeId;
  const out: RawNode = {
    type: t.typeNames[typeId],
    field,
    start: cursor.startIndex,
    end: cursor.endIndex,
    named: t.named[typeId],
    children: [],
  };
  if (prune?.has(out.type)) return out;
  if (cursor.gotoFirstChild()) {
    do {
      const fid = cursor.currentFieldId;
      const childField = fid ? t.fieldNames[fid] : null;
      if (!childField) {
        const id = cursor.nodeTypeId;
        if (!t.named[id] && !KEEP_ANONYMOUS.has(t.typeNames[id])) continue;
      }
      out.children.push(copyAt(cursor, t, childField, prune));
    } while (cursor.gotoNextSibling());
    cursor.gotoParent();
  }
  return out;
}

export function fieldChild(n: RawNode, field: string): RawNode | undefined {
  for (const c of n.children) if (c.field === field) return c;
  return undefined;
}

export function fieldChildren(n: RawNode, field: string): RawNode[] {
  return n.children.filter((c) => c.field === field);
}

export function namedChildren(n: RawNode): RawNode[] {
  return n.children.filter((c) => c.named && c.type !== 'comment');
}
