// End-to-end tests of aitrail with the official Node SDKs (ollama, openai).
//
// Run by e2e/node_test.go, which starts the stand-in model server and an
// aitrail gateway, creates a user key, and passes:
//
//   AITRAIL_URL     the gateway's base URL (http://127.0.0.1:PORT)
//   AITRAIL_KEY     a user key
//   AITRAIL_REPORT  a file to append one JSON line per call to
//
// Each test makes one call through the gateway with a request id of its own
// and checks what the SDK returned; the Go side then checks, for every line
// of the report, that the stand-in said exactly that and that aitrail
// recorded it (actor, status, text, tokens).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Ollama } from 'ollama';
import OpenAI from 'openai';

const url = process.env.AITRAIL_URL;
const key = process.env.AITRAIL_KEY;
const report = process.env.AITRAIL_REPORT;
if (!url || !key || !report) {
  throw new Error('run these tests with go test ./e2e (e2e/node_test.go): AITRAIL_URL, AITRAIL_KEY and AITRAIL_REPORT must be set');
}

// The stand-in's models say words from a small vocabulary, each with a
// space before it.
const words = /^( [a-z]+)+$/;

// call returns a fresh request id and the headers that carry it: aitrail
// records X-Request-Id as the correlation id, and the stand-in files what
// it received and sent under X-E2e-Call.
function call() {
  const id = 'node-' + randomUUID();
  return { id, headers: { 'X-Request-Id': id, 'X-E2e-Call': id } };
}

function ollama(headers) {
  return new Ollama({ host: url, headers: { Authorization: 'Bearer ' + key, ...headers } });
}

function openai(headers) {
  return new OpenAI({ baseURL: url + '/v1', apiKey: key, defaultHeaders: headers, maxRetries: 0 });
}

// done appends what a call returned to the report for the Go side.
function done(entry) {
  appendFileSync(report, JSON.stringify(entry) + '\n');
}

test('ollama chat, streamed', async () => {
  const { id, headers } = call();
  const prompt = 'Why is the sky blue? (Node Ollama chat, streamed)';
  let text = '';
  let last;
  const stream = await ollama(headers).chat({ model: 'tiny', stream: true, messages: [{ role: 'user', content: prompt }] });
  for await (const part of stream) {
    text += part.message.content;
    last = part;
  }
  assert.match(text, words);
  assert.equal(last.done, true);
  done({ id, endpoint: '/api/chat', stream: true, prompt, text, tokens_in: last.prompt_eval_count, tokens_out: last.eval_count });
});

test('ollama chat', async () => {
  const { id, headers } = call();
  const prompt = 'Why is the sea salty? (Node Ollama chat)';
  const res = await ollama(headers).chat({ model: 'tiny', messages: [{ role: 'user', content: prompt }], options: { num_predict: 7 } });
  assert.match(res.message.content, words);
  assert.equal(res.message.content.split(' ').length - 1, 7);
  assert.equal(res.done_reason, 'length');
  done({ id, endpoint: '/api/chat', stream: false, prompt, text: res.message.content, tokens_in: res.prompt_eval_count, tokens_out: res.eval_count });
});

test('ollama generate', async () => {
  const { id, headers } = call();
  const prompt = 'Write a haiku about audits. (Node Ollama generate)';
  const res = await ollama(headers).generate({ model: 'tiny', prompt });
  assert.match(res.response, words);
  done({ id, endpoint: '/api/generate', stream: false, prompt, text: res.response, tokens_in: res.prompt_eval_count, tokens_out: res.eval_count });
});

test('ollama generate, streamed', async () => {
  const { id, headers } = call();
  const prompt = 'Write a limerick about logs. (Node Ollama generate, streamed)';
  let text = '';
  let last;
  for await (const part of await ollama(headers).generate({ model: 'tiny', prompt, stream: true })) {
    text += part.response;
    last = part;
  }
  assert.match(text, words);
  done({ id, endpoint: '/api/generate', stream: true, prompt, text, tokens_in: last.prompt_eval_count, tokens_out: last.eval_count });
});

test('ollama embed', async () => {
  const { id, headers } = call();
  const prompt = 'first document (Node Ollama embed)';
  const res = await ollama(headers).embed({ model: 'tiny', input: [prompt, 'second document'] });
  assert.equal(res.embeddings.length, 2);
  assert.ok(res.embeddings[0].length > 0);
  done({ id, endpoint: '/api/embed', stream: false, prompt, text: '', embeddings: res.embeddings.length, tokens_in: res.prompt_eval_count, tokens_out: -1 });
});

test('openai chat completions, streamed with usage', async () => {
  const { id, headers } = call();
  const prompt = 'Summarise our Q3 results. (Node OpenAI chat, streamed)';
  const stream = await openai(headers).chat.completions.create({
    model: 'tiny',
    messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: prompt }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  assert.match(text, words);
  assert.ok(usage, 'no usage chunk');
  done({ id, endpoint: '/v1/chat/completions', stream: true, prompt, text, tokens_in: usage.prompt_tokens, tokens_out: usage.completion_tokens });
});

test('openai chat completions', async () => {
  const { id, headers } = call();
  const prompt = 'Draft a status update. (Node OpenAI chat)';
  const res = await openai(headers).chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: prompt }], temperature: 0.2 });
  const text = res.choices[0].message.content;
  assert.match(text, words);
  assert.equal(res.choices[0].finish_reason, 'stop');
  done({ id, endpoint: '/v1/chat/completions', stream: false, prompt, text, tokens_in: res.usage.prompt_tokens, tokens_out: res.usage.completion_tokens });
});

test('openai embeddings', async () => {
  const { id, headers } = call();
  const prompt = 'vector me (Node OpenAI embeddings)';
  const res = await openai(headers).embeddings.create({ model: 'tiny', input: [prompt, 'and me'] });
  assert.equal(res.data.length, 2);
  assert.ok(res.data[0].embedding.length > 0);
  assert.equal(typeof res.data[0].embedding[0], 'number');
  done({ id, endpoint: '/v1/embeddings', stream: false, prompt, text: '', embeddings: res.data.length, tokens_in: res.usage.prompt_tokens, tokens_out: -1 });
});

test('openai responses', async () => {
  const { id, headers } = call();
  const prompt = 'What did we decide yesterday? (Node OpenAI responses)';
  const res = await openai(headers).responses.create({ model: 'tiny', input: prompt });
  assert.match(res.output_text, words);
  assert.equal(res.status, 'completed');
  done({ id, endpoint: '/v1/responses', stream: false, prompt, text: res.output_text, tokens_in: res.usage.input_tokens, tokens_out: res.usage.output_tokens });
});

test('openai responses, streamed', async () => {
  const { id, headers } = call();
  const prompt = 'Plan the offsite. (Node OpenAI responses, streamed)';
  const stream = await openai(headers).responses.create({ model: 'tiny', input: prompt, max_output_tokens: 9, stream: true });
  let text = '';
  let final;
  for await (const ev of stream) {
    if (ev.type === 'response.output_text.delta') text += ev.delta;
    if (ev.type === 'response.completed' || ev.type === 'response.incomplete') final = ev.response;
  }
  assert.match(text, words);
  assert.ok(final, 'no response.completed event');
  done({ id, endpoint: '/v1/responses', stream: true, prompt, text, tokens_in: final.usage.input_tokens, tokens_out: final.usage.output_tokens });
});
