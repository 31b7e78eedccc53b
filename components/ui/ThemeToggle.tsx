'use client';
import { useEffect, useState } from 'react';

export function ThemeToggle() {
  const [dark, setDark] = useState(false);
  useEffect(() => setDark(document.documentElement.classList.contains('dark')), []);
  const toggle = () => {
    const next = !dark;
    setDark(next);
    document.documentElement.classList.toggle('dark', next);
    try {
      localStorage.setItem('sascope-theme', next ? 'dark' : 'light');
    } catch {
      // private mode: the choice lasts this page only
    }
  };
  return (
    <button type="button" onClick={toggle} aria-pressed={dark} className="rounded border border-slate-300 px-2 py-1 text-xs dark:border-slate-700" title="Switch light/dark theme">
      {dark ? 'Dark' : 'Light'}
    </button>
  );
}
