import type { AppDeps } from '../app-deps.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { buildOpenApiDocument } from '../openapi/document.js';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chimera API</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:14px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
h1{margin-bottom:0}code{background:#f3f3f3;padding:0 .3em;border-radius:3px}
.op{border:1px solid #ddd;border-radius:6px;margin:.4rem 0;padding:.3rem .6rem}
.m{display:inline-block;min-width:4.5em;font-weight:700;text-transform:uppercase}
.get{color:#0a6}.post{color:#06c}.put{color:#b60}.delete{color:#c33}.patch{color:#85c}
details pre{background:#f7f7f7;padding:.5rem;overflow:auto;font-size:12px}</style></head>
<body><h1>Chimera API</h1><p>Machine-readable document: <a href="openapi.json"><code>openapi.json</code></a>.
Authenticate with <code>Authorization: Bearer &lt;token&gt;</code> from <code>POST /api/auth/login</code>.</p>
<div id="ops">Loading…</div><script src="docs/app.js"></script></body></html>`;

const SCRIPT = `fetch('openapi.json').then(r=>r.json()).then(({data})=>{const root=document.getElementById('ops');root.textContent='';
for(const [path,ops] of Object.entries(data.paths)){for(const [method,op] of Object.entries(ops)){
const d=document.createElement('details');d.className='op';const s=document.createElement('summary');
s.innerHTML='<span class="m '+method+'"></span> <code></code> ';s.querySelector('.m').textContent=method;
s.querySelector('code').textContent='/api'+path;s.append(op.summary+(op.security&&op.security.length?' 🔒':''));
const pre=document.createElement('pre');pre.textContent=JSON.stringify({parameters:op.parameters,requestBody:op.requestBody,responses:op.responses},null,2);
d.append(s,pre);root.append(d);}}});`;

export function docsRoutes(_deps: AppDeps, allRoutes: () => RouteSpec[]): RouteSpec[] {
  let cached: unknown;
  return [
    defineRoute({
      method: 'get', path: '/openapi.json', operationId: 'openapi', tag: 'utility', access: 'public',
      summary: 'This OpenAPI 3.1 document (also at the repository root as openapi.yaml)',
      handler: ({ deps }) => (cached ??= buildOpenApiDocument(allRoutes(), { version: deps.config.version })),
    }),
    defineRoute({
      method: 'get', path: '/docs', operationId: 'docs', tag: 'utility', access: 'public', raw: true,
      summary: 'Browsable API reference (HTML)',
      handler: ({ res }) => {
        res.type('html').send(PAGE);
      },
    }),
    defineRoute({
      method: 'get', path: '/docs/app.js', operationId: 'docsScript', tag: 'utility', access: 'public', raw: true,
      summary: 'Script of the API reference page',
      handler: ({ res }) => {
        res.type('application/javascript').send(SCRIPT);
      },
    }),
  ];
}
