/**
 * Writes a tiny BERT-shaped ONNX model and a WordPiece tokenizer in the same layout as the
 * Xenova model repositories, so tests run the real embedding loader and pipeline on it.
 * Graph: Gather(word) + Gather(type) → mask → MatMul(W) + b → last_hidden_state.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { onnx } = require('onnx-proto') as { onnx: any };

export const TINY_MODEL_NAME = 'test/tiny-bert';

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const WORDS = `the a an is are was on in of and to for with my our your this that it at by from as be
cat cats kitten kittens feline dog dogs puppy pet pets animal animals sat mat sleeps purrs barks fur whiskers
database databases postgres postgresql sql query queries index indexes table tables row rows vector vectors search
memory memories embedding embeddings chunk chunks model models token tokens
rocket rockets launch launches space orbit orbits moon mars planet astronaut nasa
pizza cheese tomato recipe recipes cook cooking bake baking oven bread pasta
music guitar song songs piano melody weather rain sun cloud storm python code javascript function bug
hello world project meeting notes alpha beta gamma secret private public`.split(/\s+/).filter(Boolean);
const CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('');

export function tinyVocab(): Record<string, number> {
  const tokens = [...SPECIALS, ...new Set(WORDS), ...CHARS, ...CHARS.map((c) => `##${c}`), '.', ',', '!', '?', '-', "'"];
  return Object.fromEntries(tokens.map((t, i) => [t, i]));
}

/** Deterministic PRNG (mulberry32) so every run writes the same weights. */
function prng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function floatTensor(name: string, dims: number[], rand: () => number, scale: number) {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (rand() * 2 - 1) * scale;
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer) });
}

function int64Tensor(name: string, values: number[]) {
  const data = new BigInt64Array(values.map(BigInt));
  return onnx.TensorProto.create({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(data.buffer) });
}

function valueInfo(name: string, elemType: number, dims: (string | number)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) => onnx.TensorShapeProto.Dimension.create(typeof d === 'string' ? { dimParam: d } : { dimValue: d })),
        }),
      }),
    }),
  });
}

const node = (opType: string, input: string[], output: string[], attribute: unknown[] = []) =>
  onnx.NodeProto.create({ opType, input, output, name: output[0], attribute });

export function tinyOnnxModel(vocabSize: number, hidden: number, seed = 42): Uint8Array {
  const rand = prng(seed);
  const { FLOAT, INT64 } = onnx.TensorProto.DataType;
  const graph = onnx.GraphProto.create({
    name: 'tiny-bert',
    node: [
      node('Gather', ['word_emb', 'input_ids'], ['words']),
      node('Gather', ['type_emb', 'token_type_ids'], ['types']),
      node('Add', ['words', 'types'], ['summed']),
      node('Cast', ['attention_mask'], ['mask_f'], [onnx.AttributeProto.create({ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT })]),
      node('Unsqueeze', ['mask_f', 'axis2'], ['mask3']),
      node('Mul', ['summed', 'mask3'], ['masked']),
      node('MatMul', ['masked', 'W'], ['projected']),
      node('Add', ['projected', 'bias'], ['last_hidden_state']),
    ],
    initializer: [
      floatTensor('word_emb', [vocabSize, hidden], rand, 1),
      floatTensor('type_emb', [2, hidden], rand, 0.05),
      floatTensor('W', [hidden, hidden], rand, 1 / Math.sqrt(hidden)),
      floatTensor('bias', [hidden], rand, 0.01),
      int64Tensor('axis2', [2]),
    ],
    input: [
      valueInfo('input_ids', INT64, ['batch', 'sequence']),
      valueInfo('attention_mask', INT64, ['batch', 'sequence']),
      valueInfo('token_type_ids', INT64, ['batch', 'sequence']),
    ],
    output: [valueInfo('last_hidden_state', FLOAT, ['batch', 'sequence', hidden])],
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'chimera-tests',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 13 })],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

function tokenizerJson(vocab: Record<string, number>) {
  const special = (content: string) => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

/**
 * Writes the model under `<modelDir>/<name>/` and returns the model name to configure
 * (EMBEDDING_MODEL_DIR=modelDir, EMBEDDING_MODEL=name).
 */
export function writeTinyModel(modelDir: string, { name = TINY_MODEL_NAME, hidden = 384, seed = 42 } = {}): string {
  const vocab = tinyVocab();
  const root = join(modelDir, name);
  mkdirSync(join(root, 'onnx'), { recursive: true });
  const bytes = tinyOnnxModel(Object.keys(vocab).length, hidden, seed);
  writeFileSync(join(root, 'onnx', 'model.onnx'), bytes);
  writeFileSync(join(root, 'onnx', 'model_quantized.onnx'), bytes);
  writeFileSync(join(root, 'config.json'), JSON.stringify({ model_type: 'bert', hidden_size: hidden }));
  writeFileSync(join(root, 'tokenizer.json'), JSON.stringify(tokenizerJson(vocab)));
  writeFileSync(
    join(root, 'tokenizer_config.json'),
    JSON.stringify({ tokenizer_class: 'BertTokenizer', model_max_length: 512, do_lower_case: true, pad_token: '[PAD]', cls_token: '[CLS]', sep_token: '[SEP]', unk_token: '[UNK]', mask_token: '[MASK]' }),
  );
  return name;
}
