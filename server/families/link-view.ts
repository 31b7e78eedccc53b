// The link view other families read: ifindex → name, kind, state, kept once for the whole process (the link
// family's link/watch.ts implements it) and handed to each source that needs it at wiring time (server/kernel.ts).
// A shared module of the family layer, so no family imports the link family. Families never read the
// model; a family that needs links depends on this interface only, never on the link family's classes.
import type { Link } from '../wire/entities.ts';

export interface LinkWatcher {
  /** RTM_NEWLINK (removed false) or RTM_DELLINK, after the view has applied it (and after a dump in progress). */
  onChange(l: Link, removed: boolean): void;
  /** Link events were lost: the next current() re-reads every link (a watcher re-reads what it made of them). */
  onOverrun(reason: string): void;
  onDecodeError(err: unknown, what: string): void;
}

export interface LinkView {
  /** Be told of every change until the returned function is called. Opens the view's sockets (throws SyscallError). */
  watch(w: LinkWatcher): () => void;
  /** Every link by ifindex, read from the kernel first when not known (the first call, lost events); rejects with the dump's error. */
  current(): Promise<ReadonlyMap<number, Link>>;
  /** A link as last known, without reading. */
  get(ifindex: number): Link | undefined;
}
