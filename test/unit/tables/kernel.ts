// The kernel side of the table checks: the Linux 7.2 source tree the lab's provision step extracts
// (test/lab/lib/config.ts: paths.source), read in place and never copied into the repo. C headers are
// read for #define constants and enum members; struct layouts come from one C compile per family (sizeof
// and offsetof of every field, as the compiler lays them out); YAML specs are resolved by the kernel's own
// ynl library (ynl-resolve.py). Without the tree a check is skipped locally and fails under CI=true.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { paths, sourceReady } from '../../lab/lib/config.ts';
import type { FieldKind, StructSpec } from '../../../server/netlink/struct.ts';
import type { AttrSet } from '../../../server/netlink/spec.ts';

/** The extracted tree, or undefined after registering a skip (locally) or a failing test (CI=true). */
export function linuxSource(what: string): string | undefined {
  if (sourceReady()) return paths.source;
  const reason = `${what}: no Linux 7.2 source tree at ${paths.source} (run \`npm run lab -- provision\`)`;
  if (process.env.CI) test(`${what}: kernel sources present`, () => assert.fail(reason));
  else test(`${what} against the kernel`, { skip: reason }, () => {});
  return undefined;
}

// ---- C headers: #define constants and enum members ----

export interface HeaderConstants {
  /** Every #define that evaluates to an integer and every enum member. */
  value: ReadonlyMap<string, number>;
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '').replace(/\\\n/g, ' ');
}

/** Parse #defines and enums of one or more headers (given as text), resolving references between them. */
export function headerConstants(...texts: string[]): HeaderConstants {
  const defines = new Map<string, string>();
  const enumBodies: Array<Array<[string, string | undefined]>> = [];
  for (const raw of texts) {
    const text = stripComments(raw);
    for (const m of text.matchAll(/^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+([^\n]+)$/gm)) defines.set(m[1]!, m[2]!.trim());
    for (const m of text.matchAll(/\benum\s*\w*\s*\{([^}]*)\}/g)) {
      // #defines inside an enum body (XFRM_MSG_NEWSA XFRM_MSG_NEWSA, #if around members) are not members
      const body = m[1]!.replace(/^[ \t]*#[^\n]*$/gm, '');
      enumBodies.push(body.split(',').map((s) => s.trim()).filter(Boolean).map((s): [string, string | undefined] => {
        const eq = s.indexOf('=');
        return eq < 0 ? [s, undefined] : [s.slice(0, eq).trim(), s.slice(eq + 1).trim()];
      }));
    }
  }
  const value = new Map<string, number>();
  const visiting = new Set<string>();
  const lookup = (name: string): number | undefined => {
    if (value.has(name)) return value.get(name);
    const expr = defines.get(name);
    if (expr === undefined || visiting.has(name)) return undefined;
    visiting.add(name);
    const v = evaluate(expr, lookup);
    visiting.delete(name);
    if (v !== undefined) value.set(name, v);
    return v;
  };
  for (const members of enumBodies) {
    let next = 0; // a member without `=` is the previous one + 1, the first 0
    for (const [name, expr] of members) {
      const v = expr === undefined ? next : evaluate(expr, lookup);
      if (v === undefined) throw new Error(`enum member ${name} = ${expr}: cannot evaluate`);
      value.set(name, v);
      next = v + 1;
    }
  }
  for (const name of defines.keys()) lookup(name);
  return { value };
}

/** An integer constant expression (literals, earlier names, + - * << >> | & ~ and parentheses), or undefined. */
function evaluate(expr: string, lookup: (name: string) => number | undefined): number | undefined {
  let failed = false;
  const js = expr.replace(/\b0[xX][0-9a-fA-F]+[uUlL]*\b|\b\d+[uUlL]*\b|\b[A-Za-z_]\w*\b/g, (tok) => {
    if (/^\d|^0[xX]/.test(tok)) return `${BigInt(tok.replace(/[uUlL]+$/, ''))}n`;
    const v = lookup(tok);
    if (v === undefined) failed = true;
    return `${v}n`;
  });
  if (failed || !/^[\dn\s()+\-*<>|&~]+$/.test(js)) return undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    return Number(new Function(`return (${js});`)() as bigint);
  } catch {
    return undefined;
  }
}

/** The constants of uapi headers of the tree (e.g. 'linux/psp.h'), or undefined without the tree. */
export function uapiConstants(...headers: string[]): HeaderConstants | undefined {
  return sourceReady() ? headerConstants(...headers.map((h) => uapiHeader(paths.source, h))) : undefined;
}

