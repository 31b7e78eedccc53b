'use client';
// A search box whose text is the URL's ?q= (kept across reloads and shared links), shared by the pages
// that search (SA table, fleet search): the text as typed, and the deferred lower-cased needle to filter by.
import { useDeferredValue, useEffect, useState } from 'react';
import { useUrlState } from './useUrlState';

export interface UrlSearch {
  text: string;
  /** The text trimmed and lower-cased, deferred so typing stays responsive over large tables. */
  needle: string;
  setText(text: string): void;
}

export function useUrlSearch(): UrlSearch {
  const [url, setUrl] = useUrlState();
  const q = url.get('q') ?? '';
  const [text, setTextState] = useState(q);
  useEffect(() => setTextState(q), [q]);
  const needle = useDeferredValue(text.trim().toLowerCase());
  return {
    text,
    needle,
    setText: (t) => {
      setTextState(t);
      setUrl({ q: t || undefined });
    },
  };
}

export function SearchBox({ search, label, placeholder, className }: { search: UrlSearch; label: string; placeholder: string; className: string }) {
  return (
    <input
      type="search"
      aria-label={label}
      placeholder={placeholder}
      value={search.text}
      onChange={(e) => search.setText(e.target.value)}
      className={`rounded border border-slate-300 bg-transparent px-2 py-1 dark:border-slate-700 ${className}`}
    />
  );
}
