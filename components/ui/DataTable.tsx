'use client';
// Every list of the console is this table. TanStack Table holds the columns, headers, sort state and
// visibility; rows are sorted by sort-rows.ts (one comparator for every list), so TanStack Table only
// builds row objects for the rows it renders. Headers sort on click and say their order (aria-sort).
// Keyboard: arrows / PageUp / PageDown / Home / End move the active row, Enter opens it.
// Two bodies: a native table with every row (small lists; rows take focus, roving tabindex), and for big
// lists (`virtual`) an ARIA grid where TanStack Virtual keeps only the rows on screen in the DOM (the
// grid takes focus, the active row is its active descendant) — 100k rows stay smooth. There, row
// elements are recycled (keyed by slot, see useSlots; cells by column), so
// a fling that brings hundreds of new rows per frame updates text in place instead of building and
// dropping DOM; rows move by transform and are containment boundaries (contain: strict), and the body
// is one too, so a frame's layout stays inside the rows that changed.
import { memo, useCallback, useEffect, useId, useMemo, useRef, useState, type KeyboardEvent, type ReactElement, type ReactNode } from 'react';
import { flexRender, getCoreRowModel, useReactTable, type Column as TableColumn, type ColumnDef, type Header, type Row, type SortingState, type Table, type VisibilityState } from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { RowSorter } from './sort-rows';

/** The common column: how a row shows and, when it sorts, the value it sorts by. */
export interface Column<T> {
  id: string;
  header: string;
  cell: (row: T) => ReactNode;
  sortValue?: (row: T) => unknown;
  align?: 'left' | 'right';
}

/** TanStack column definitions for common columns (a column without sortValue does not sort). */
export function columnsOf<T>(columns: Column<T>[]): ColumnDef<T, any>[] {
  return columns.map((c) => ({ id: c.id, header: c.header, accessorFn: c.sortValue, enableSorting: !!c.sortValue, cell: (ctx) => c.cell(ctx.row.original), meta: { align: c.align } }));
}

export interface DataTableProps<T> {
  label: string;
  rows: readonly T[];
  columns: ColumnDef<T, any>[];
  rowKey: (row: T) => string;
  /** The sort kept by the caller (e.g. in the URL); without it the table keeps its own, from initialSort. */
  sorting?: SortingState;
  onSortingChange?: (s: SortingState) => void;
  initialSort?: { id: string; desc?: boolean };
  columnVisibility?: VisibilityState;
  selectedKey?: string;
  onOpen?: (row: T) => void;
  rowTestId?: (row: T) => string;
  rowClass?: (row: T) => string;
  /** A big list: only the rows on screen are in the DOM; the body is `height` px (default: the rows, up to maxHeight). */
  virtual?: { height?: number; maxHeight?: number; rowHeight?: number };
  /**
   * What the big list's cells read besides their row and the columns (e.g. the clock, for countdowns).
   * Given, a row on screen renders again only when it, its row, its place or the columns change (a
   * scroll renders only the rows that came into view); not given, on every render of the table's owner.
   */
  refresh?: unknown;
}

const NONE_HIDDEN: VisibilityState = {};

export function DataTable<T>(p: DataTableProps<T>) {
  const [ownSorting, setOwnSorting] = useState<SortingState>(() => (p.initialSort ? [{ id: p.initialSort.id, desc: !!p.initialSort.desc }] : []));
  const sorting = p.sorting ?? ownSorting;
  const onSortingChange = p.onSortingChange ?? setOwnSorting;
  const [sorter] = useState(() => new RowSorter<T>());
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const sorted = useMemo(() => sorter.sort(p.rows, p.columns, sorting, p.rowKey), [p.rows, p.columns, sorting]);
  const body = { ...p, sorted, sorting, onSortingChange };
  return p.virtual ? <GridBody {...body} virtual={p.virtual} /> : <TableBody {...body} />;
}

interface BodyProps<T> extends DataTableProps<T> {
  sorted: readonly T[];
  sorting: SortingState;
  onSortingChange: (s: SortingState) => void;
}

/** TanStack Table over `data` (the rows to render, already sorted). First click sorts ascending, then it toggles. */
function useTable<T>(p: BodyProps<T>, data: readonly T[]): Table<T> {
  return useReactTable({
    data: data as T[],
    columns: p.columns,
    state: { sorting: p.sorting, columnVisibility: p.columnVisibility ?? NONE_HIDDEN },
    onSortingChange: (u) => p.onSortingChange(typeof u === 'function' ? u(p.sorting) : u),
    manualSorting: true,
    sortDescFirst: false,
    enableSortingRemoval: false,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (r) => p.rowKey(r),
  });
}

