'use client';
// A big-table grid: TanStack Table for columns, headers, sort state and visibility; TanStack Virtual so
// only the rows on screen exist in the DOM, and TanStack Table only builds those rows (sorting is one
// pass over the data in sort-rows.ts) — 100k rows stay smooth. Keyboard: focus the grid, arrows /
// PageUp / PageDown / Home / End move the active row, Enter opens it. ARIA grid roles throughout.
// Scrolling: row elements are recycled (keyed by slot, index modulo the most rows ever on screen, cells by
// column), so a fling that brings hundreds of new rows per frame updates text in place instead of
// building and dropping DOM; rows move by transform and are containment boundaries (contain: strict),
// and the body is one too, so a frame's layout stays inside the rows that changed.
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { flexRender, getCoreRowModel, useReactTable, type ColumnDef, type SortingState, type VisibilityState } from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { sortRows } from './sort-rows';

export interface VirtualTableProps<T> {
  label: string;
  rows: T[];
  columns: ColumnDef<T, any>[];
  rowKey: (row: T) => string;
  sorting: SortingState;
  onSortingChange: (s: SortingState) => void;
  columnVisibility?: VisibilityState;
  selectedKey?: string;
  onOpen?: (row: T) => void;
  /** Visible height in px. */
  height?: number;
  rowHeight?: number;
  rowClass?: (row: T) => string;
}

const NONE_HIDDEN: VisibilityState = {};

export function VirtualTable<T>({ label, rows, columns, rowKey, sorting, onSortingChange, columnVisibility, selectedKey, onOpen, height = 600, rowHeight = 32, rowClass }: VirtualTableProps<T>) {
  const id = useId();
  // Sorted here (sort-rows.ts), not by TanStack's sorted row model: TanStack Table then builds row
  // objects only for the rows on screen, so 100k rows cost one accessor call each per sort.
  const sorted = useMemo(() => sortRows(rows, columns, sorting), [rows, columns, sorting]);
  const scroller = useRef<HTMLDivElement>(null);
  // initialRect: the first render already has the rows on screen (not only after the element is measured).
  const v = useVirtualizer({ count: sorted.length, getScrollElement: () => scroller.current, estimateSize: () => rowHeight, overscan: 12, initialRect: { width: 1000, height } });
  const items = v.getVirtualItems();
  // More slots than rows can ever be on screen at once (visible + overscan on both sides + partial rows).
  const slots = Math.ceil(height / rowHeight) + 2 * 12 + 4;
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? -1;
  const onScreen = useMemo(() => sorted.slice(first, last + 1), [sorted, first, last]);
  const table = useReactTable({
    data: onScreen as T[],
    columns,
    state: { sorting, columnVisibility: columnVisibility ?? NONE_HIDDEN },
    onSortingChange: (u) => onSortingChange(typeof u === 'function' ? u(sorting) : u),
    manualSorting: true,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (r) => rowKey(r),
  });
  const model = table.getRowModel().rows; // the rows on screen: model[i - first] is sorted[i]
  const count = sorted.length;
  const [active, setActive] = useState(0);
  useEffect(() => {
    if (active >= count) setActive(Math.max(0, count - 1));
  }, [count, active]);
  const visibleCols = table.getVisibleLeafColumns();
  const template = useMemo(() => visibleCols.map((c) => `minmax(${c.getSize()}px, ${c.columnDef.meta?.grow ?? 1}fr)`).join(' '), [visibleCols]);

  const move = (i: number) => {
    const n = Math.max(0, Math.min(count - 1, i));
    setActive(n);
    v.scrollToIndex(n, { align: 'auto' });
  };
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const page = Math.max(1, Math.floor(height / rowHeight) - 1);
    const keys: Record<string, () => void> = {
      ArrowDown: () => move(active + 1),
      ArrowUp: () => move(active - 1),
      PageDown: () => move(active + page),
      PageUp: () => move(active - page),
      Home: () => move(0),
      End: () => move(count - 1),
      Enter: () => {
        const r = sorted[active];
        if (r) onOpen?.(r);
      },
    };
    const fn = keys[e.key];
    if (fn) {
      e.preventDefault();
      fn();
    }
  };
  const activeRow = sorted[active];

  return (
    <div
      role="grid"
      aria-label={label}
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
            {hg.headers.map((h) => {
              const sorted = h.column.getIsSorted();
              return (
                <div
                  role="columnheader"
                  key={h.id}
                  aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none'}
                  className={`truncate px-2 py-2 font-medium ${h.column.columnDef.meta?.align === 'right' ? 'text-right' : ''}`}
                >
                  {h.column.getCanSort() ? (
                    <button type="button" tabIndex={-1} onClick={h.column.getToggleSortingHandler()} className="uppercase hover:text-slate-900 dark:hover:text-white">
                      {flexRender(h.column.columnDef.header, h.getContext())}
                      <span aria-hidden="true">{sorted === 'asc' ? ' ▲' : sorted === 'desc' ? ' ▼' : ''}</span>
                    </button>
                  ) : (
                    flexRender(h.column.columnDef.header, h.getContext())
                  )}
                </div>
              );
            })}
          </div>
        ))}
      </div>
      <div ref={scroller} role="rowgroup" style={{ height, overflow: 'auto', contain: 'strict' }} data-testid="vtable-body">
        <div style={{ height: v.getTotalSize(), position: 'relative', contain: 'layout paint style' }}>
          {items.map((vi) => {
            const r = model[vi.index - first];
            if (!r) return null;
            const key = r.id;
            const isActive = vi.index === active;
            return (
              <div
                role="row"
                id={`${id}-r${vi.index}`}
                key={vi.index % slots}
                data-key={key}
                aria-rowindex={vi.index + 2}
                aria-selected={selectedKey === key}
                onClick={() => {
                  setActive(vi.index);
                  onOpen?.(r.original);
                }}
                className={`absolute left-0 right-0 grid cursor-pointer items-center border-b border-slate-100 dark:border-slate-800 ${
                  selectedKey === key ? 'bg-blue-50 dark:bg-blue-950' : isActive ? 'bg-slate-100 dark:bg-slate-800' : 'hover:bg-slate-50 dark:hover:bg-slate-800/50'
                } ${isActive ? 'outline outline-1 -outline-offset-1 outline-blue-500' : ''} ${rowClass?.(r.original) ?? ''}`}
                style={{ top: 0, transform: `translateY(${vi.start}px)`, height: rowHeight, gridTemplateColumns: template, contain: 'strict' }}
              >
                {r.getVisibleCells().map((c) => (
                  <div role="gridcell" key={c.column.id} className={`truncate px-2 ${c.column.columnDef.meta?.align === 'right' ? 'text-right tabular' : ''}`}>
                    {flexRender(c.column.columnDef.cell, c.getContext())}
                  </div>
                ))}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

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
