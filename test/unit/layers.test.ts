// The layer rule of docs/architecture.md, enforced: every import of every .ts/.tsx/.mjs under server/, app/
// and components/ — static, `export … from`, dynamic import(), and type-only ones (`import type`,
// `typeof import('…')`: a type import still ties a module to that layer's definitions, so it counts) —
// points down the layers or stays in its own, and a family imports no other family.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { projectRoot } from '../helpers.ts';

/** The layers, lowest first. A path belongs to the first entry with a prefix it starts with. */
const LAYERS: ReadonlyArray<readonly [string, readonly string[]]> = [
  // Shared protocol types and pure functions over them: every layer and the UI may import them; they import only each other.
  ['wire', ['server/wire/']],
  // libc through koffi, and what the whole process shares: the logger, the config file's schema and its defaults, the version.
  ['sys', ['server/sys/', 'server/log.ts', 'server/log-line.ts', 'server/config.ts', 'server/config-defaults.ts', 'server/version.ts']],
  ['netlink', ['server/netlink/']],
  ['genl', ['server/genl/']],
  ['families', ['server/families/']],
  ['model', ['server/model/']],
  ['history', ['server/history/']],
  // The fleet over NATS (docs/fleet.md): beside the hub, the agent and the console read and feed the model.
  ['fleet', ['server/fleet/']],
  ['hub', ['server/hub/']],
  // The wiring: the only code that names a family above the family layer.
  ['process', ['server/kernel.ts', 'server/main.ts', 'server/agent.ts', 'server/cli.ts', 'server/snapshot.ts', 'server/sign-in.ts', 'server/bin.mjs', 'server/build.mjs']],
  // The browser: imports only itself and server/wire.
  ['ui', ['app/', 'components/']],
];

/**
 * Imports the rule allows by name, each with why. typeOnly: only `import type` passes (an interface, never
 * the other family's code). An entry no import uses any more fails the test too, so the list only shrinks.
 */
const EXCEPTIONS: ReadonlyArray<{ to: string; from: readonly string[]; typeOnly: boolean; why: string }> = [];

/** Dynamic imports whose specifier is computed, each with why (the rule cannot follow them). */
const COMPUTED: ReadonlyArray<{ from: string; why: string }> = [
  { from: 'server/bin.mjs', why: 'loads the built bundle (server/.build), the same code as cli.ts; bin.mjs is the process layer' },
];

interface Import {
  from: string;
  /** Repository-relative target; undefined for a computed dynamic import. */
  to: string | undefined;
  line: number;
  /** `import type`, `export type … from`, every named binding `type`, or `typeof import('…')`. */
  typeOnly: boolean;
}

