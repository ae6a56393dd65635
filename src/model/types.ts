// A light type model: enough of Go's types to resolve methods, struct fields,
// conversions and cgo's C types, without a full type checker. Anything it
// cannot work out is `unknown`, and the analysis treats unknown as "do not
// report".

export type Ty =
  | { k: 'basic'; name: string }
  /** A declared type; `args` are the type arguments of an instantiated generic type (S[chan bool]). */
  | { k: 'named'; pkg: string; name: string; args?: Ty[] }
  | { k: 'c'; name: string }
  | { k: 'unsafeptr' }
  | { k: 'pointer'; elem: Ty }
  | { k: 'slice'; elem: Ty }
  | { k: 'array'; elem: Ty; len?: number }
  | { k: 'map'; key: Ty; value: Ty }
  | { k: 'chan'; elem: Ty }
  | { k: 'func'; params: Ty[]; results: Ty[]; variadic?: boolean }
  | { k: 'struct'; fields: { name: string; type: Ty; embedded: boolean }[] }
  | { k: 'interface' }
  | { k: 'tuple'; items: Ty[] }
  | { k: 'unknown' };

export const UNKNOWN: Ty = { k: 'unknown' };
export const UNSAFE_POINTER: Ty = { k: 'unsafeptr' };

export const BASIC_TYPES = new Set([
  'bool', 'string', 'int', 'int8', 'int16', 'int32', 'int64', 'uint', 'uint8', 'uint16', 'uint32', 'uint64',
  'uintptr', 'byte', 'rune', 'float32', 'float64', 'complex64', 'complex128', 'error', 'any', 'comparable',
]);

export function basic(name: string): Ty {
  return { k: 'basic', name };
}

export function pointerTo(elem: Ty): Ty {
  return { k: 'pointer', elem };
}

export function tyString(t: Ty): string {
  switch (t.k) {
    case 'basic':
      return t.name;
    case 'named':
      return `${t.pkg}.${t.name}${t.args ? `[${t.args.map(tyString).join(', ')}]` : ''}`;
    case 'c':
      return `C.${t.name}`;
    case 'unsafeptr':
      return 'unsafe.Pointer';
    case 'pointer':
      return `*${tyString(t.elem)}`;
    case 'slice':
      return `[]${tyString(t.elem)}`;
    case 'array':
      return `[${t.len ?? '?'}]${tyString(t.elem)}`;
    case 'map':
      return `map[${tyString(t.key)}]${tyString(t.value)}`;
    case 'chan':
      return `chan ${tyString(t.elem)}`;
    case 'func':
      return `func(${t.params.map(tyString).join(', ')}) (${t.results.map(tyString).join(', ')})`;
    case 'struct':
      return `struct{${t.fields.map((f) => `${f.name} ${tyString(f.type)}`).join('; ')}}`;
    case 'interface':
      return 'interface{}';
    case 'tuple':
      return `(${t.items.map(tyString).join(', ')})`;
    case 'unknown':
      return '?';
  }
}

/** True for types whose values are (or may hide) pointers worth tracking. */
export function mayHoldPointer(t: Ty): boolean {
  switch (t.k) {
    case 'basic':
      return t.name === 'any' || t.name === 'error';
    case 'c':
      return false;
    case 'array':
      return mayHoldPointer(t.elem);
    case 'struct':
      return t.fields.some((f) => mayHoldPointer(f.type));
    default:
      return true;
  }
}

export function isError(t: Ty): boolean {
  return t.k === 'basic' && t.name === 'error';
}

/** The pointed-to type of a pointer (or unknown). */
export function deref(t: Ty): Ty {
  return t.k === 'pointer' ? t.elem : UNKNOWN;
}

export function isStringType(t: Ty): boolean {
  return t.k === 'basic' && t.name === 'string';
}

const GO_SIZES: Record<string, number> = {
  bool: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4,
  int: 8, uint: 8, uintptr: 8, int64: 8, uint64: 8, float64: 8, complex64: 8, complex128: 16, string: 16,
};

export function basicSize(name: string): number | undefined {
  return GO_SIZES[name];
}