/** A uapi header of the tree, e.g. uapiHeader(src, 'linux/xfrm.h'). */
export function uapiHeader(src: string, rel: string): string {
  return readFileSync(join(src, 'include', 'uapi', rel), 'utf8');
}

/** Our NAME for a table's name ('alg-auth' → 'ALG_AUTH'). */
export const cName = (name: string): string => name.toUpperCase().replace(/-/g, '_');

// ---- C structs: members from the header text, layout from the compiler ----

export interface CField {
  name: string;
  /** The declared type ('__be32', 'struct xfrm_selector', 'xfrm_address_t', …); arrays are marked by `array`. */
  type: string;
  array: boolean;
  offset: number;
  size: number;
}
export interface CStruct {
  name: string;
  size: number;
  fields: CField[];
}

function structMembers(text: string, name: string): Array<Omit<CField, 'offset' | 'size'>> {
  const clean = stripComments(text);
  const m = new RegExp(`\\bstruct\\s+${name}\\s*\\{`).exec(clean);
  if (!m) throw new Error(`struct ${name} not found in the headers`);
  let depth = 1;
  let i = m.index + m[0].length;
  const start = i;
  while (depth > 0 && i < clean.length) depth += clean[i] === '{' ? 1 : clean[i] === '}' ? -1 : 0, i++;
  const body = clean.slice(start, i - 1).replace(/^[ \t]*#[^\n]*$/gm, '');
  if (body.includes('{')) throw new Error(`struct ${name}: nested unions/structs are not parsed`);
  const out: Array<Omit<CField, 'offset' | 'size'>> = [];
  const annotation = /\b__(counted_by|attribute__|aligned)\w*\s*\((?:[^()]|\([^()]*\))*\)/g;
  for (const decl of body.split(';').map((s) => s.replace(annotation, '').replace(/\s+/g, ' ').trim()).filter(Boolean)) {
    const [first, ...more] = decl.split(',').map((s) => s.trim());
    const head = /^(.*?)\s*\b(\w+)\s*(\[[^\]]*\])?$/.exec(first!);
    if (!head) throw new Error(`struct ${name}: cannot read member '${decl}'`);
    const type = head[1]!.trim();
    for (const [n, arr] of [[head[2]!, head[3]], ...more.map((s) => /^(\w+)\s*(\[[^\]]*\])?$/.exec(s)!.slice(1))]) {
      if (arr === '[]') continue; // flexible array: not part of the fixed size
      out.push({ name: n!, type, array: arr !== undefined });
    }
  }
  return out;
}

/**
 * The layout of each named struct as the compiler sees it, and the value of each C expression in `values`:
 * one compile including `includes` (uapi paths of the tree first, then the system's) with sizeof/offsetof
 * of every member parsed from `headerText`.
 */
