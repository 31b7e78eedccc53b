// Provisioning: Debian's kernel packages and linux-source from the unstable suite through a
// private apt state (the mirror comes from this machine's own apt sources), the custom kernel
// build (ccache), and the stage-1 initramfs for each kernel. Everything is cached under
// $SASCOPE_LAB_CACHE and keyed by versions and config, so a second run only checks files.
import { spawn } from 'node:child_process';
import {
  closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  APT_SUITE, DEBIAN_KERNEL, LINUX_SOURCE, artifacts, customOut, isProvisioned, paths, sourceReady, type KernelName,
} from './config.ts';
import { alive, run } from './exec.ts';
import { LabError, fmtDuration, phase, say } from './log.ts';

// ---------------------------------------------------------------- apt with a private state

/** The Debian archive URI this machine already uses (never written in the repo). */
export function debianArchiveUri(): string {
  if (process.env.SASCOPE_LAB_APT_URI) return process.env.SASCOPE_LAB_APT_URI;
  const candidates: string[] = [];
  const dir = '/etc/apt/sources.list.d';
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.sources')).sort() : [];
  for (const f of files) {
    // deb822 stanzas separated by blank lines
    for (const stanza of readFileSync(join(dir, f), 'utf8').split(/\n\s*\n/)) {
      const field = (k: string) => stanza.match(new RegExp(`^${k}:\\s*(.+)$`, 'mi'))?.[1].trim() ?? '';
      if (!/\bdeb\b/.test(field('Types')) || !/\bmain\b/.test(field('Components'))) continue;
      if (/^\s*Enabled:\s*no/mi.test(stanza)) continue;
      candidates.push(...field('URIs').split(/\s+/).filter(Boolean));
    }
  }
  for (const f of ['/etc/apt/sources.list', ...listFiles(dir)]) {
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const m = line.match(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+\s+.*\bmain\b/);
      if (m) candidates.push(m[1]);
    }
  }
  // the main archive, not the security one (which has no sid)
  const uri = candidates.find((u) => !/security/.test(u));
  if (!uri) {
    throw new LabError('no Debian archive found in /etc/apt/sources.list(.d); set SASCOPE_LAB_APT_URI');
  }
  return uri.replace(/\/+$/, '');
}

function listFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.list')).map((f) => join(dir, f)) : [];
}

function aptOptions(): string[] {
  const a = paths.apt;
  return [
    '-o', `Dir::Etc::SourceList=${join(a, 'sources.list')}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${join(a, 'lists')}`,
    '-o', `Dir::Cache=${join(a, 'cache')}`,
    '-o', `Dir::State::status=${join(a, 'status')}`,
    '-o', 'APT::Sandbox::User=root',
    '-o', 'Debug::NoLocking=1',
  ];
}

let aptUpdated = false;
async function aptUpdate(): Promise<void> {
  if (aptUpdated) return;
  const a = paths.apt;
  for (const d of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(a, d), { recursive: true });
  if (!existsSync(join(a, 'status'))) writeFileSync(join(a, 'status'), '');
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  const uri = debianArchiveUri();
  writeFileSync(join(a, 'sources.list'), `deb [signed-by=${keyring}] ${uri} ${APT_SUITE} main\n`);
  // apt-get update exits 0 when the archive cannot be reached ("W: Failed to fetch …"): without
  // this check an unreachable archive would read as "no longer has <package>"
  const r = await phase(`apt update (${APT_SUITE}, private state)`, () =>
    run('apt-get', [...aptOptions(), '-qq', 'update'], { allowFail: true }),
  );
  const problem = r.stderr.split('\n').find((l) => /^(E:|W: Failed to fetch)/.test(l));
  if (r.code !== 0 || problem) {
    const why = (problem ?? r.stderr.trim().split('\n')[0] ?? `exit ${r.code}`).replace(/^[EW]: /, '').replace(/\s+/g, ' ');
    throw new LabError(`cannot read Debian's ${APT_SUITE} index from ${uri} (${why}); set SASCOPE_LAB_APT_URI or pre-fill ${paths.cache}`);
  }
  aptUpdated = true;
}

function cachedDeb(name: string, version: string): string | undefined {
  if (!existsSync(paths.debs)) return undefined;
  const prefix = `${name}_${version.replace(/:/g, '%3a')}_`;
  const f = readdirSync(paths.debs).find((x) => x.startsWith(prefix) && x.endsWith('.deb'));
  return f && join(paths.debs, f);
}

