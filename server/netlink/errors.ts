import { errnoHint, errnoMessage, errnoName } from '../sys/errno.ts';

/** A decoder met bytes it cannot read: where, and why. Never thrown past a source: the source logs it once and carries on. */
export class DecodeError extends Error {
  constructor(readonly what: string, readonly offset: number, reason: string) {
    super(`${what}: ${reason} at offset ${offset}`);
    this.name = 'DecodeError';
  }
}

/** The kernel answered a request with an error (NLMSG_ERROR with errno != 0). */
export class NetlinkError extends Error {
  readonly code: string;
  constructor(
    readonly source: string,
    readonly op: string,
    readonly errno: number,
    readonly extack?: { message?: string; offset?: number; missingType?: number },
  ) {
    const code = errnoName(errno);
    const why = extack?.message ?? errnoHint(errno, op) ?? errnoMessage(errno);
    super(`${source}: ${op}: ${code} (${why})`);
    this.name = 'NetlinkError';
    this.code = code;
  }
}

/** A dump was interrupted by a concurrent change (NLM_F_DUMP_INTR); the caller retries. */
export class DumpInterruptedError extends Error {
  constructor(readonly source: string, readonly op: string) {
    super(`${source}: ${op}: dump interrupted by a concurrent change (NLM_F_DUMP_INTR)`);
    this.name = 'DumpInterruptedError';
  }
}