export function structLayouts(src: string, includes: string[], headerText: string, names: string[], values: string[] = []): Map<string, CStruct> & { values: Map<string, number> } {
  const members = new Map(names.map((n) => [n, structMembers(headerText, n)]));
  const lines = ['#define _GNU_SOURCE', ...includes.map((h) => `#include <${h}>`), '#include <stdio.h>', '#include <stddef.h>', 'int main(void) {'];
  values.forEach((v, i) => lines.push(`  printf("V ${i} %lld\\n", (long long)(${v}));`));
  for (const [s, fs] of members) {
    lines.push(`  printf("S ${s} %zu\\n", sizeof(struct ${s}));`);
    for (const f of fs) lines.push(`  printf("F ${s} ${f.name} %zu %zu\\n", offsetof(struct ${s}, ${f.name}), sizeof(((struct ${s} *)0)->${f.name}));`);
  }
  lines.push('  return 0;', '}');
  const dir = mkdtempSync(join(tmpdir(), 'sascope-tables-'));
  try {
    writeFileSync(join(dir, 'layout.c'), lines.join('\n'));
    // The tree's uapi headers as `make headers_install` would leave them: it drops the <linux/compiler.h>
    // includes (asm/swab.h) and the annotations that header defines; an empty stand-in does the same.
    mkdirSync(join(dir, 'linux'));
    writeFileSync(join(dir, 'linux', 'compiler.h'), '#define __user\n#define __force\n#define __iomem\n#define __attribute_const__\n');
    const inc = [join(src, 'include', 'uapi'), join(src, 'arch', 'x86', 'include', 'uapi'), dir].flatMap((d) => ['-I', d]);
    execFileSync('cc', ['-D__EXPORTED_HEADERS__', ...inc, '-o', join(dir, 'layout'), join(dir, 'layout.c')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const out = execFileSync(join(dir, 'layout'), { encoding: 'utf8' });
    const result = Object.assign(new Map<string, CStruct>(), { values: new Map<string, number>() });
    for (const line of out.trim().split('\n')) {
      const [k, s, a, b, c] = line.split(' ');
      if (k === 'V') result.values.set(values[Number(s)]!, Number(a));
      else if (k === 'S') result.set(s!, { name: s!, size: Number(a), fields: [] });
      else {
        const decl = members.get(s!)!.find((f) => f.name === a)!;
        result.get(s!)!.fields.push({ ...decl, offset: Number(b), size: Number(c) });
      }
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const C_SCALAR: Record<string, string[]> = {
  u8: ['__u8', 'unsigned char', 'uint8_t'],
  u16: ['__u16', 'unsigned short', 'unsigned short int', '__kernel_sa_family_t', 'uint16_t'],
  u32: ['__u32', 'unsigned int', 'unsigned', 'uint32_t', '__kernel_uid32_t'],
  u64: ['__u64', '__aligned_u64', 'uint64_t'],
  s32: ['int', '__s32', 'int32_t'],
  be16: ['__be16'],
  be32: ['__be32'],
};

/**
 * Our field table against the compiler's layout: the size; each of our fields at the offset, size and
 * byte order/signedness of the C member it mirrors (named as it, or as its suffix after the struct's
 * prefix: sadb_sa_spi ↔ spi); every C member covered by one of ours; our padding never over a C member.
 */
export function assertStructMatches(ours: StructSpec, c: CStruct): void {
  assert.equal(ours.size, c.size, `struct ${c.name}: size ${ours.size} in the table, ${c.size} in the kernel`);
  for (const cf of c.fields) {
    const f = ours.fields.find((o) => o.offset === cf.offset && o.size === cf.size);
    assert.ok(f, `struct ${c.name}: no field of the table at offset ${cf.offset} with size ${cf.size} for ${cf.type} ${cf.name}`);
    if (typeof f.kind === 'object' && 'pad' in f.kind) continue; // a reserved member read as padding
    assert.ok(cf.name === f.name || cf.name.endsWith(`_${f.name}`), `struct ${c.name}: field '${f.name}' at offset ${cf.offset} is ${cf.name} in the kernel`);
    assertKind(c.name, f.name, f.kind, cf);
  }
  for (const f of ours.fields) {
    const cf = c.fields.find((x) => x.offset === f.offset && x.size === f.size);
    if (typeof f.kind === 'object' && 'pad' in f.kind) {
      const over = c.fields.find((x) => x.size > 0 && x.offset < f.offset + f.size && f.offset < x.offset + x.size);
      assert.ok(!over || cf === over, `struct ${c.name}: padding '${f.name}' (${f.offset}+${f.size}) lies over ${over?.name}`);
    } else {
      assert.ok(cf, `struct ${c.name}: field '${f.name}' at offset ${f.offset} (size ${f.size}) is no member in the kernel`);
    }
  }
}

function assertKind(struct: string, field: string, kind: FieldKind, cf: CField): void {
  const where = `struct ${struct}: field '${field}'`;
  if (typeof kind === 'string') {
    assert.ok(!cf.array && C_SCALAR[kind]!.includes(cf.type), `${where} is ${kind} in the table, ${cf.type} ${cf.name} in the kernel`);
  } else if ('kind' in kind) {
    assert.equal(cf.type, `struct ${kind.name}`, `${where} is struct ${kind.name} in the table, ${cf.type} in the kernel`);
  } else if ('string' in kind) {
    assert.ok(cf.array && /char|__u8/.test(cf.type), `${where} is a string in the table, ${cf.type} ${cf.name} in the kernel`);
  }
  // { bytes }: any member of that size (an address union, a byte array); the size was checked above.
}

// ---- attribute tables against C enums ----

/** Each attribute of a set against the header's constant <prefix><NAME>: same number. */
export function assertAttrsMatchEnum(set: AttrSet, prefix: string, k: HeaderConstants): void {
  for (const [n, a] of set.attrs) {
    const c = `${prefix}${cName(a.name)}`;
    assert.equal(k.value.get(c), n, `${set.name}: attribute ${n} '${a.name}' — the kernel's ${c} is ${k.value.get(c) ?? 'not defined'}`);
  }
}

/** A table of value → name against the header's constants <prefix><NAME>. */
export function assertNamesMatch(what: string, table: Iterable<[number, string]>, prefix: string, k: HeaderConstants, name = cName): void {
  for (const [v, n] of table) {
    const c = `${prefix}${name(n)}`;
    assert.equal(k.value.get(c), v, `${what}: ${v} '${n}' — the kernel's ${c} is ${k.value.get(c) ?? 'not defined'}`);
  }
}

/** value → name pairs of a Record<number, string> or a [value, name] list. */
export function pairs(t: Readonly<Record<number, string>> | ReadonlyArray<readonly [number, string]>): Array<[number, string]> {
  return Array.isArray(t) ? t.map(([v, n]) => [v, n]) : Object.entries(t).map(([v, n]) => [Number(v), n as string]);
}

// ---- attribute types against the kernel's own nla_policy ----

export interface PolicyEntry {
  /** NLA_U32, NLA_FLAG, … (also inside NLA_POLICY_RANGE(NLA_U8, …) and friends) */
  type?: string;
  /** what `.len = sizeof(…)` names: 'struct xfrm_usersa_info', 'xfrm_address_t' */
  sizeofOf?: string;
}

/** The entries `[CONST] = { .type = NLA_…, .len = sizeof(…) }` of one `nla_policy name[…]` array in a kernel .c file. */
export function nlaPolicy(src: string, file: string, name: string): Map<string, PolicyEntry> {
  const text = stripComments(readFileSync(join(src, file), 'utf8'));
  const start = text.search(new RegExp(`nla_policy\\s+${name}\\s*\\[[^\\]]*\\]\\s*=\\s*\\{`));
  if (start < 0) throw new Error(`${file}: no nla_policy ${name}`);
  const body = text.slice(start, text.indexOf('\n};', start));
  const out = new Map<string, PolicyEntry>();
  for (const m of body.matchAll(/\[(\w+)\]\s*=\s*([^\n]*)/g)) {
    const rhs = m[2]!;
    out.set(m[1]!, { type: /\bNLA_(?!POLICY)\w+/.exec(rhs)?.[0], sizeofOf: /sizeof\(\s*([\w ]+?)\s*\)/.exec(rhs)?.[1] });
  }
  return out;
}

const NLA_OF: Record<string, string> = { u8: 'NLA_U8', u16: 'NLA_U16', u32: 'NLA_U32', u64: 'NLA_U64', s32: 'NLA_S32', uint: 'NLA_UINT', sint: 'NLA_SINT', flag: 'NLA_FLAG', nest: 'NLA_NESTED', be16: 'NLA_U16', be32: 'NLA_U32' };

/**
 * Each attribute's type against the kernel's policy for it (an attribute the policy leaves out is not
 * checked): a scalar, flag, string or nest has that NLA_ type; a struct attribute is `.len = sizeof(struct
 * <its struct>)`; a binary or custom-decoded one is a length-checked or binary entry, never a scalar.
 * The policy is what the kernel accepts; where it reads an attribute looser than it writes it, noted below.
 */
export function assertAttrsMatchPolicy(set: AttrSet, prefix: string, policy: Map<string, PolicyEntry>): void {
  for (const [n, a] of set.attrs) {
    const p = policy.get(`${prefix}${cName(a.name)}`);
    // NLA_REJECT: the kernel only sends it (carrier-changes, min-mtu, …): the policy says nothing of its type
    if (!p || (!p.type && !p.sizeofOf) || p.type === 'NLA_REJECT') continue;
    const what = `${set.name}: attribute ${n} '${a.name}' is ${a.type}${a.struct ? ` ${a.struct.name}` : ''} in the table, the kernel's policy says ${p.type ?? ''}${p.sizeofOf ? ` sizeof(${p.sizeofOf})` : ''}`;
    if (a.type === 'struct') assert.equal(p.sizeofOf, `struct ${a.struct!.name}`, what);
    // binary may also keep a nest whole (IFLA_INFO_DATA, decoded by kind); a string may be NLA_BINARY on
    // input where the kernel accepts an empty one (IFLA_IFALIAS) and sends it with nla_put_string.
    else if (a.type === 'binary' || a.type === 'custom') assert.ok(!p.type || p.type === 'NLA_BINARY' || (a.type === 'binary' && p.type === 'NLA_NESTED'), what);
    else if (a.type === 'string') assert.ok(['NLA_STRING', 'NLA_NUL_STRING', 'NLA_BINARY'].includes(p.type!), what);
    else assert.equal(p.type, NLA_OF[a.type], what);
  }
}

// ---- generic netlink tables against the kernel's YAML specs ----

export interface YnlAttr {
  name: string;
  value: number;
  type: string;
  byteOrder: string | null;
  multi: boolean;
  nested: string | null;
  subType: string | null;
  enum: string | null;
  enumAsFlags: boolean;
  struct: string | null;
  hint: string | null;
  subMessage: string | null;
}
export interface YnlFamily {
  name: string;
  protocol: string;
  enums: Record<string, { type: 'enum' | 'flags'; entries: Record<string, number> }>;
  attrSets: Record<string, { subsetOf: string | null; attrs: YnlAttr[] }>;
  ops: Array<{ name: string; req: number | null; rsp: number | null; async: boolean }>;
  mcastGroups: string[];
  /** sub-message name → selector value (a link kind) → the attribute set of that format */
  subMessages: Record<string, Record<string, string>>;
}

/** Documentation/netlink/specs/<name>.yaml as the kernel's ynl resolves it (ynl-resolve.py). */
export function ynlSpec(src: string, name: string): YnlFamily {
  const script = fileURLToPath(new URL('ynl-resolve.py', import.meta.url));
  return JSON.parse(execFileSync('python3', [script, src, join(src, 'Documentation', 'netlink', 'specs', `${name}.yaml`)], { encoding: 'utf8' })) as YnlFamily;
}

const YNL_SCALAR: Record<string, [string, string | null]> = { be16: ['u16', 'big-endian'], be32: ['u32', 'big-endian'] };

/**
 * Our attribute set against the spec's set `specSet`, the way ynl reads it: every attribute of ours is
 * there with the same number and name; its type, byte order, multi-attr and enum names agree; a nest or
 * indexed array holds the spec's nested set, compared the same way (each pair of sets once).
 */
export function assertSetMatchesSpec(ours: AttrSet, spec: YnlFamily, specSet: string, seen = new Set<string>()): void {
  const key = `${ours.name}=${specSet}`;
  if (seen.has(key)) return;
  seen.add(key);
  const set = spec.attrSets[specSet];
  assert.ok(set, `${spec.name}: no attribute set ${specSet} in the spec`);
  for (const [n, a] of ours.attrs) {
    const y = set.attrs.find((x) => x.value === n);
    const at = `${spec.name} ${specSet} (our ${ours.name}): attribute ${n} '${a.name}'`;
    assert.ok(y, `${at} is not in the spec`);
    assert.equal(a.name, y.name, `${at} is '${y.name}' in the spec`);
    const saysType = `${at} is ${a.type} in the table, ${y.type}${y.byteOrder ? ` ${y.byteOrder}` : ''}${y.subType ? ` of ${y.subType}` : ''} in the spec`;
    switch (a.type) {
      case 'nest':
        assert.ok(y.type === 'nest' && y.nested, saysType);
        assertSetMatchesSpec(a.nest!, spec, y.nested, seen);
        break;
      case 'array':
        assert.ok(y.type === 'indexed-array' && y.subType === 'nest' && y.nested, saysType);
        assertSetMatchesSpec(a.nest!, spec, y.nested, seen);
        break;
      case 'struct':
        assert.ok(y.type === 'binary' && y.struct === a.struct!.name, saysType);
        break;
      case 'custom': // a decoder of its own (addresses, key lengths, an integer of any width): anything but a nest
        assert.ok(!['nest', 'indexed-array', 'nest-type-value', 'sub-message'].includes(y.type), saysType);
        break;
      case 'binary': // also a sub-message kept whole, decoded by its selector (IFLA_INFO_DATA by kind)
        assert.ok(y.type === 'binary' || y.type === 'sub-message', saysType);
        break;
      default: {
        const [type, order] = YNL_SCALAR[a.type] ?? [a.type, null];
        assert.ok(y.type === type && (y.byteOrder === 'big-endian') === (order === 'big-endian'), saysType);
      }
    }
    assert.equal(Boolean(a.multi), y.multi, `${at}: multi-attr is ${y.multi} in the spec`);
    if (a.hint && y.hint) assert.ok(y.hint === a.hint || (y.hint === 'ipv4-or-v6' && /^ipv[46]$/.test(a.hint)), `${at}: display hint ${a.hint}, the spec's ${y.hint}`);
    // Enum names the spec leaves out (rt-link's operstate) are held against the headers instead.
    if (a.enum && y.enum) assertEnumMatchesSpec(`${at} (enum ${y.enum})`, pairs(a.enum), spec, y.enum);
  }
}

/** value → name pairs against the spec's enum (for a flags enum, or enum-as-flags, the values are masks). */
export function assertEnumMatchesSpec(what: string, table: Array<[number, string]>, spec: YnlFamily, name: string, asFlags = false): void {
  const e = spec.enums[name];
  assert.ok(e, `${what}: no enum ${name} in the spec`);
  for (const [v, n] of table) {
    const sv = e.entries[n];
    const want = sv === undefined ? undefined : asFlags && e.type === 'enum' ? 2 ** sv : sv;
    assert.equal(v, want, `${what}: ${v} '${n}' is ${want ?? 'not an entry'} in the spec`);
  }
}
