// Unit tests of the small parsers: build constraints, file heads, contracts,
// Go literals, positions and directives.
import { describe, expect, it } from 'vitest';
import { ContractSyntaxError, parseContract } from '../src/model/contracts.js';
import { parseDirective } from '../src/syntax/directives.js';
import { decodeGoString, parseGoInt } from '../src/syntax/golit.js';
import { LineIndex, byteToUtf16Column } from '../src/syntax/positions.js';
import { evalConstraint, evalPlusBuild, matchesFileName, type BuildContext } from '../src/syntax/buildtags.js';
import { readGoHeader } from '../src/workspace/goheader.js';
import { splitJSONObjects } from '../src/workspace/discover.js';

const linux: BuildContext = { goos: 'linux', goarch: 'amd64', tags: ['foo'], cgo: true, goMinor: 26 };

describe('build constraints', () => {
  it('evaluates //go:build expressions', () => {
    expect(evalConstraint('linux && amd64', linux)).toBe(true);
    expect(evalConstraint('linux && !cgo', linux)).toBe(false);
    expect(evalConstraint('(darwin || freebsd) && !ignore', linux)).toBe(false);
    expect(evalConstraint('unix', linux)).toBe(true);
    expect(evalConstraint('go1.21 && foo', linux)).toBe(true);
    expect(evalConstraint('go1.27', linux)).toBe(false);
    expect(evalConstraint('ignore', linux)).toBe(false);
    expect(evalConstraint('linux &&', linux)).toBe(false); // malformed: excluded
  });

  it('evaluates legacy +build lines', () => {
    expect(evalPlusBuild(['linux,amd64 darwin'], linux)).toBe(true);
    expect(evalPlusBuild(['!linux'], linux)).toBe(false);
    expect(evalPlusBuild(['linux', 'arm64'], linux)).toBe(false);
  });

  it('applies _GOOS and _GOARCH file name suffixes', () => {
    expect(matchesFileName('x_linux.go', linux)).toBe(true);
    expect(matchesFileName('x_windows.go', linux)).toBe(false);
    expect(matchesFileName('x_linux_arm64.go', linux)).toBe(false);
    expect(matchesFileName('x_darwin_test.go', linux)).toBe(false);
    expect(matchesFileName('linux.go', linux)).toBe(true);
    expect(matchesFileName('x_unix.go', linux)).toBe(true);
  });
});

describe('file heads', () => {
  it('reads constraints, package and imports, and stops at the first declaration', () => {
    const h = readGoHeader(`// Copyright
//go:build linux && cgo
// +build linux,cgo

// Package p does things.
package p

/*
#include <stdio.h>
*/
import "C"

import (
	"fmt"
	u "unsafe" // aliased
	_ "embed"
)

import "os"

var x = "import \\"net\\""
`);
    expect(h.buildConstraint).toBe('linux && cgo');
    expect(h.plusBuild).toEqual(['linux,cgo']);
    expect(h.pkgName).toBe('p');
    expect(h.importsC).toBe(true);
    expect(h.imports).toEqual(['C', 'fmt', 'unsafe', 'embed', 'os']);
  });

  it('ignores //go:build after the package clause', () => {
    expect(readGoHeader('package p\n//go:build ignore\n').buildConstraint).toBeUndefined();
  });

  it('splits go list output into objects', () => {
    expect(splitJSONObjects('{"a": "}{"}\n{"b": {"c": 1}}\n{broken')).toEqual([{ a: '}{' }, { b: { c: 1 } }]);
  });
});

describe('contracts', () => {
  it('parses every clause', () => {
    const c = parseContract('open_db(path, out) writes owned to out released by close_db; borrows path', 'test');
    expect(c).toMatchObject({ name: 'open_db', params: ['path', 'out'], writesOwned: [{ param: 1, releasedBy: ['close_db'] }], borrows: [0] });
    expect(parseContract('make() returns owned', 't').returns).toEqual({ kind: 'owned', releasedBy: ['free'] });
    expect(parseContract('C.get(h) returns borrowed', 't')).toMatchObject({ name: 'get', returns: { kind: 'borrowed' } });
    expect(parseContract('push(q, item) takes 2', 't').takes).toEqual([1]);
    expect(parseContract('release(p) releases p', 't').releases).toEqual([0]);
    expect(parseContract('mk(n) returns owned released by a, C.b', 't').returns).toEqual({ kind: 'owned', releasedBy: ['a', 'b'] });
  });

  it('takes name and parameters from the documented Go function', () => {
    expect(parseContract('returns owned released by Free', 't', 'New', ['s'])).toMatchObject({ name: 'New', params: ['s'] });
    expect(parseContract('takes s', 't', 'Keep', ['s']).takes).toEqual([0]);
  });

  it('says what is wrong', () => {
    const cases: [string, RegExp][] = [
      ['', /missing function name/],
      ['f(p)', /no clause/],
      ['f(p) returns shiny', /expected "owned" or "borrowed"/],
      ['f(p) releases q', /unknown parameter "q"/],
      ['f releases x', /unknown parameter "x" \(list the parameters/],
      ['f(p) releases 0', /start at 1/],
      ['f(p) takes p frees p', /expected ";" between clauses/],
      ['f(p) returns owned released by', /expected a function name/],
      ['f(p) gives p', /unknown clause "gives"/],
      ['f(p', /unclosed parameter list/],
    ];
    for (const [text, re] of cases) {
      expect(() => parseContract(text, 't'), text).toThrow(ContractSyntaxError);
      expect(() => parseContract(text, 't'), text).toThrow(re);
    }
  });
});

describe('Go literals', () => {
  it('decodes strings with Go escapes and counts bytes', () => {
    expect(decodeGoString('"overflow!"')).toEqual({ text: 'overflow!', bytes: 9 });
    expect(decodeGoString('"a\\x00\\n\\u00e9"')!.bytes).toBe(5);
    expect(decodeGoString('"\\377"')!.bytes).toBe(1);
    expect(decodeGoString('`raw\\n`')).toEqual({ text: 'raw\\n', bytes: 5 });
    expect(decodeGoString('"😀"')!.bytes).toBe(4);
    expect(decodeGoString('"bad\\q"')).toBeUndefined();
  });

  it('parses integers in every base', () => {
    expect(parseGoInt('1<<30')).toBeUndefined();
    expect(parseGoInt('0x1F')).toBe(31);
    expect(parseGoInt('0o17')).toBe(15);
    expect(parseGoInt('017')).toBe(15);
    expect(parseGoInt('0b101')).toBe(5);
    expect(parseGoInt('1_000')).toBe(1000);
  });
});

describe('positions', () => {
  it('gives Go byte columns and UTF-16 columns', () => {
    const text = 'package p\nvar s = "é😀"; var x = 1\n';
    const idx = new LineIndex(text);
    const off = text.indexOf('x =');
    expect(idx.position(off)).toEqual({ line: 2, column: 23 });
    expect(idx.utf16Column(off)).toBe(19);
    expect(byteToUtf16Column(idx.lineText(2), 23)).toBe(20);
    expect(idx.lineText(2)).toBe('var s = "é😀"; var x = 1');
  });
});

describe('directives', () => {
  it('reads verb and text, up to a trailing comment', () => {
    expect(parseDirective('//cgoguard:ignore leak freed by the pool // note')).toEqual({ verb: 'ignore', text: 'leak freed by the pool' });
    expect(parseDirective('// cgoguard:contract f(p) takes p */')).toEqual({ verb: 'contract', text: 'f(p) takes p' });
    expect(parseDirective('// not a directive')).toBeUndefined();
  });
});
