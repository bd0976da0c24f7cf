/**
 * The bare baseline: node:http + pg, no framework, answering GET /profile/<userId> with the
 * same single-row read the API's authenticated profile route performs. Started as a child
 * process by the bench; prints its port.
 */
import { createServer } from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const server = createServer(async (req, res) => {
  const id = req.url?.split('/')[2] ?? '';
  try {
    const { rows } = await pool.query('SELECT id::text, email, name, avatar, created_at FROM users WHERE id = $1::uuid', [id]);
    res.writeHead(rows[0] ? 200 : 404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ ok: true, data: rows[0] ?? null, error: null }));
  } catch (error) {
    res.writeHead(500).end(String(error));
  }
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }));
});
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
