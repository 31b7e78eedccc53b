'use client';
// VirtualTable with its own sort state, for grids that may grow large (PF_KEY SAD, the cross-check)
// but whose sort need not be in the URL.
import { useState } from 'react';
import type { ColumnDef, SortingState } from '@tanstack/react-table';
import { VirtualTable } from './VirtualTable';

export function SortableGrid<T>({ label, rows, columns, rowKey, initialSort, onOpen, selectedKey, rowHeight = 32, maxHeight = 560 }: {
  label: string;
  rows: T[];
  columns: ColumnDef<T, any>[];
  rowKey: (row: T) => string;
  initialSort?: SortingState;
  onOpen?: (row: T) => void;
  selectedKey?: string;
  rowHeight?: number;
  maxHeight?: number;
}) {
  const [sorting, setSorting] = useState<SortingState>(initialSort ?? []);
  return (
    <VirtualTable
      label={label}
      rows={rows}
      columns={columns}
      rowKey={rowKey}
      sorting={sorting}
      onSortingChange={setSorting}
      onOpen={onOpen}
      selectedKey={selectedKey}
      rowHeight={rowHeight}
      height={Math.max(rowHeight * 2, Math.min(maxHeight, rows.length * rowHeight + 4))}
    />
  );
}