/** The .deb files of pinned packages, downloading those not cached yet. */
async function fetchDebs(pkgs: { name: string; version: string }[]): Promise<string[]> {
  const missing = pkgs.filter((p) => !cachedDeb(p.name, p.version));
  if (missing.length) {
    await aptUpdate();
    for (const p of missing) {
      const policy = await run('apt-cache', [...aptOptions(), 'policy', p.name], { allowFail: true });
      if (!new RegExp(`^\\s+(\\*\\*\\*\\s+)?${p.version.replace(/[.+]/g, '\\$&')}\\s`, 'm').test(policy.stdout)) {
        const candidate = policy.stdout.match(/Candidate:\s*(\S+)/)?.[1] ?? 'none';
        throw new LabError(
          `Debian's ${APT_SUITE} no longer has ${p.name}=${p.version} (candidate: ${candidate}) and it is not cached; update the pins in test/lab/lib/config.ts`,
        );
      }
    }
    mkdirSync(paths.debs, { recursive: true });
    await phase(`download ${missing.map((p) => p.name).join(' ')}`, () =>
      run('apt-get', [...aptOptions(), '-qq', 'download', ...missing.map((p) => `${p.name}=${p.version}`)], {
        cwd: paths.debs,
      }),
    );
  }
  return pkgs.map((p) => cachedDeb(p.name, p.version)!);
}

// ---------------------------------------------------------------- lock

/** One provisioner at a time per cache (mkdir is atomic); a dead holder's lock is taken over. */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(paths.cache, { recursive: true });
  let waited = false;
  for (;;) {
    try {
      mkdirSync(paths.lock);
      writeFileSync(join(paths.lock, 'pid'), String(process.pid));
      break;
    } catch {
      let holder = 0;
      try {
        holder = Number(readFileSync(join(paths.lock, 'pid'), 'utf8'));
      } catch {}
      if (holder && !alive(holder)) {
        rmSync(paths.lock, { recursive: true, force: true });
        continue;
      }
      if (!waited) say(`waiting for another provisioner (pid ${holder || '?'}) holding ${paths.lock}`);
      waited = true;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(paths.lock, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- kernels

async function provisionDebian(): Promise<void> {
  const root = paths.debianRoot;
  if (!existsSync(join(root, '.complete'))) {
    const debs = await fetchDebs(DEBIAN_KERNEL.packages.map((name) => ({ name, version: DEBIAN_KERNEL.version })));
    await phase(`extract Debian kernel ${DEBIAN_KERNEL.release} + depmod`, async () => {
      const tmp = `${root}.tmp`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      for (const deb of debs) await run('dpkg-deb', ['-x', deb, tmp]);
      await run('depmod', ['-b', join(tmp, 'usr'), DEBIAN_KERNEL.release]);
      writeFileSync(join(tmp, '.complete'), `${DEBIAN_KERNEL.version}\n`);
      rmSync(root, { recursive: true, force: true });
      renameSync(tmp, root);
    });
  }
  await ensureSource(); // the guest's ovpn/psp helpers run the kernel's ynl from it
  await buildInitramfs('debian');
}

/** Debian's linux-source extracted at the fixed path paths.source (uapi headers, ynl specs). */
export async function ensureSource(): Promise<void> {
  if (sourceReady()) return;
  const [deb] = await fetchDebs([{ name: LINUX_SOURCE.package, version: LINUX_SOURCE.version }]);
  await phase(`extract ${LINUX_SOURCE.package} ${LINUX_SOURCE.version} to ${paths.source}`, async () => {
    const tmp = join(paths.cache, 'src', '.extract');
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    await run('dpkg-deb', ['-x', deb, join(tmp, 'pkg')]);
    const tarball = readdirSync(join(tmp, 'pkg', 'usr', 'src')).find((f) => /^linux-source-.*\.tar\.xz$/.test(f));
    if (!tarball) throw new LabError(`${deb} holds no linux-source tarball`);
    await run('tar', ['-xJf', join(tmp, 'pkg', 'usr', 'src', tarball), '-C', tmp]);
    const top = readdirSync(tmp).find((f) => f.startsWith('linux-source-'))!;
    writeFileSync(join(tmp, top, '.sascope-source-version'), `${LINUX_SOURCE.version}\n`);
    rmSync(paths.source, { recursive: true, force: true });
    // the object dir belongs to the old tree
    rmSync(paths.customObj, { recursive: true, force: true });
    renameSync(join(tmp, top), paths.source);
    rmSync(tmp, { recursive: true, force: true });
  });
}

/**
 * Runs build-custom.sh in its own session with its output going straight to the log file, so a
 * provisioner that is interrupted or killed leaves the build running; the next one waits for it
 * (build-custom.sh holds a flock on the object dir) and then finds ccache and objects warm.
 * Progress: compiled files counted from the log every 30 s.
 */
function buildDetached(logFile: string): Promise<void> {
  const out = customOut();
  return new Promise((resolve, reject) => {
    const fd = openSync(logFile, 'a');
    const child = spawn('bash', [paths.customBuildScript, paths.source, paths.customObj, paths.customFragment, out], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, CCACHE_DIR: paths.ccache },
    });
    closeSync(fd);
    const t0 = Date.now();
    let seen = 0;
    let compiled = 0;
    const scan = () => {
      const text = readFileSync(logFile, 'utf8');
      for (const line of text.slice(seen).split('\n')) {
        if (/^\s+CC\s/.test(line)) compiled++;
        if (/^== /.test(line)) say(`custom kernel: ${line.slice(3)}`);
      }
      seen = text.length;
    };
    const timer = setInterval(() => {
      scan();
      say(`custom kernel: ${compiled} files compiled so far (${fmtDuration(Date.now() - t0)}; a cold build compiles ~${CUSTOM_COMPILES}, a resumed one fewer)`);
    }, 30_000);
    child.on('error', (e) => reject(new LabError(`build-custom.sh: ${e.message}`)));
    child.on('exit', (code) => {
      clearInterval(timer);
      scan();
      if (code === 0) resolve();
      else {
        const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-25).join('\n');
        reject(new LabError(`custom kernel build failed (exit ${code}); log: ${logFile}\n${tail}`));
      }
    });
  });
}

