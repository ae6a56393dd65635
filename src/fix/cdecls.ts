// What fixes need to know of the C side: a function's parameter and result
// types, so that a call a fix writes passes the right Go type (a `void *`
// parameter takes `unsafe.Pointer(x)`, a `FILE *` takes `x`). Read from the
// file's preamble, then, when it does not declare the function, from the
// headers it includes through the C preprocessor.
import path from 'node:path';
import { addCSource, addHeaderDeclarations } from '../model/cmodel.js';
import { emptyCModel, type CFunc, type CModel } from '../model/cdecls.js';
import { cgoFlags, preprocessPreamble } from '../model/cpreprocess.js';
import { resolveCType, cTypeString, type CType } from '../model/ctypes.js';
import type { BuildContext } from '../syntax/buildtags.js';
import type { GoSource } from './source.js';

const HOST_BUILD: BuildContext = {
  goos: process.platform === 'darwin' ? 'darwin' : 'linux',
  goarch: process.arch === 'arm64' ? 'arm64' : 'amd64',
  tags: [],
  cgo: true,
  goMinor: 99,
};

export class CDeclarations {
  private model?: CModel;
  private withHeaders = false;

  constructor(
    private readonly src: GoSource,
    /** Absolute path of the file, for the preprocessor's include path. */
    private readonly absPath: string,
  ) {}

  func(name: string): CFunc | undefined {
    const preamble = this.src.go.preamble?.text;
    if (preamble === undefined) return undefined;
    if (!this.model) {
      this.model = emptyCModel();
      addCSource(this.model, preamble, { source: 'preamble', bodies: false });
    }
    if (!this.model.funcs.has(name) && !this.withHeaders) {
      this.withHeaders = true;
      const dir = path.dirname(this.absPath);
      const pre = preprocessPreamble(preamble, dir, cgoFlags(preamble, dir, HOST_BUILD));
      if (pre.text !== undefined) addHeaderDeclarations(this.model, pre.text);
    }
    return this.model.funcs.get(name);
  }

  /** The type as C spells it, typedefs resolved. */
  typeName(t: CType): string {
    return cTypeString(this.model ? resolveCType(t, this.model) : t);
  }

  /** What a pointer type points to, typedefs resolved; undefined for any other type. */
  pointee(t: CType): CType | undefined {
    const r = this.model ? resolveCType(t, this.model) : t;
    return r.k === 'ptr' ? r.to : undefined;
  }

  isVoidPointer(t: CType): boolean {
    const r = this.model ? resolveCType(t, this.model) : t;
    return r.k === 'ptr' && (this.model ? resolveCType(r.to, this.model) : r.to).k === 'void';
  }
}
