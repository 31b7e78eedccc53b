// One piece for a panel's loading / error / empty / content states (PanelBody): the first state that
// holds is shown, in words, with its role; content that reads the data renders only once it is there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createElement as h } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { PanelBody } from '../../../components/ui/Panel.tsx';

const html = (props: Parameters<typeof PanelBody<{ n: number }>>[0]) => renderToStaticMarkup(h(PanelBody<{ n: number }>, props));

test('loading, then error, then empty, then the content: the first that holds wins', () => {
  const all = { loading: 'Loading…', error: 'down: EPERM', empty: 'nothing', children: h('p', null, 'rows') };
  assert.match(html(all), /role="status" aria-busy="true".*Loading…/);
  assert.match(html({ ...all, loading: false }), /role="alert".*down: EPERM/);
  assert.match(html({ ...all, loading: false, error: undefined }), /role="status" aria-busy="false".*nothing/);
  assert.equal(html({ ...all, loading: false, error: false, empty: false }), '<p>rows</p>');
});

test('content as a function of the data renders only when the data is there', () => {
  let calls = 0;
  const children = (d: { n: number }) => (calls++, h('p', null, `n=${d.n}`));
  assert.equal(html({ data: undefined, children }), '');
  assert.match(html({ loading: 'Loading…', data: { n: 1 }, children }), /Loading…/);
  assert.equal(calls, 0);
  assert.equal(html({ data: { n: 2 }, children }), '<p>n=2</p>');
});
