// openai-client.mjs — squint-server through the official `openai` npm client.
//   SQUINT_NPM_DIR=DIR node openai-client.mjs URL MODEL IMAGE QUESTION EXPECTED_ANSWER [ZOOM=0|1]
// Prints TAP.  EXPECTED_ANSWER is what squint-cli answers to the same question;
// the package is the one installed under $SQUINT_NPM_DIR/node_modules.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const OpenAI = createRequire(resolve(process.env.SQUINT_NPM_DIR) + '/')('openai');

const [url, model, image, question, expected, wantZoom] = process.argv.slice(2);
const client = new OpenAI({ baseURL: url + '/v1', apiKey: 'unused', maxRetries: 0 });
const dataUrl = 'data:image/png;base64,' + readFileSync(image).toString('base64');
const messages = [{
  role: 'user',
  content: [{ type: 'image_url', image_url: { url: dataUrl } }, { type: 'text', text: question }],
}];
let n = 0, failed = 0;
function ok(cond, what, detail = '') {
  n++;
  if (!cond) failed++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${what}${cond || !detail ? '' : ' # ' + detail}`);
}
function checkLedger(usage, what) {
  const vt = usage && usage.visual_tokens;
  ok(vt && vt.used > 0 && vt.baseline > 0 && vt.saved === vt.baseline - vt.used &&
     typeof vt.zoomed === 'boolean', `${what}: usage has the visual-token ledger`, JSON.stringify(usage));
  if (wantZoom !== undefined && vt)
    ok(vt.zoomed === (wantZoom === '1'), `${what}: zoomed is ${wantZoom === '1'}`, JSON.stringify(vt));
}

try {
  const models = await client.models.list();
  ok(models.data.some((m) => m.id === model), 'models.list() has the model', JSON.stringify(models.data));

  const r = await client.chat.completions.create({ model, messages, max_tokens: 64, temperature: 0 });
  const answer = r.choices[0].message.content;
  ok(r.object === 'chat.completion' && typeof answer === 'string', 'non-streamed: a chat.completion');
  ok(answer === expected, 'non-streamed: the same answer as squint-cli', `${JSON.stringify(answer)} vs ${JSON.stringify(expected)}`);
  checkLedger(r.usage, 'non-streamed');

  const stream = await client.chat.completions.create({
    model, messages, max_tokens: 64, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let text = '', usage = null, chunks = 0, zooms = 0;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.squint && chunk.squint.event === 'zoom') zooms++;
    const d = chunk.choices[0] && chunk.choices[0].delta;
    if (d && d.content) text += d.content;
    if (chunk.usage) usage = chunk.usage;
  }
  ok(chunks > 2, `streamed: ${chunks} chunks`);
  ok(text.trim() === expected, 'streamed: the same answer', `${JSON.stringify(text)} vs ${JSON.stringify(expected)}`);
  checkLedger(usage, 'streamed');
  if (wantZoom !== undefined)
    ok(zooms === (wantZoom === '1' ? 1 : 0), `streamed: ${zooms} zoom event(s)`);

  try {
    await client.chat.completions.create({ model: 'no-such-model', messages });
    ok(false, 'unknown model is refused');
  } catch (e) {
    ok(e instanceof OpenAI.NotFoundError && e.status === 404 && e.error && e.error.type === 'not_found_error',
       'unknown model: NotFoundError 404 in the OpenAI shape', String(e));
  }
  try {
    await client.chat.completions.create({ model, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] });
    ok(false, 'a broken image is refused');
  } catch (e) {
    ok(e instanceof OpenAI.BadRequestError && e.status === 400, 'broken image: BadRequestError 400', String(e));
  }
} catch (e) {
  ok(false, 'no exception', String(e && e.stack || e));
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