/** Every project-local import of one file (npm and node: modules are outside the rule). */
function importsOf(file: string, text: string): Import[] {
  const kind = file.endsWith('.tsx') ? ts.ScriptKind.TSX : file.endsWith('.mjs') ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const out: Import[] = [];
  const add = (node: ts.Node, spec: ts.Node | undefined, typeOnly = false) => {
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    if (!spec || !ts.isStringLiteralLike(spec)) return void out.push({ from: file, to: undefined, line, typeOnly });
    const s = spec.text;
    if (s.startsWith('.')) out.push({ from: file, to: resolve(path.posix.join(path.posix.dirname(file), s)), line, typeOnly });
    else if (s.startsWith('@/')) out.push({ from: file, to: resolve(s.slice(2)), line, typeOnly });
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n)) add(n, n.moduleSpecifier, typeOnlyClause(n.importClause));
    else if (ts.isExportDeclaration(n) && n.moduleSpecifier) add(n, n.moduleSpecifier, n.isTypeOnly);
    else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) add(n, n.moduleReference.expression, n.isTypeOnly);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) add(n, n.arguments[0]);
    else if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'require' && n.arguments.length === 1) add(n, n.arguments[0]);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) add(n, n.argument.literal, true);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** `import type …`, or `import { type A, type B }` (nothing of the module's code is loaded). */
function typeOnlyClause(c: ts.ImportClause | undefined): boolean {
  if (!c) return false; // import './x.ts': for its effects
  if (c.isTypeOnly) return true;
  if (c.name) return false;
  const b = c.namedBindings;
  return b !== undefined && ts.isNamedImports(b) && b.elements.length > 0 && b.elements.every((e) => e.isTypeOnly);
}

/** A specifier's file as written, or with the extension or index file a bundler would add. */
function resolve(p: string): string {
  const n = path.posix.normalize(p);
  for (const c of [n, `${n}.ts`, `${n}.tsx`, `${n}/index.ts`, `${n}/index.tsx`]) if (existsSync(path.join(projectRoot, c)) && !c.endsWith('/')) return c;
  return n;
}

function layerOf(file: string): { name: string; rank: number } | undefined {
  const rank = LAYERS.findIndex(([, prefixes]) => prefixes.some((p) => file.startsWith(p)));
  return rank < 0 ? undefined : { name: LAYERS[rank]![0], rank };
}

/** The family folder a file is in (server/families/<family>/…); undefined for the family layer's shared modules. */
function familyOf(file: string): string | undefined {
  return /^server\/families\/([^/]+)\//.exec(file)?.[1];
}

/** Why an import breaks the rule, or undefined when it keeps it. */
function violation(from: string, to: string): string | undefined {
  const a = layerOf(from);
  const b = layerOf(to);
  if (!a) return `${from} is in no layer (add it to LAYERS here and to docs/architecture.md)`;
  if (!b) return `imports ${to}, which is outside the layers`;
  if (a.name === 'ui') return b.name === 'ui' || b.name === 'wire' ? undefined : `the UI imports ${b.name} (it may import only server/wire)`;
  if (b.name === 'ui') return `${a.name} imports the UI`;
  if (a.name === 'wire') return b.name === 'wire' ? undefined : `server/wire imports ${b.name} (wire imports only wire)`;
  if (b.rank > a.rank) return `${a.name} imports ${b.name}, a layer above it`;
  const fa = familyOf(from);
  const fb = familyOf(to);
  if (a.name === 'families' && fb !== undefined && fb !== fa) {
    return fa ? `family ${fa} imports family ${fb}` : `the family layer's shared module imports family ${fb}`;
  }
  if (fb !== undefined && a.name !== 'process' && a.name !== 'families') {
    return `${a.name} imports family ${fb} (above the family layer only the wiring names a family)`;
  }
  return undefined;
}

/** Every .ts/.tsx/.mjs under the roots (hidden folders such as server/.build and node_modules skipped). */
function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(path.join(projectRoot, dir), { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|tsx|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const root of ['server', 'app', 'components']) walk(root);
  return out.sort();
}

/** What breaks the rule in these files, as lines "file:line: why". */
function check(files: ReadonlyMap<string, string>, exceptions = EXCEPTIONS, computed = COMPUTED): { broken: string[]; unusedExceptions: string[] } {
  const broken: string[] = [];
  const used = new Set<string>();
  for (const [file, text] of files) {
    for (const imp of importsOf(file, text)) {
      if (imp.to === undefined) {
        if (computed.some((c) => c.from === file)) used.add(`computed ${file}`);
        else broken.push(`${file}:${imp.line}: a dynamic import with a computed specifier (list it in COMPUTED with why)`);
        continue;
      }
      const why = violation(file, imp.to);
      if (!why) continue;
      const allowed = exceptions.find((e) => e.to === imp.to && e.from.includes(file));
      if (allowed && (imp.typeOnly || !allowed.typeOnly)) used.add(`${file} -> ${imp.to}`);
      else broken.push(`${file}:${imp.line}: ${why}${allowed ? ', and only its types may be imported' : ''} (${imp.to})`);
    }
  }
  const unusedExceptions = [
    ...exceptions.flatMap((e) => e.from.filter((f) => !used.has(`${f} -> ${e.to}`)).map((f) => `${f} -> ${e.to}`)),
    ...computed.filter((c) => !used.has(`computed ${c.from}`)).map((c) => `computed import in ${c.from}`),
  ];
  return { broken, unusedExceptions };
}

test('every import of server/, app/ and components/ points down the layers, and no family imports another', () => {
  const files = new Map(sourceFiles().map((f) => [f, readFileSync(path.join(projectRoot, f), 'utf8')]));
  assert.ok(files.size > 100, `found ${files.size} source files`);
  const { broken, unusedExceptions } = check(files);
  assert.deepEqual(broken, [], `imports against the layer rule (docs/architecture.md):\n${broken.join('\n')}`);
  assert.deepEqual(unusedExceptions, [], 'exceptions for imports that are gone: remove them from the list');
});

test('the rule catches an upward, a sideways, a type-only, a dynamic and a UI import', () => {
  const files = new Map([
    ['server/families/xfrm/sa.ts', "import type { Model } from '../../model/model.ts';\nimport { x } from '../pfkey/spec.ts';\nimport { y } from '../address.ts';"],
    ['server/netlink/conn.ts', "const m = await import('../hub/hub.ts');\ntype H = typeof import('../genl/genl.ts');"],
    ['server/model/views.ts', "import { candidatesFor } from '../families/crypto/proc.ts';\nimport type { ModelSink } from '../families/source.ts';"],
    ['components/Foo.tsx', "import { Model } from '@/server/model/model.ts';\nimport type { Tunnel } from '@/server/wire/tunnels.ts';\nimport { Bar } from './Bar.tsx';"],
    ['server/wire/x.ts', "import { Logger } from '../log.ts';"],
    ['server/hub/http.ts', 'const m = await import(name);'],
  ]);
  const { broken } = check(files, [], []);
  assert.deepEqual(broken, [
    'server/families/xfrm/sa.ts:1: families imports model, a layer above it (server/model/model.ts)',
    'server/families/xfrm/sa.ts:2: family xfrm imports family pfkey (server/families/pfkey/spec.ts)',
    'server/netlink/conn.ts:1: netlink imports hub, a layer above it (server/hub/hub.ts)',
    'server/netlink/conn.ts:2: netlink imports genl, a layer above it (server/genl/genl.ts)',
    'server/model/views.ts:1: model imports family crypto (above the family layer only the wiring names a family) (server/families/crypto/proc.ts)',
    'components/Foo.tsx:1: the UI imports model (it may import only server/wire) (server/model/model.ts)',
    'server/wire/x.ts:1: server/wire imports sys (wire imports only wire) (server/log.ts)',
    'server/hub/http.ts:1: a dynamic import with a computed specifier (list it in COMPUTED with why)',
  ]);
  const viaInterface = [{ to: 'server/families/link/view.ts', from: ['server/families/ovpn/source.ts'], typeOnly: true, why: 'test' }];
  const ovpn = new Map([['server/families/ovpn/source.ts', "import type { LinkView } from '../link/view.ts';\nimport { type LinkWatcher, x } from '../link/view.ts';"]]);
  assert.deepEqual(check(ovpn, viaInterface, []).broken, [
    'server/families/ovpn/source.ts:2: family ovpn imports family link, and only its types may be imported (server/families/link/view.ts)',
  ]);
});