/** The row a key moves to from `at` among `count` rows, 'open' for Enter, undefined for other keys. */
function rowKeyTarget(key: string, at: number, count: number, page: number): number | 'open' | undefined {
  const to: Record<string, number> = { ArrowDown: at + 1, ArrowUp: at - 1, PageDown: at + page, PageUp: at - page, Home: 0, End: count - 1 };
  if (key === 'Enter') return 'open';
  return key in to ? Math.max(0, Math.min(count - 1, to[key]!)) : undefined;
}

const ariaSort = (c: TableColumn<any, unknown>) => (c.getIsSorted() === 'asc' ? 'ascending' : c.getIsSorted() === 'desc' ? 'descending' : 'none');
const alignOf = (c: TableColumn<any, unknown>) => c.columnDef.meta?.align;

/** A header's content: its sort button (when the column sorts) or its text. */
function HeaderContent<T>({ header }: { header: Header<T, unknown> }) {
  const c = header.column;
  const text = flexRender(c.columnDef.header, header.getContext());
  if (!c.getCanSort()) return <>{text}</>;
  const dir = c.getIsSorted();
  return (
    <button type="button" onClick={c.getToggleSortingHandler()} className="inline-flex items-center gap-1 uppercase hover:text-slate-900 dark:hover:text-white">
      {text}
      <span aria-hidden="true">{dir === 'asc' ? '▲' : dir === 'desc' ? '▼' : ''}</span>
    </button>
  );
}

