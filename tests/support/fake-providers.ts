/**
 * Local stand-ins for the five LLM vendors, speaking each vendor's real wire format so
 * the real SDKs can be pointed at them through the *_BASE_URL settings:
 *   OpenAI chat completions (JSON and SSE chunks, /models) — also DeepSeek and Groq;
 *   Anthropic messages (JSON and SSE events, /v1/models);
 *   Google generateContent, streamGenerateContent (?alt=sse) and countTokens;
 * and two self-hosted OpenAI-compatible servers for OPENAI_COMPATIBLE_PROVIDERS (`compatibleUrl`,
 * `stalledUrl`): `local` lists LOCAL_MODELS and answers like OpenAI, with or without a key;
 * `stalled` accepts every request and never answers.
 * One node:http server on 127.0.0.1 and a random port serves them under path prefixes.
 *
 * The API key picks the behaviour, so parallel tests never share state:
 *   `badkey`    every endpoint answers 401 (connection tests fail too)
 *   `chat401`   chat answers 401, echoing the key in its message (tests scrubbing)
 *   `shout401`  the same with the key upper-cased, as some vendors print it
 *   `chat429` / `chat500`  chat rate limit / server error
 *   `malformed` chat answers 200 with a body that is not JSON
 *   `slow`      chat waits SLOW_MS before answering (beyond the test timeout)
 *   `hang`      chat never answers: the request is held until the client gives up
 *   `wait`      chat answers normally after WAIT_MS (a request that is surely in flight)
 *   `cut`       the reply stops midway: the socket is destroyed after two pieces
 *   `drip`      a long stream, one piece every 50 ms (for client disconnects)
 *   `testslow` / `test500` / `nobalance`  connection tests slow / 500 / DeepSeek 402
 *   `all404`    Google answers 404 NOT_FOUND for every model (a retired model and its fallback)
 *   `quota403`  Google answers 403 with a quota message (a rate limit without a 429)
 * and a Google model whose name contains `retired` is answered 404 NOT_FOUND, whatever the key.
 *
 * `script(marker, answer)` scripts the chat replies for keys containing `marker` (the fact
 * extraction's questions): `answer` gets the prompt and returns the reply text. Scripted
 * replies count their tokens (prompt and reply at four characters a token) in the usage
 * they report, so the bench can print tokens per extraction.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeProvider = 'openai' | 'anthropic' | 'google' | 'deepseek' | 'groq' | 'local' | 'stalled';

/** What the self-hosted server's `/models` lists (a vLLM-style id with a slash among them). */
export const LOCAL_MODELS = ['llama3.2:latest', 'meta-llama/Llama-3.2-1B-Instruct'];

export interface RecordedRequest {
  provider: FakeProvider;
  method: string;
  path: string;
  apiKey: string;
  headers: IncomingMessage['headers'];
  body: any;
  /** True once the client closed the connection before the response ended. */
  aborted: boolean;
}

export const SLOW_MS = 6000;
export const WAIT_MS = 1500;
export const DEFAULT_REPLY = 'Hello from the fake provider. All systems nominal.';
const PIECES = ['Hello', ' from', ' the fake', ' provider.', ' All systems', ' nominal.'];

/** A chat request's prompt, whatever the vendor's wire format. */
export interface ScriptedPrompt {
  system: string;
  turns: { role: string; content: string }[];
}

/** Returns the reply text for a scripted chat request. */
export type Script = (prompt: ScriptedPrompt) => string;

/** The fake's token count: four characters a token, as the extraction estimates it. */
export const countTokens = (text: string) => Math.ceil(text.length / 4);

export interface FakeProviders {
  baseUrl: string;
  /** Scripts the chat replies of keys containing `marker`; `remove` stops it. */
  script(marker: string, answer: Script): { remove(): void };
  /** Env settings pointing every provider at this server. */
  env: Record<string, string>;
  /** The base URL of the self-hosted OpenAI-compatible server, and of one that never answers. */
  compatibleUrl: string;
  stalledUrl: string;
  requests: RecordedRequest[];
  /** Requests whose API key contains `marker`. */
  requestsFor(marker: string): RecordedRequest[];
  close(): Promise<void>;
}

