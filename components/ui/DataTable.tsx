'use client';
// An accessible data table: sortable headers (aria-sort), rows reachable by keyboard (Tab into the
// table, arrows/Home/End/PageUp/PageDown to move, Enter to open), visible focus.
import { useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';

export interface Column<T> {
  id: string;
  header: string;
  cell: (row: T) => ReactNode;
  sortValue?: (row: T) => string | number | bigint;
  align?: 'left' | 'right';
  className?: string;
}

export interface DataTableProps<T> {
  label: string;
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  initialSort?: { id: string; desc?: boolean };
  onOpen?: (row: T) => void;
  selectedKey?: string;
  rowTestId?: (row: T) => string;
}

function compare(a: string | number | bigint, b: string | number | bigint): number {
  if (typeof a === 'string' && typeof b === 'string') return a.localeCompare(b, undefined, { numeric: true });
  return a < b ? -1 : a > b ? 1 : 0;
}

export function DataTable<T>({ label, rows, columns, rowKey, initialSort, onOpen, selectedKey, rowTestId }: DataTableProps<T>) {
  const [sort, setSort] = useState(initialSort);
  const [focus, setFocus] = useState(0);
  const body = useRef<HTMLTableSectionElement>(null);

  const sorted = useMemo(() => {
    const col = columns.find((c) => c.id === sort?.id);
    if (!col?.sortValue) return rows;
    const sv = col.sortValue;
    const out = [...rows].sort((a, b) => compare(sv(a), sv(b)));
    return sort?.desc ? out.reverse() : out;
  }, [rows, columns, sort]);

  const moveTo = (i: number) => {
    const n = Math.max(0, Math.min(sorted.length - 1, i));
    setFocus(n);
    (body.current?.children[n] as HTMLElement | undefined)?.focus();
  };

  const onKey = (e: KeyboardEvent<HTMLTableRowElement>, i: number, row: T) => {
    const page = 10;
    const keys: Record<string, () => void> = {
      ArrowDown: () => moveTo(i + 1),
      ArrowUp: () => moveTo(i - 1),
      Home: () => moveTo(0),
      End: () => moveTo(sorted.length - 1),
      PageDown: () => moveTo(i + page),
      PageUp: () => moveTo(i - page),
      Enter: () => onOpen?.(row),
    };
    const fn = keys[e.key];
    if (fn) {
      e.preventDefault();
      fn();
    }
  };

  return (
    <div className="overflow-x-auto">
      <table aria-label={label} className="w-full border-collapse text-sm">
        <thead className="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-500 dark:bg-slate-900 dark:text-slate-400">
          <tr>
            {columns.map((c) => {
              const active = sort?.id === c.id;
              return (
                <th
                  key={c.id}
                  scope="col"
                  aria-sort={active ? (sort?.desc ? 'descending' : 'ascending') : 'none'}
                  className={`px-3 py-2 font-medium ${c.align === 'right' ? 'text-right' : ''}`}
                >
                  {c.sortValue ? (
                    <button
                      type="button"
                      className="inline-flex items-center gap-1 uppercase hover:text-slate-900 dark:hover:text-white"
                      onClick={() => setSort(active ? { id: c.id, desc: !sort?.desc } : { id: c.id })}
                    >
                      {c.header}
                      <span aria-hidden="true">{active ? (sort?.desc ? '▼' : '▲') : ''}</span>
                    </button>
                  ) : (
                    c.header
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody ref={body}>
          {sorted.map((row, i) => {
            const key = rowKey(row);
            return (
              <tr
                key={key}
                data-key={key}
                data-testid={rowTestId?.(row)}
                tabIndex={i === Math.min(focus, sorted.length - 1) ? 0 : -1}
                aria-selected={selectedKey === key}
                onKeyDown={(e) => onKey(e, i, row)}
                onFocus={() => setFocus(i)}
                onClick={() => onOpen?.(row)}
                className={`border-t border-slate-100 dark:border-slate-800 ${onOpen ? 'cursor-pointer' : ''} ${
                  selectedKey === key ? 'bg-blue-50 dark:bg-blue-950' : 'hover:bg-slate-50 dark:hover:bg-slate-800/50'
                } focus:bg-blue-50 dark:focus:bg-blue-950`}
              >
                {columns.map((c) => (
                  <td key={c.id} className={`px-3 py-1.5 align-top ${c.align === 'right' ? 'text-right tabular' : ''} ${c.className ?? ''}`}>
                    {c.cell(row)}
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