/** Rough number of compiler runs of a cold build (for the progress line). */
const CUSTOM_COMPILES = 1700;

async function provisionCustom(): Promise<void> {
  const out = customOut();
  await ensureSource();
  if (!existsSync(join(out, 'bzImage'))) {
    mkdirSync(paths.logs, { recursive: true });
    const logFile = join(paths.logs, `custom-build-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
    await phase(`build custom kernel ${out} (log: ${logFile})`, () => buildDetached(logFile));
  }
  await buildInitramfs('custom');
}

// ---------------------------------------------------------------- initramfs

const STAGE1_MODULES = ['netfs', '9pnet', '9pnet_virtio', '9p', 'overlay'];

async function buildInitramfs(kernel: KernelName): Promise<void> {
  const target = artifacts(kernel).initrd;
  if (existsSync(target)) return;
  await phase(`initramfs for the ${kernel} kernel`, async () => {
    const stage = join(tmpdir(), `sascope-lab-initramfs-${process.pid}`);
    rmSync(stage, { recursive: true, force: true });
    for (const d of ['bin', 'dev', 'modules']) mkdirSync(join(stage, d), { recursive: true });
    const busybox = ['/bin/busybox', '/usr/bin/busybox'].find(existsSync);
    if (!busybox) throw new LabError('busybox-static is not installed (test/lab/host-deps.sh)');
    await run('cp', [busybox, join(stage, 'bin', 'busybox')]);
    await run('cp', [paths.init1, join(stage, 'init')]);
    if (kernel === 'debian') {
      const dep = readFileSync(join(paths.debianModules, 'modules.dep'), 'utf8');
      for (const m of STAGE1_MODULES) {
        const rel = dep.match(new RegExp(`^(\\S*/${m}\\.ko(?:\\.xz)?):`, 'm'))?.[1];
        if (!rel) throw new LabError(`module ${m} not found in ${paths.debianModules}`);
        const src = join(paths.debianModules, rel);
        const dst = join(stage, 'modules', `${m}.ko`);
        if (src.endsWith('.xz')) await run('sh', ['-c', 'xz -dc "$1" > "$2"', 'sh', src, dst]);
        else await run('cp', [src, dst]);
      }
    }
    // /dev/console must exist before /init runs or its output is lost (root only; init1 copes)
    await run('mknod', [join(stage, 'dev', 'console'), 'c', '5', '1'], { allowFail: true });
    mkdirSync(join(target, '..'), { recursive: true });
    await run('sh', ['-c', 'cd "$1" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -6 > "$2.tmp" && mv "$2.tmp" "$2"', 'sh', stage, target]);
    rmSync(stage, { recursive: true, force: true });
  });
}

// ---------------------------------------------------------------- entry

export async function provision(kernels: KernelName[], opts: { hostDeps?: boolean } = {}): Promise<void> {
  if (opts.hostDeps !== false) {
    await phase('host packages (test/lab/host-deps.sh)', () =>
      run('bash', [paths.hostDeps]).then((r) => void (r.stdout.trim() && say(r.stdout.trim()))),
    );
  }
  const report = (k: KernelName) => say(`${k} kernel: cached (${artifacts(k).image})`);
  // a cached kernel needs no lock: another provisioner may be busy building the other one
  kernels.filter(isProvisioned).forEach(report);
  const todo = kernels.filter((k) => !isProvisioned(k));
  if (!todo.length) return;
  await withLock(async () => {
    for (const k of todo) {
      if (isProvisioned(k)) {
        report(k); // made by the provisioner we waited for
        continue;
      }
      await phase(`provision ${k} kernel`, () => (k === 'debian' ? provisionDebian() : provisionCustom()));
    }
  });
}

/** How much the cache holds, for `provision` output. */
export function cacheSummary(): string {
  const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);
  return KERNELS_SUMMARY.map((k) => `${k}: ${isProvisioned(k) ? `${artifacts(k).image} (${(size(artifacts(k).image) / 1e6).toFixed(1)} MB)` : 'not provisioned'}`).join('; ');
}
const KERNELS_SUMMARY: KernelName[] = ['debian', 'custom'];