const PREFIXES: [string, FakeProvider][] = [
  ['/openai/v1', 'openai'],
  ['/anthropic', 'anthropic'],
  ['/google', 'google'],
  ['/deepseek', 'deepseek'],
  ['/groq/openai/v1', 'groq'],
  ['/local/v1', 'local'],
  ['/stalled/v1', 'stalled'],
];

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const sleep = (ms: number, req: IncomingMessage) =>
  new Promise<boolean>((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    // Kept-alive sockets serve many requests: the listener goes when the wait ends.
    const timer = setTimeout(() => {
      req.socket.off('close', onClose);
      resolve(true);
    }, ms);
    req.socket.once('close', onClose);
  });

const GOOGLE_STATUS: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED' };

function errorBody(provider: FakeProvider, status: number, message: string) {
  if (provider === 'anthropic') {
    const type = status === 401 ? 'authentication_error' : status === 429 ? 'rate_limit_error' : 'api_error';
    return { type: 'error', error: { type, message } };
  }
  if (provider === 'google') {
    const statusText = GOOGLE_STATUS[status] ?? 'INTERNAL';
    return { error: { code: status, message, status: statusText } };
  }
  const code = status === 401 ? 'invalid_api_key' : status === 429 ? 'rate_limit_exceeded' : null;
  return { error: { message, type: status === 500 ? 'server_error' : 'invalid_request_error', param: null, code } };
}

