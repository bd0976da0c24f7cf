/**
 * The OpenAPI document (raw, as every tool reads it: /api/openapi.json and /api/openapi.yaml)
 * and a browsable page of it (/api/docs). ENABLE_DOCS=false turns all of them off.
 */
import type { Request } from 'express';
import type { AppDeps } from '../app-deps.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { buildOpenApiDocument, documentYaml } from '../openapi/document.js';
import { OpenApiDocument } from '../schemas/responses/utility.js';

// Absolute URLs: the page works at /api/docs and at /api/docs/ alike.
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chimera API</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:14px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
h1{margin-bottom:0}code{background:#f3f3f3;padding:0 .3em;border-radius:3px}
.op{border:1px solid #ddd;border-radius:6px;margin:.4rem 0;padding:.3rem .6rem}
.m{display:inline-block;min-width:4.5em;font-weight:700;text-transform:uppercase}
.get{color:#0a6}.post{color:#06c}.put{color:#b60}.delete{color:#c33}.patch{color:#85c}
details pre{background:#f7f7f7;padding:.5rem;overflow:auto;font-size:12px}</style></head>
<body><h1>Chimera API</h1><p>OpenAPI 3.1 document: <a href="/api/openapi.json"><code>/api/openapi.json</code></a>
(also <a href="/api/openapi.yaml"><code>/api/openapi.yaml</code></a>): import it into Postman, Insomnia or a client generator.
Authenticate with <code>Authorization: Bearer &lt;token&gt;</code> from <code>POST /api/auth/login</code>.</p>
<div id="ops">Loading…</div><script src="/api/docs/app.js"></script></body></html>`;

// Only the HTTP methods of a path item are operations (it may hold servers, parameters, …).
const SCRIPT = `const METHODS=['get','put','post','delete','patch'];
fetch('/api/openapi.json').then(r=>r.json()).then((doc)=>{const root=document.getElementById('ops');root.textContent='';
for(const [path,item] of Object.entries(doc.paths)){for(const method of METHODS){const op=item[method];if(!op)continue;
const d=document.createElement('details');d.className='op';const s=document.createElement('summary');
s.innerHTML='<span class="m '+method+'"></span> <code></code> ';s.querySelector('.m').textContent=method;
s.querySelector('code').textContent=path;s.append(op.summary+(op.security&&op.security.length?' 🔒':''));
const pre=document.createElement('pre');pre.textContent=JSON.stringify({description:op.description,parameters:op.parameters,requestBody:op.requestBody,responses:op.responses},null,2);
d.append(s,pre);root.append(d);}}});`;

/** The origin the client reached this server by, so tools importing the document by URL call the same server. */
const origin = (req: Request) => `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`;

export function docsRoutes(deps: AppDeps, allRoutes: () => RouteSpec[]): RouteSpec[] {
  if (!deps.config.enableDocs) return [];
  let built: ReturnType<typeof buildOpenApiDocument> | undefined;
  const documentFor = (req: Request) => {
    built ??= buildOpenApiDocument(allRoutes(), { version: deps.config.version });
    return { ...built, servers: [{ ...built.servers[0]!, url: origin(req) }] };
  };
  const tag = 'utility';
  return [
    defineRoute({
      method: 'get', path: '/openapi.json', operationId: 'getOpenApiDocument', tag, access: 'public', raw: true,
      summary: 'This OpenAPI 3.1 document as JSON (not enveloped), its server the one it was fetched from',
      response: { description: 'The OpenAPI document', content: { 'application/json': OpenApiDocument } },
      handler: ({ req, res }) => {
        res.type('application/json').send(JSON.stringify(documentFor(req)));
      },
    }),
    defineRoute({
      method: 'get', path: '/openapi.yaml', operationId: 'getOpenApiYaml', tag, access: 'public', raw: true,
      summary: 'This OpenAPI 3.1 document as YAML (the repository\'s openapi.yaml, its server the one it was fetched from)',
      response: { description: 'The OpenAPI document', content: { 'application/yaml': null } },
      handler: async ({ req, res }) => {
        res.type('application/yaml').send(await documentYaml(documentFor(req)));
      },
    }),
    defineRoute({
      method: 'get', path: '/docs', operationId: 'getDocsPage', tag, access: 'public', raw: true,
      summary: 'Browsable API reference (HTML), at /api/docs and /api/docs/',
      response: { description: 'The page', content: { 'text/html': null } },
      handler: ({ res }) => {
        res.type('html').send(PAGE);
      },
    }),
    defineRoute({
      method: 'get', path: '/docs/app.js', operationId: 'getDocsScript', tag, access: 'public', raw: true,
      summary: 'Script of the API reference page',
      response: { description: 'The script', content: { 'text/javascript': null } },
      handler: ({ res }) => {
        res.type('text/javascript').send(SCRIPT);
      },
    }),
  ];
}