/** Every row in a native table; the rows take focus (one is in the tab order). */
function TableBody<T>(p: BodyProps<T>) {
  const table = useTable(p, p.sorted);
  const rows = table.getRowModel().rows;
  const [focus, setFocus] = useState(0);
  const body = useRef<HTMLTableSectionElement>(null);
  const onKey = (e: KeyboardEvent<HTMLTableRowElement>, i: number, row: T) => {
    const to = rowKeyTarget(e.key, i, rows.length, 10);
    if (to === undefined) return;
    e.preventDefault();
    if (to === 'open') return p.onOpen?.(row);
    setFocus(to);
    (body.current?.children[to] as HTMLElement | undefined)?.focus();
  };
  return (
    <div className="overflow-x-auto">
      <table aria-label={p.label} className="w-full border-collapse text-sm">
        <thead className="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-500 dark:bg-slate-900 dark:text-slate-400">
          {table.getHeaderGroups().map((hg) => (
            <tr key={hg.id}>
              {hg.headers.map((h) => (
                <th key={h.id} scope="col" aria-sort={ariaSort(h.column)} className={`px-3 py-2 font-medium ${alignOf(h.column) === 'right' ? 'text-right' : ''}`}>
                  <HeaderContent header={h} />
                </th>
              ))}
            </tr>
          ))}
        </thead>
        <tbody ref={body}>
          {rows.map((r, i) => {
            const selected = p.selectedKey === r.id;
            return (
              <tr
                key={r.id}
                data-key={r.id}
                data-testid={p.rowTestId?.(r.original)}
                tabIndex={i === Math.min(focus, rows.length - 1) ? 0 : -1}
                aria-selected={selected}
                onKeyDown={(e) => onKey(e, i, r.original)}
                onFocus={() => setFocus(i)}
                onClick={() => p.onOpen?.(r.original)}
                className={`border-t border-slate-100 dark:border-slate-800 ${p.onOpen ? 'cursor-pointer' : ''} ${
                  selected ? 'bg-blue-50 dark:bg-blue-950' : 'hover:bg-slate-50 dark:hover:bg-slate-800/50'
                } focus:bg-blue-50 dark:focus:bg-blue-950 ${p.rowClass?.(r.original) ?? ''}`}
              >
                {r.getVisibleCells().map((c) => (
                  <td key={c.column.id} className={`px-3 py-1.5 align-top ${alignOf(c.column) === 'right' ? 'text-right tabular' : ''}`}>
                    {flexRender(c.column.columnDef.cell, c.getContext())}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/**
 * A row element (slot) for each index on screen: an index that stays on screen keeps its slot, one that
 * comes into view takes a slot an index that left had, in the order they had (a fling that replaces every
 * row reuses every element in place, with no DOM moves; a few rows of wheel scrolling move those few).
 * Keyed by index modulo a fixed count instead, rows that come into view took keys not on screen and every
 * frame of a scroll built new row elements and dropped old ones.
 */
function useSlots(indexes: number[]): Map<number, number> {
  const last = useRef(new Map<number, number>());
  return (last.current = assignSlots(last.current, indexes));
}

/** useSlots' rule: the slot of each index given the slots of the indexes on screen before. */
export function assignSlots(prev: ReadonlyMap<number, number>, indexes: readonly number[]): Map<number, number> {
  const next = new Map<number, number>();
  const used = new Set<number>();
  for (const i of indexes) {
    const s = prev.get(i);
    if (s !== undefined) next.set(i, s), used.add(s);
  }
  const free = [...prev.values()].filter((s) => !used.has(s));
  let fresh = Math.max(-1, ...prev.values()) + 1;
  for (const i of indexes) if (!next.has(i)) next.set(i, free.shift() ?? fresh++);
  return next;
}

/** Rows rendered beyond each edge of the grid's view (each costs its render in every frame of a fling). */
const OVERSCAN = 6;

/** Only the rows on screen, in recycled slots of a grid (useSlots); the grid takes focus. */
function GridBody<T>(p: BodyProps<T> & { virtual: NonNullable<DataTableProps<T>['virtual']> }) {
  const id = useId();
  const { sorted, onOpen, selectedKey } = p;
  const rowHeight = p.virtual.rowHeight ?? 32;
  const height = p.virtual.height ?? Math.max(rowHeight * 2, Math.min(p.virtual.maxHeight ?? 560, sorted.length * rowHeight + 4));
  const scroller = useRef<HTMLDivElement>(null);
  // initialRect: the first render already has the rows on screen (not only after the element is measured).
  const v = useVirtualizer({ count: sorted.length, getScrollElement: () => scroller.current, estimateSize: () => rowHeight, overscan: OVERSCAN, initialRect: { width: 1000, height } });
  const items = v.getVirtualItems();
  const slotOf = useSlots(items.map((vi) => vi.index));
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? -1;
  const onScreen = useMemo(() => sorted.slice(first, last + 1), [sorted, first, last]);
  const table = useTable(p, onScreen);
  const model = table.getRowModel().rows; // the rows on screen: model[i - first] is sorted[i]
  const count = sorted.length;
  const [active, setActive] = useState(0);
  useEffect(() => {
    if (active >= count) setActive(Math.max(0, count - 1));
  }, [count, active]);
  const visibleCols = table.getVisibleLeafColumns();
  const template = useMemo(() => visibleCols.map((c) => `minmax(${c.getSize()}px, ${c.columnDef.meta?.grow ?? 1}fr)`).join(' '), [visibleCols]);
  // What every row's cells depend on besides the row: a new value renders every row on screen again.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const cellsOf = useMemo(() => ({}), [p.columns, p.columnVisibility, p.refresh === undefined ? p : p.refresh]);
  const latest = useRef({ sorted, onOpen });
  latest.current = { sorted, onOpen };
  const open = useCallback((index: number) => {
    setActive(index);
    const r = latest.current.sorted[index];
    if (r) latest.current.onOpen?.(r);
  }, []);

  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    // Keys on a header's sort button are the button's own (Enter sorts; it does not open the active row).
    if (e.target !== e.currentTarget) return;
    const to = rowKeyTarget(e.key, active, count, Math.max(1, Math.floor(height / rowHeight) - 1));
    if (to === undefined) return;
    e.preventDefault();
    if (to === 'open') {
      const r = sorted[active];
      if (r) onOpen?.(r);
      return;
    }
    setActive(to);
    v.scrollToIndex(to, { align: 'auto' });
  };
  const activeRow = sorted[active];

  return (
    <div
      role="grid"
      aria-label={p.label}
      aria-rowcount={count + 1}
      aria-colcount={visibleCols.length}
      aria-activedescendant={activeRow ? `${id}-r${active}` : undefined}
      tabIndex={0}
      onKeyDown={onKey}
      className="text-sm outline-none focus-visible:ring-2 focus-visible:ring-blue-500"
    >
      <div role="rowgroup" className="border-b border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500 dark:border-slate-800 dark:bg-slate-900 dark:text-slate-400">
        {table.getHeaderGroups().map((hg) => (
          <div role="row" aria-rowindex={1} key={hg.id} className="grid" style={{ gridTemplateColumns: template }}>
            {hg.headers.map((h) => (
              <div role="columnheader" key={h.id} aria-sort={ariaSort(h.column)} className={`truncate px-2 py-2 font-medium ${alignOf(h.column) === 'right' ? 'text-right' : ''}`}>
                <HeaderContent header={h} />
              </div>
            ))}
          </div>
        ))}
      </div>
      {/* Opaque (the panel's colour): Chromium scrolls an opaque scroller on the compositor, without repainting it each frame. */}
      <div ref={scroller} role="rowgroup" style={{ height, overflow: 'auto', contain: 'strict' }} className="bg-white dark:bg-slate-900" data-testid="vtable-body">
        <div style={{ height: v.getTotalSize(), position: 'relative', contain: 'layout paint style' }}>
          {items.map((vi) => {
            const r = model[vi.index - first];
            if (!r) return null;
            const isActive = vi.index === active;
            const selected = selectedKey === r.id;
            const className = `absolute left-0 right-0 grid cursor-pointer items-center border-b border-slate-100 dark:border-slate-800 ${
              selected ? 'bg-blue-50 dark:bg-blue-950' : isActive ? 'bg-slate-100 dark:bg-slate-800' : 'hover:bg-slate-50 dark:hover:bg-slate-800/50'
            } ${isActive ? 'outline outline-1 -outline-offset-1 outline-blue-500' : ''} ${p.rowClass?.(r.original) ?? ''}`;
            return (
              <GridRow
                key={slotOf.get(vi.index)}
                row={r}
                original={r.original}
                id={`${id}-r${vi.index}`}
                index={vi.index}
                start={vi.start}
                height={rowHeight}
                template={template}
                selected={selected}
                className={className}
                testId={p.rowTestId?.(r.original)}
                cellsOf={cellsOf}
                open={open}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
}

interface GridRowProps<T> {
  row: Row<T>;
  original: T;
  id: string;
  index: number;
  start: number;
  height: number;
  template: string;
  selected: boolean;
  className: string;
  testId?: string;
  cellsOf: object;
  open: (index: number) => void;
}

/** One row of the grid; renders only when its row, place, look or cellsOf changes (not for every frame of a scroll). */
const GridRow = memo(
  function GridRow<T>({ row, id, index, start, height, template, selected, className, testId, open }: GridRowProps<T>) {
    return (
      <div
        role="row"
        id={id}
        data-key={row.id}
        data-testid={testId}
        aria-rowindex={index + 2}
        aria-selected={selected}
        onClick={() => open(index)}
        className={className}
        style={{ top: 0, transform: `translateY(${start}px)`, height, gridTemplateColumns: template, contain: 'strict' }}
      >
        {row.getVisibleCells().map((c) => (
          <div role="gridcell" key={c.column.id} className={`truncate px-2 ${alignOf(c.column) === 'right' ? 'text-right tabular' : ''}`}>
            {flexRender(c.column.columnDef.cell, c.getContext())}
          </div>
        ))}
      </div>
    );
  },
  // The TanStack row object is new on every render of the grid; what it shows is its original row.
  (a, b) =>
    a.original === b.original && a.index === b.index && a.start === b.start && a.id === b.id && a.height === b.height && a.template === b.template &&
    a.selected === b.selected && a.className === b.className && a.testId === b.testId && a.cellsOf === b.cellsOf && a.open === b.open,
) as <T>(p: GridRowProps<T>) => ReactElement;

/** A column chooser: which columns the grid shows (kept in the URL by the caller). */
export function ColumnChooser({ columns, hidden, onChange }: { columns: Array<{ id: string; label: string }>; hidden: Set<string>; onChange: (hidden: Set<string>) => void }) {
  return (
    <details className="relative text-xs">
      <summary className="cursor-pointer rounded border border-slate-300 px-2 py-1 dark:border-slate-700">Columns</summary>
      <fieldset className="absolute right-0 z-20 mt-1 w-48 space-y-1 rounded border border-slate-300 bg-white p-2 shadow dark:border-slate-700 dark:bg-slate-900">
        <legend className="sr-only">Visible columns</legend>
        {columns.map((c) => (
          <label key={c.id} className="flex items-center gap-2">
            <input
              type="checkbox"
              checked={!hidden.has(c.id)}
              onChange={(e) => {
                const next = new Set(hidden);
                if (e.target.checked) next.delete(c.id);
                else next.add(c.id);
                onChange(next);
              }}
            />
            {c.label}
          </label>
        ))}
      </fieldset>
    </details>
  );
}