function keyOf(provider: FakeProvider, req: IncomingMessage, url: URL): string {
  // The Anthropic SDK sends the key as x-api-key or as a bearer token, depending on its version.
  if (provider === 'anthropic' && req.headers['x-api-key']) return String(req.headers['x-api-key']);
  if (provider === 'google') return String(req.headers['x-goog-api-key'] ?? url.searchParams.get('key') ?? '');
  return String(req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
}

/** Streams `pieces` as the provider's SSE events; `cutAfter` destroys the socket midway. */
async function streamReply(provider: FakeProvider, model: string, req: IncomingMessage, res: ServerResponse, pieces: string[], options: { cutAfter?: number; delayMs?: number }) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const send = (event: string | null, data: unknown) => res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  const created = Math.floor(Date.now() / 1000);
  const id = `fake-${created}`;
  if (provider === 'anthropic') {
    send('message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 21, output_tokens: 1 } } });
    send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    send('ping', { type: 'ping' });
  } else if (provider !== 'google') {
    send(null, { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
  }
  for (let i = 0; i < pieces.length; i++) {
    if (options.cutAfter !== undefined && i === options.cutAfter) {
      // let what was written reach the client, then drop the connection without an ending
      await sleep(50, req);
      res.socket?.destroy();
      return;
    }
    const text = pieces[i]!;
    if (provider === 'anthropic') send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });
    else if (provider === 'google') send(null, { candidates: [{ content: { parts: [{ text }], role: 'model' }, index: 0 }], modelVersion: model });
    else send(null, { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: { content: text }, finish_reason: null }] });
    if (options.delayMs && !(await sleep(options.delayMs, req))) return;
  }
  if (provider === 'anthropic') {
    send('content_block_stop', { type: 'content_block_stop', index: 0 });
    send('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 12 } });
    send('message_stop', { type: 'message_stop' });
  } else if (provider === 'google') {
    send(null, { candidates: [{ content: { parts: [{ text: '' }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 21, candidatesTokenCount: 12, totalTokenCount: 33 }, modelVersion: model });
  } else {
    send(null, { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    send(null, { id, object: 'chat.completion.chunk', created, model, choices: [], usage: { prompt_tokens: 21, completion_tokens: 12, total_tokens: 33 } });
    send(null, '[DONE]');
  }
  res.end();
}

function jsonReply(provider: FakeProvider, model: string, text: string, usage = { prompt: 21, completion: 12 }) {
  const { prompt, completion } = usage;
  if (provider === 'anthropic') {
    return { id: 'msg_fake', type: 'message', role: 'assistant', model, content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: prompt, output_tokens: completion } };
  }
  if (provider === 'google') {
    return { candidates: [{ content: { parts: [{ text }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: prompt, candidatesTokenCount: completion, totalTokenCount: prompt + completion }, modelVersion: model };
  }
  return {
    id: 'chatcmpl-fake', object: 'chat.completion', created: Math.floor(Date.now() / 1000), model,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  };
}

const textOf = (content: unknown): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: { text?: string }) => p.text ?? '').join('') : '';

/** The system prompt and turns of a chat request, whatever the vendor's wire format. */
function promptOf(provider: FakeProvider, body: any): ScriptedPrompt {
  if (provider === 'anthropic') return { system: textOf(body.system), turns: (body.messages ?? []).map((m: any) => ({ role: m.role, content: textOf(m.content) })) };
  if (provider === 'google') {
    return {
      system: textOf(body.systemInstruction?.parts),
      turns: (body.contents ?? []).map((c: any) => ({ role: c.role === 'model' ? 'assistant' : 'user', content: textOf(c.parts) })),
    };
  }
  const messages: { role: string; content: unknown }[] = body.messages ?? [];
  return {
    system: messages.filter((m) => m.role === 'system').map((m) => textOf(m.content)).join('\n'),
    turns: messages.filter((m) => m.role !== 'system').map((m) => ({ role: m.role, content: textOf(m.content) })),
  };
}

/** Answers a scripted chat request (JSON, not streamed), counting its tokens. */
function scriptedReply(provider: FakeProvider, model: string, body: any, res: ServerResponse, script: Script) {
  const prompt = promptOf(provider, body);
  const text = script(prompt);
  const promptTokens = countTokens(prompt.system) + prompt.turns.reduce((n, t) => n + countTokens(t.content), 0);
  return json(res, 200, jsonReply(provider, model, text, { prompt: promptTokens, completion: countTokens(text) }));
}

async function handle(recorded: RecordedRequest, provider: FakeProvider, rest: string, url: URL, req: IncomingMessage, res: ServerResponse, scripts: Map<string, Script>) {
  const key = recorded.apiKey;
  if (provider === 'stalled') {
    await sleep(2 ** 31 - 1, req); // until the client gives up
    return;
  }
  const isTest = /\/models$/.test(rest) || rest.endsWith(':countTokens');
  if (key.includes('badkey')) {
    // Google answers an invalid key with 400 INVALID_ARGUMENT.
    const status = provider === 'google' ? 400 : 401;
    return json(res, status, errorBody(provider, status, provider === 'google' ? 'API key not valid. Please pass a valid API key.' : 'Incorrect API key provided.'));
  }
  if (isTest) {
    if (key.includes('testslow') && !(await sleep(SLOW_MS, req))) return;
    if (key.includes('test500')) return json(res, 500, errorBody(provider, 500, 'The server had an error'));
    if (key.includes('nobalance') && provider === 'deepseek') return json(res, 402, errorBody(provider, 402, 'Insufficient Balance'));
    if (provider === 'google') return json(res, 200, { totalTokens: 1 });
    if (provider === 'local') return json(res, 200, { object: 'list', data: LOCAL_MODELS.map((id) => ({ id, object: 'model', created: 1, owned_by: 'library' })) });
    if (provider === 'anthropic') return json(res, 200, { data: [{ type: 'model', id: 'claude-3-haiku-20240307', display_name: 'Claude Haiku', created_at: '2024-03-07T00:00:00Z' }], has_more: false, first_id: 'claude-3-haiku-20240307', last_id: 'claude-3-haiku-20240307' });
    return json(res, 200, { object: 'list', data: [{ id: 'gpt-4o', object: 'model', created: 1, owned_by: 'fake' }] });
  }

  const body = recorded.body ?? {};
  const googleMatch = /\/models\/([^:]+):(generateContent|streamGenerateContent)$/.exec(rest);
  const isChat = rest.endsWith('/chat/completions') || rest === '/v1/messages' || googleMatch !== null;
  if (!isChat) return json(res, 404, errorBody(provider, 404, `No route ${rest}`));
  const model = googleMatch ? googleMatch[1]! : String(body.model ?? '');
  const streaming = googleMatch ? googleMatch[2] === 'streamGenerateContent' : body.stream === true;

  for (const [marker, script] of scripts) if (key.includes(marker)) return scriptedReply(provider, model, body, res, script);
  if (provider === 'google' && (model.includes('retired') || key.includes('all404'))) {
    // Google's own text, which names the task: "generateContent" must not read as a rate limit.
    return json(res, 404, errorBody(provider, 404, `models/${model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`));
  }
  if (provider === 'google' && key.includes('quota403')) return json(res, 403, errorBody(provider, 403, 'Quota exceeded for quota metric \'Generate Content API requests per minute\' of service \'generativelanguage.googleapis.com\'.'));
  if (key.includes('chat401')) return json(res, 401, errorBody(provider, 401, `Incorrect API key provided: ${key}.`));
  if (key.includes('shout401')) return json(res, 401, errorBody(provider, 401, `INCORRECT API KEY PROVIDED: ${key.toUpperCase()}.`));
  if (key.includes('chat429')) return json(res, 429, errorBody(provider, 429, provider === 'google' ? 'Resource has been exhausted (e.g. check quota).' : 'Rate limit reached for requests'));
  if (key.includes('chat500')) return json(res, 500, errorBody(provider, 500, 'The server had an error while processing your request.'));
  if (key.includes('malformed')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end('{"choices": [oops this is not json');
  }
  if (key.includes('slow') && !(await sleep(SLOW_MS, req))) return;
  if (key.includes('wait') && !(await sleep(WAIT_MS, req))) return;
  if (key.includes('hang')) {
    await sleep(2 ** 31 - 1, req); // until the client closes the connection
    return;
  }
  if (key.includes('cut')) {
    if (streaming) return streamReply(provider, model, req, res, PIECES, { cutAfter: 2 });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
    res.write('{"id": "chatcmpl-fake", "choices": [');
    return res.socket?.destroy();
  }
  if (key.includes('drip')) return streamReply(provider, model, req, res, Array.from({ length: 200 }, (_, i) => `piece${i} `), { delayMs: 50 });
  if (streaming) return streamReply(provider, model, req, res, PIECES, {});
  return json(res, 200, jsonReply(provider, model, DEFAULT_REPLY));
}

export interface FakeProviderOptions {
  /**
   * How long an idle connection stays open (default 1 s, so tests shut down quickly). The
   * server advertises it (`Keep-Alive: timeout=1`), and undici closes a socket whose advertised
   * timeout is within its 2 s safety margin after every response: benches that want connection
   * reuse, as with the real vendors, ask for longer.
   */
  keepAliveTimeoutMs?: number;
  /** Listen on this port (a server that stops and starts again at the same address); default: any free one. */
  port?: number;
}

export async function startFakeProviders(options: FakeProviderOptions = {}): Promise<FakeProviders> {
  const requests: RecordedRequest[] = [];
  const scripts = new Map<string, Script>();
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const prefix = PREFIXES.find(([p]) => url.pathname.startsWith(`${p}/`));
    const raw = await readBody(req);
    if (!prefix) return json(res, 404, { error: { message: 'unknown provider prefix' } });
    const [p, provider] = prefix;
    let body: unknown = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = raw;
    }
    const recorded: RecordedRequest = { provider, method: req.method ?? 'GET', path: url.pathname.slice(p.length), apiKey: keyOf(provider, req, url), headers: req.headers, body, aborted: false };
    requests.push(recorded);
    res.on('close', () => {
      if (!res.writableFinished) recorded.aborted = true;
    });
    try {
      await handle(recorded, provider, recorded.path, url, req, res, scripts);
    } catch {
      res.destroy();
    }
  });
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 1000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    env: {
      OPENAI_BASE_URL: `${baseUrl}/openai/v1`,
      ANTHROPIC_BASE_URL: `${baseUrl}/anthropic`,
      GOOGLE_BASE_URL: `${baseUrl}/google`,
      DEEPSEEK_BASE_URL: `${baseUrl}/deepseek`,
      GROQ_BASE_URL: `${baseUrl}/groq/openai/v1`,
    },
    compatibleUrl: `${baseUrl}/local/v1`,
    stalledUrl: `${baseUrl}/stalled/v1`,
    script: (marker, answer) => {
      scripts.set(marker, answer);
      return { remove: () => scripts.delete(marker) };
    },
    requests,
    requestsFor: (marker) => requests.filter((r) => r.apiKey.includes(marker)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
