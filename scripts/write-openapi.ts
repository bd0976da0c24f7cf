/** `npm run openapi`: regenerates openapi.yaml from the route specs (a test fails when it is stale). */
import { writeFileSync } from 'node:fs';
import { renderOpenApiYaml } from '../src/openapi/yaml.js';

writeFileSync(new URL('../openapi.yaml', import.meta.url), await renderOpenApiYaml());
console.log('openapi.yaml written');
