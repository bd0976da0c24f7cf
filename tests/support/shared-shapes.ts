/**
 * Run with `node --allow-natives-syntax --import tsx`: serves an Express app (a middleware
 * adding a property, a mounted router, route params, a query, res.json) through
 * createHttpServer, sends 60 keep-alive requests and prints, as JSON, how many consecutive
 * request and response objects share V8's hidden class with the one before.
 */
import express from 'express';
import { createHttpServer } from '../../src/fast/http-server.js';

const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
const app = express();
const seen: [express.Request, express.Response][] = [];
app.use((req, _res, next) => {
  (req as express.Request & { tag?: string }).tag = 'x';
  next();
});
const router = express.Router();
router.get('/items/:id', (req, res) => {
  seen.push([req, res]);
  res.json({ id: req.params.id, path: req.path, query: req.query });
});
app.use('/api', router);

const server = createHttpServer(app).listen(0, '127.0.0.1', async () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  for (let i = 0; i < 60; i++) await (await fetch(`http://127.0.0.1:${port}/api/items/${i}?q=${i}`)).json();
  let requests = 0;
  let responses = 0;
  for (let i = 1; i < seen.length; i++) {
    if (haveSameMap(seen[i]![0], seen[i - 1]![0])) requests++;
    if (haveSameMap(seen[i]![1], seen[i - 1]![1])) responses++;
  }
  console.log(JSON.stringify({ pairs: seen.length - 1, requests, responses }));
  server.close();
  server.closeAllConnections();
});
