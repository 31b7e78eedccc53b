'use client';
import { useEffect, useRef, useState } from 'react';

/**
 * The value, passed on at most once per `ms` (the first one at once, the latest one at the end of each
 * wait). For big tables: a 100k-row table re-sorted for every delta batch or snapshot part would not
 * keep up; once a second it does. ms = 0 passes every value on.
 */
export function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  const latest = useRef(value);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  latest.current = value;
  useEffect(() => {
    const wait = last.current + ms - Date.now();
    if (ms <= 0 || wait <= 0) {
      if (timer.current) clearTimeout(timer.current);
      timer.current = undefined;
      last.current = Date.now();
      setShown(value);
      return;
    }
    timer.current ??= setTimeout(() => {
      timer.current = undefined;
      last.current = Date.now();
      setShown(latest.current);
    }, wait);
  }, [value, ms]);
  useEffect(() => () => clearTimeout(timer.current), []);
  return ms <= 0 ? value : shown;
}
