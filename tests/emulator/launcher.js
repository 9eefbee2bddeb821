#!/usr/bin/env node
'use strict';
/*
 * Test harness around the `telegram-test-api` Telegram Bot API emulator (pinned to 4.2.1).
 *
 *   node tests/emulator/launcher.js [port] [host] [--watch-stdin]
 *
 * Port and host also come from EMULATOR_PORT / EMULATOR_HOST (defaults: 0 = any free port,
 * 127.0.0.1). Once listening it prints exactly one line, `ready <port>`, on stdout; all other
 * output goes to stderr. With --watch-stdin it exits when stdin closes, so a test run that dies
 * without cleaning up does not leave an orphaned emulator behind.
 *
 * Why this design: the package's express app (`server.webServer`) is mounted in this process
 * behind our own node:http server instead of being started on a second port. That saves a proxy
 * hop and a port to allocate, and skips the package's clean-up timer, which would silently drop
 * messages older than 60 s (it only runs after server.start()). The package still owns message
 * storage and ids (addBotMessage, addUser*, storage) and its client routes /getUpdates and
 * /getUpdatesHistory. Every bot-facing /bot<token>/<method> call is answered here, the way the
 * Bot API docs say Telegram answers it, because 4.2.1 gets them wrong for python-telegram-bot or
 * lacks them; ./telegram_rules.js adds the 400s Telegram gives for common bot mistakes.
 * Users can also send what the package cannot: photos (several sizes), documents, videos, audio,
 * stickers (POST /sendMedia, with the bytes the harness keeps or only a declared size) and locations.
 * Bots fetch those files the Bot API way: getFile gives a file_path, GET /file/bot<token>/<file_path>
 * serves the bytes, and /fileRequests tells tests which files a bot asked for or downloaded.
 * The package's own files are never modified.
 */
const http = require('node:http');
const TelegramServer = require('telegram-test-api');

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const PORT = Number(positional[0] ?? process.env.EMULATOR_PORT ?? 0);
const HOST = positional[1] || process.env.EMULATOR_HOST || '127.0.0.1';
// Telegram redelivers failed webhook calls; tests cannot wait minutes, so back off from 200 ms.
const RETRY_MS = Number(process.env.EMULATOR_WEBHOOK_RETRY_MS || 200);
const log = (...parts) => process.stderr.write(`[emulator] ${parts.join(' ')}\n`);

const tts = new TelegramServer({ host: HOST, port: PORT }); // never .start()ed: see above
const {
  ApiError, bad, renderText, caption, checkMarkup, checkEditMarkup, fileObject, registerFile, files, CHAT_ACTIONS,
} = require('./telegram_rules');

const now = () => Math.floor(Date.now() / 1000); // Telegram dates are Unix seconds
const flag = (v) => v === true || v === 'true' || v === 'True' || v === '1';
const sameChat = (a, b) => String(a) === String(b);

const bots = new Map(); // token -> per-bot state the package does not keep
const bot = (token) => bots.get(token) ?? bots.set(token, {
  token, acked: 0, waiters: new Set(), poll: null, commands: new Map(), callbacks: new Map(), webhook: null, webhookError: null, delivering: false,
}).get(token);
const chats = new Map(); // chat id -> Chat object, learnt from what users send
let seq = 0; // bumped on every bot-side change; clients use it to ask "what is new since X"
let pollSeq = 0;

// ---- Telegram-shaped objects -------------------------------------------------------------

function botUser(token) {
  // Telegram bot ids are the number before ':' in the token; 666 is the package's own choice.
  const id = Number(/^(\d+):/.exec(token)?.[1] ?? 666);
  return { id, is_bot: true, first_name: 'Test First name', username: process.env.EMULATOR_BOT_USERNAME || 'TestNameBot' };
}
const chatOf = (id) => chats.get(String(id)) ?? { id: Number(id), type: Number(id) > 0 ? 'private' : 'group' };
// chat_instance is an opaque, per-chat stable number-like string in Telegram.
const chatInstance = (chatId) => String(4000000000000000000n + BigInt(Math.trunc(Number(chatId)) || 0));

const CONTENT = ['text', 'entities', 'caption', 'caption_entities', 'photo', 'document', 'location', 'poll', 'link_preview_options'];
function toTelegram(entry) { // a stored bot message, as Telegram returns it (package: date in ms, no from)
  const m = entry.message;
  const msg = { message_id: entry.messageId, from: botUser(entry.botToken), chat: chatOf(m.chat_id), date: Math.floor(entry.time / 1000) };
  if (entry.editDate) msg.edit_date = entry.editDate;
  for (const k of CONTENT) if (m[k] !== undefined) msg[k] = m[k];
  if (m.reply_markup?.inline_keyboard) msg.reply_markup = m.reply_markup; // only inline ones are echoed
  return msg;
}

function formatUpdate(entry) { // a stored user update, as getUpdates / a webhook delivers it
  if (entry.raw) return { update_id: entry.updateId, ...entry.raw };
  const update = TelegramServer.formatUpdate(entry);
  if (update.message) delete update.message.botToken; // the package keeps its routing key inside
  if (update.callback_query) update.callback_query.chat_instance = entry.callbackQuery.chat_instance;
  return update;
}

// ---- storage helpers (the package's arrays, our extra fields) -------------------------------

const findBotMessage = (token, chatId, messageId) => tts.storage.botMessages.find(
  (e) => e.botToken === token && sameChat(e.message.chat_id, chatId) && e.messageId === Number(messageId));

function addBotMessage(token, p, content) {
  if (p.chat_id === undefined || p.chat_id === '') throw bad('chat_id is empty');
  tts.addBotMessage({ chat_id: p.chat_id, ...content, reply_markup: checkMarkup(p.reply_markup) }, token);
  const entry = tts.storage.botMessages[tts.storage.botMessages.length - 1]; // pushed synchronously
  entry.seq = ++seq;
  return toTelegram(entry);
}

function editMessage(b, p, change) {
  if (p.inline_message_id) return true; // inline messages are not stored; Telegram answers True
  const entry = findBotMessage(b.token, p.chat_id, p.message_id);
  if (!entry) throw bad('message to edit not found');
  const next = { ...entry.message, ...change(entry.message) };
  // `source` is the text as the bot sent it (markup included), so a formatting-only edit still counts.
  const view = (m) => JSON.stringify([m.text, m.caption, m.source, m.entities, m.caption_entities, m.reply_markup?.inline_keyboard]);
  if (view(next) === view(entry.message)) {
    throw bad('message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
  }
  entry.message = next;
  entry.editDate = now();
  entry.seq = ++seq;
  return toTelegram(entry);
}

// Update queue = the package's storage.userMessages; updates with update_id < acked are confirmed.
const pending = (b) => tts.storage.userMessages.filter((u) => u.botToken === b.token && u.updateId >= b.acked);
function confirm(b, offset) {
  b.acked = Math.max(b.acked, offset);
  for (const u of tts.storage.userMessages) if (u.botToken === b.token && u.updateId < b.acked) u.isRead = true;
}
function queueRaw(token, update) { // update types the package cannot store (poll, poll_answer)
  tts.storage.userMessages.push({ time: Date.now(), botToken: token, updateId: tts.updateId++, raw: update, isRead: false });
}
function wake(b) { // a new update or webhook change: release long polls, push to the webhook
  for (const waiter of [...b.waiters]) waiter('update');
  if (b.webhook) deliver(b);
}

function waitForUpdate(b, ms, res) {
  return new Promise((resolve) => {
    const done = (why) => {
      clearTimeout(timer); b.waiters.delete(done); res.off('close', onClose);
      if (b.poll?.done === done) b.poll = null;
      resolve(why);
    };
    const onClose = () => done('closed');
    const timer = setTimeout(done, ms, 'timeout');
    b.waiters.add(done);
    res.on('close', onClose);
    b.poll?.done('conflict'); // Telegram ends the older of two concurrent long polls with 409
    b.poll = { done };
  });
}

const WEBHOOK_CONFLICT = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
async function getUpdates(b, p, res) {
  if (b.webhook) throw new ApiError(409, WEBHOOK_CONFLICT);
  const offset = Number(p.offset ?? 0) || 0;
  if (offset > 0) confirm(b, offset);
  if (offset < 0) { // "-N": keep only the last N updates; all previous ones are forgotten
    const list = pending(b);
    if (list.length > -offset) confirm(b, list[list.length + offset].updateId);
  }
  const limit = Math.min(Math.max(Number(p.limit) || 100, 1), 100);
  const allowed = Array.isArray(p.allowed_updates) && p.allowed_updates.length ? new Set(p.allowed_updates) : null;
  const collect = () => pending(b).map(formatUpdate)
    .filter((u) => !allowed || Object.keys(u).some((k) => allowed.has(k))).slice(0, limit);
  let result = collect();
  const timeout = Math.max(Number(p.timeout) || 0, 0);
  if (!result.length && timeout > 0) {
    const why = await waitForUpdate(b, timeout * 1000, res);
    if (why === 'conflict') throw new ApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running');
    if (b.webhook) throw new ApiError(409, WEBHOOK_CONFLICT);
    result = collect();
  }
  return result;
}

async function deliver(b) { // one update at a time, in order, retried until 2xx (as Telegram does)
  if (b.delivering) return;
  b.delivering = true;
  try {
    for (let attempt = 0; b.webhook;) {
      const [next] = pending(b);
      if (!next) break;
      const hook = b.webhook;
      let error = null;
      try {
        const headers = { 'content-type': 'application/json' };
        if (hook.secret) headers['x-telegram-bot-api-secret-token'] = hook.secret;
        const res = await fetch(hook.url, { method: 'POST', headers, body: JSON.stringify(formatUpdate(next)), signal: AbortSignal.timeout(10000) });
        await res.arrayBuffer();
        if (res.status < 200 || res.status > 299) error = `Wrong response from the webhook: ${res.status} ${res.statusText}`;
      } catch (e) {
        error = `Connection failed: ${e.cause?.code || e.message}`;
      }
      if (!error) { confirm(b, next.updateId + 1); attempt = 0; continue; }
      b.webhookError = { last_error_date: now(), last_error_message: error };
      log(`webhook ${hook.url}: ${error}; retrying update ${next.updateId}`);
      await new Promise((r) => setTimeout(r, Math.min(RETRY_MS * 2 ** attempt++, 5000)));
    }
  } finally {
    b.delivering = false;
  }
}

const scopeKey = (p) => {
  const s = p.scope || { type: 'default' };
  return [s.type, s.chat_id ?? '', s.user_id ?? '', p.language_code || ''].join('|');
};

// ---- bot-facing methods (names are case-insensitive in the Bot API) ---------------------------

const BOT = {
  getme: (b) => ({ ...botUser(b.token), can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false }),
  getupdates: getUpdates,
  sendmessage: (b, p) => addBotMessage(b.token, p, {
    text: renderText(p.text, p.parse_mode, 4096, 'message text'), source: [p.text, p.parse_mode], entities: p.entities,
    link_preview_options: p.link_preview_options,
  }),
  sendphoto: (b, p) => addBotMessage(b.token, p, { photo: [fileObject('photo', p.photo)], ...caption(p) }),
  senddocument: (b, p) => addBotMessage(b.token, p, { document: fileObject('document', p.document), ...caption(p) }),
  sendlocation: (b, p) => {
    const location = { latitude: Number(p.latitude), longitude: Number(p.longitude) };
    if (!(Math.abs(location.latitude) <= 90 && Math.abs(location.longitude) <= 180)) throw bad('wrong location specified');
    return addBotMessage(b.token, p, { location });
  },
  sendpoll: (b, p) => {
    const options = (Array.isArray(p.options) ? p.options : [])
      .map((o, i) => ({ text: typeof o === 'string' ? o : o.text, voter_count: 0, persistent_id: String(i) }));
    if (!p.question) throw bad('poll question must be non-empty');
    if (options.length < 2 || options.length > 12) throw bad('poll must have 2-12 options');
    const poll = {
      id: String(5000000000000000000n + BigInt(++pollSeq)), question: String(p.question), options, total_voter_count: 0,
      is_closed: false, is_anonymous: p.is_anonymous === undefined ? true : flag(p.is_anonymous),
      type: p.type || 'regular', allows_multiple_answers: flag(p.allows_multiple_answers),
      allows_revoting: p.allows_revoting === undefined ? p.type !== 'quiz' : flag(p.allows_revoting), members_only: flag(p.members_only),
    };
    return addBotMessage(b.token, p, { poll });
  },
  stoppoll: (b, p) => {
    const entry = findBotMessage(b.token, p.chat_id, p.message_id);
    if (!entry?.message.poll) throw bad('message with poll to stop not found');
    if (entry.message.poll.is_closed) throw bad('poll has already been closed');
    entry.message.poll.is_closed = true;
    if (p.reply_markup !== undefined) entry.message.reply_markup = checkMarkup(p.reply_markup);
    entry.seq = ++seq;
    return entry.message.poll;
  },
  // Without reply_markup an edit removes the inline keyboard, as in Telegram.
  editmessagetext: (b, p) => editMessage(b, p, (m) => {
    if (m.text === undefined) throw bad('there is no text in the message to edit');
    const text = renderText(p.text, p.parse_mode, 4096, 'message text');
    return { text, source: [p.text, p.parse_mode], entities: p.entities, reply_markup: checkEditMarkup(p.reply_markup) };
  }),
  editmessagecaption: (b, p) => editMessage(b, p, (m) => {
    if (m.text !== undefined) throw bad('there is no caption in the message to edit');
    return { ...caption(p), reply_markup: checkEditMarkup(p.reply_markup) };
  }),
  editmessagereplymarkup: (b, p) => editMessage(b, p, () => ({ reply_markup: checkEditMarkup(p.reply_markup) })),
  deletemessage: (b, p) => {
    const entry = findBotMessage(b.token, p.chat_id, p.message_id);
    if (entry) { tts.removeBotMessage(entry.updateId); seq++; return true; }
    // Bots may delete users' messages in private chats; the update queue is left alone.
    if (tts.storage.userMessages.some((u) => u.message && sameChat(u.message.chat?.id, p.chat_id) && u.messageId === Number(p.message_id))) return true;
    throw bad('message to delete not found');
  },
  answercallbackquery: (b, p) => {
    const query = b.callbacks.get(String(p.callback_query_id));
    if (!query || query.answer) throw bad('query is too old and response timeout expired or query ID is invalid');
    query.answer = { text: p.text, show_alert: flag(p.show_alert), url: p.url, cache_time: Number(p.cache_time) || 0, date: now() };
    return true;
  },
  getfile: (b, p) => {
    const known = files.get(String(p.file_id ?? ''));
    if (!known) throw bad('invalid file_id');
    fileLog.push({ method: 'getFile', token: b.token, file_id: known.file.file_id, file_path: known.path, seq });
    // Bots may download files of up to 20 MB; Telegram refuses getFile for bigger ones.
    if ((known.file.file_size ?? 0) > 20 * 1024 * 1024) throw bad('file is too big');
    const { file_id, file_unique_id, file_size } = known.file;
    return { file_id, file_unique_id, file_size, file_path: known.path };
  },
  sendchataction: (b, p) => { if (CHAT_ACTIONS.has(p.action)) return true; throw bad('wrong parameter action in request'); },
  setmycommands: (b, p) => {
    if (!Array.isArray(p.commands) || p.commands.length > 100) throw bad('commands must be an array of at most 100 BotCommand');
    for (const c of p.commands) {
      if (!/^[a-z0-9_]{1,32}$/.test(c?.command ?? '') || !(c.description?.length >= 1 && c.description.length <= 256)) throw bad('BOT_COMMAND_INVALID');
    }
    b.commands.set(scopeKey(p), p.commands.map((c) => ({ command: c.command, description: c.description })));
    return true;
  },
  getmycommands: (b, p) => b.commands.get(scopeKey(p)) ?? [],
  deletemycommands: (b, p) => { b.commands.delete(scopeKey(p)); return true; },
  setwebhook: (b, p) => {
    if (!p.url) return BOT.deletewebhook(b, p);
    // Deliberately not enforced: Telegram requires an https URL; tests use a plain http receiver.
    if (p.secret_token && !/^[A-Za-z0-9_-]{1,256}$/.test(p.secret_token)) throw bad('secret token contains unallowed characters');
    if (flag(p.drop_pending_updates)) confirm(b, tts.updateId);
    b.webhook = { url: String(p.url), secret: p.secret_token || null, max_connections: Number(p.max_connections) || 40 };
    b.webhookError = null;
    wake(b); // pending updates go to the new webhook; held getUpdates calls end with 409
    return true;
  },
  deletewebhook: (b, p) => {
    if (flag(p.drop_pending_updates)) confirm(b, tts.updateId);
    b.webhook = null;
    b.webhookError = null;
    return true;
  },
  getwebhookinfo: (b) => ({
    url: b.webhook?.url ?? '', has_custom_certificate: false, pending_update_count: pending(b).length,
    ...(b.webhook && { max_connections: b.webhook.max_connections }), ...b.webhookError,
  }),
};

// ---- client-facing routes (the user's side), added to or replacing the package's ------------

const tokenOf = (p) => p.botToken ?? p.token;
async function userMessage(p, how) { // the package's /sendMessage and /sendCommand, filled in
  const { botToken, token, ...message } = p;
  if (!tokenOf(p) || message.from?.id === undefined) throw bad('token and from.id are required');
  message.from = { is_bot: false, ...message.from };
  message.chat ??= { id: message.from.id, type: 'private', first_name: message.from.first_name, username: message.from.username };
  message.date = Number(message.date) || now();
  if (how === 'addUserCommand' && !message.entities) {
    message.entities = [{ type: 'bot_command', offset: 0, length: String(message.text).split(/\s/)[0].length }];
  }
  chats.set(String(message.chat.id), message.chat);
  const stored = { ...message, botToken: tokenOf(p) };
  await tts[how](stored);
  const entry = tts.storage.userMessages.find((u) => u.message === stored);
  wake(bot(tokenOf(p)));
  return { message_id: entry.messageId, ...message };
}

async function userCallback(p) { // tap an inline button of a stored bot message
  const token = tokenOf(p);
  const chatId = p.chat_id ?? p.message?.chat?.id ?? p.from?.id;
  const messageId = p.message_id ?? p.message?.message_id;
  const entry = findBotMessage(token, chatId, messageId);
  if (!entry) throw bad(`no bot message ${messageId} in chat ${chatId}`);
  const buttons = (entry.message.reply_markup?.inline_keyboard ?? []).flat();
  if (!buttons.some((x) => x.callback_data === p.data)) throw bad(`message ${messageId} has no button with callback_data ${JSON.stringify(p.data)}`);
  const message = toTelegram(entry);
  const query = { botToken: token, from: { is_bot: false, ...p.from }, message, data: p.data, chat_instance: chatInstance(message.chat.id) };
  await tts.addUserCallback(query);
  const id = String(tts.storage.userMessages.find((u) => u.callbackQuery === query).callbackId);
  bot(token).callbacks.set(id, { id, data: p.data, chat_id: message.chat.id, message_id: message.message_id, date: now(), answer: null });
  wake(bot(token));
  const { botToken, ...result } = query;
  return { id, ...result };
}

async function votePoll(p) { // a user answers (or, with no option_ids, retracts) a bot's poll
  const token = tokenOf(p);
  const entry = findBotMessage(token, p.chat_id ?? p.from?.id, p.message_id);
  const poll = entry?.message.poll;
  if (!poll) throw bad(`no poll in message ${p.message_id}`);
  if (poll.is_closed) throw bad('poll is closed');
  const ids = [].concat(p.option_ids ?? []).map(Number);
  if (ids.length > 1 && !poll.allows_multiple_answers) throw bad('poll allows only one answer');
  if (ids.some((i) => !(i >= 0 && i < poll.options.length))) throw bad('option_ids out of range');
  const from = { is_bot: false, ...p.from };
  entry.votes ??= new Map();
  if (entry.votes.has(from.id) && !poll.allows_revoting) throw bad('poll does not allow changing the vote');
  for (const i of entry.votes.get(from.id) ?? []) poll.options[i].voter_count--;
  for (const i of ids) poll.options[i].voter_count++;
  if (ids.length) entry.votes.set(from.id, ids); else entry.votes.delete(from.id);
  poll.total_voter_count = entry.votes.size;
  entry.seq = ++seq;
  queueRaw(token, { poll: structuredClone(poll) }); // bots get state updates for their own polls
  if (!poll.is_anonymous) queueRaw(token, { poll_answer: { poll_id: poll.id, user: from, option_ids: ids, option_persistent_ids: ids.map((i) => poll.options[i].persistent_id) } });
  wake(bot(token));
  return poll;
}

// ---- files users send ------------------------------------------------------------------------------

const fileLog = []; // every getFile and download, oldest first: tests check what a bot fetched
const MEDIA_EXTENSIONS = { photo: '.jpg', video: '.mp4', audio: '.mp3', voice: '.oga', sticker: '.webp', animation: '.mp4', video_note: '.mp4' };
// The sizes Telegram makes of a photo (thumbnail to original); a smaller size keeps a prefix of the bytes, so a
// bot that downloads one instead of the largest is caught by comparing bytes.
const PHOTO_WIDTHS = [90, 320, 800];

function mediaOf(p) { // the Message fields of one sent file, registered so getFile can find it
  const kind = String(p.kind ?? '');
  if (!(kind in MEDIA_EXTENSIONS) && kind !== 'document') throw bad(`unknown media kind ${JSON.stringify(kind)}`);
  const bytes = p.data !== undefined && p.data !== null ? Buffer.from(String(p.data), 'base64') : null;
  const size = bytes ? bytes.length : Number(p.size);
  if (!(size >= 0)) throw bad('either data (base64 bytes) or size is required');
  const ext = MEDIA_EXTENSIONS[kind] ?? (/\.[A-Za-z0-9]{1,5}$/.exec(p.file_name ?? '')?.[0] || '');
  if (kind === 'photo') {
    const width = Number(p.width) || 1280;
    const height = Number(p.height) || 960;
    const sizes = PHOTO_WIDTHS.filter((w) => w < width).map((w) => {
      const h = Math.max(1, Math.round((height * w) / width));
      const part = Math.max(1, Math.round((size * w * h) / (width * height)));
      return registerFile('photo', { file_size: part, width: w, height: h }, bytes && bytes.subarray(0, part), ext);
    });
    sizes.push(registerFile('photo', { file_size: size, width, height }, bytes, ext));
    return { photo: sizes };
  }
  const fields = { file_size: size };
  const number = (k, fallback) => { fields[k] = Number(p[k] ?? fallback); };
  if (['video', 'animation', 'sticker'].includes(kind)) { number('width', 640); number('height', 480); }
  if (['video', 'animation', 'audio', 'voice', 'video_note'].includes(kind)) number('duration', 5);
  if (kind === 'video_note') number('length', 240);
  if (kind === 'sticker') Object.assign(fields, { type: 'regular', is_animated: false, is_video: false });
  const defaults = { video: 'video/mp4', animation: 'video/mp4', audio: 'audio/mpeg', voice: 'audio/ogg' };
  if (kind !== 'sticker' && kind !== 'video_note' && (p.mime_type || defaults[kind])) fields.mime_type = p.mime_type || defaults[kind];
  if (['document', 'video', 'animation', 'audio'].includes(kind) && p.file_name) fields.file_name = String(p.file_name);
  const file = registerFile(kind, fields, bytes, ext);
  // "For backward compatibility, when [animation] is set, the document field will also be set."
  return kind === 'animation' ? { animation: file, document: file } : { [kind]: file };
}

async function userMedia(p) { // a user sends a photo, document, video...: Message fields as Telegram builds them
  const { kind, data, size, width, height, duration, length, mime_type, file_name, ...message } = p;
  return userMessage({ ...message, ...mediaOf(p) }, 'addUserMessage');
}

async function fileBytes(known) {
  if (!known?.bytes) return null;
  return Buffer.isBuffer(known.bytes) ? known.bytes : Buffer.from(await known.bytes.arrayBuffer());
}

async function download(token, path, res) { // GET /file/bot<token>/<file_path>, as api.telegram.org serves it
  const known = [...files.values()].find((f) => f.path === path);
  fileLog.push({ method: 'download', token, file_id: known?.file.file_id ?? null, file_path: path, seq });
  const bytes = await fileBytes(known);
  if (!bytes) return reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length }).end(bytes);
}

const CLIENT = {
  '/sendMessage': (p) => userMessage(p, 'addUserMessage'),
  '/sendCommand': (p) => userMessage(p, 'addUserCommand'),
  '/sendMedia': userMedia,
  '/sendCallback': userCallback,
  '/sendPollAnswer': votePoll,
  // Everything the bot sent to one chat, Telegram-shaped, oldest first; `seq` orders changes.
  '/botMessages': (p) => tts.storage.botMessages
    .filter((e) => e.botToken === tokenOf(p) && sameChat(e.message.chat_id, p.chat_id ?? p.chatId))
    .map((e) => ({ ...toTelegram(e), seq: e.seq, reply_keyboard: e.message.reply_markup?.keyboard, sent_markup: e.message.reply_markup })),
  '/callbackQueries': (p) => [...bot(tokenOf(p)).callbacks.values()],
  // Which files a bot asked for (getFile) or downloaded, oldest first.
  '/fileRequests': (p) => fileLog.filter((r) => r.token === tokenOf(p)),
  // The bytes of a file (one a bot uploaded, or one a user sent), base64; null when only its size is known.
  '/fileBytes': async (p) => {
    const known = files.get(String(p.file_id ?? ''));
    if (!known) throw bad('invalid file_id');
    return (await fileBytes(known))?.toString('base64') ?? null;
  },
  // How many messages the bot has sent in all, for benchmarks that wait for a known number of replies.
  '/botMessageCount': (p) => tts.storage.botMessages.reduce((n, e) => n + (e.botToken === tokenOf(p)), 0),
};

// ---- HTTP plumbing ------------------------------------------------------------------------------

const JSON_PARAMS = new Set(['reply_markup', 'entities', 'caption_entities', 'commands', 'scope', 'allowed_updates', 'options',
  'link_preview_options', 'reply_parameters', 'from', 'chat', 'message', 'option_ids']);
async function readParams(req) {
  const params = Object.fromEntries(new URL(req.url, 'http://emulator').searchParams);
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  const type = req.headers['content-type'] || '';
  if (body.length && type.includes('json')) Object.assign(params, JSON.parse(body.toString('utf8')));
  else if (body.length) { // Node's fetch Response parses urlencoded and multipart (with files) bodies
    const form = await new Response(body, { headers: { 'content-type': type } }).formData();
    for (const [k, v] of form) params[k] = v;
  }
  for (const k of Object.keys(params)) { // form encoders (python-telegram-bot) send objects as JSON text
    if (JSON_PARAMS.has(k) && typeof params[k] === 'string') {
      try { params[k] = JSON.parse(params[k]); } catch { /* keep the string; the method will complain */ }
    }
  }
  return params;
}

function reply(res, status, body) {
  if (!res.writableEnded && !res.destroyed) res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const BOT_ROUTE = /^\/bot([^/]+)\/([A-Za-z]+)\/?$/;
const FILE_ROUTE = /^\/file\/bot([^/]+)\/(.+)$/;
const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://emulator').pathname;
  const fileRoute = req.method === 'GET' && FILE_ROUTE.exec(path);
  if (fileRoute) {
    return download(decodeURIComponent(fileRoute[1]), decodeURIComponent(fileRoute[2]), res)
      .catch((e) => { log(e.stack); reply(res, 500, { ok: false, error_code: 500, description: e.message }); });
  }
  const route = BOT_ROUTE.exec(path);
  if (!route && !CLIENT[path]) return tts.webServer(req, res); // package routes: /getUpdates, /getUpdatesHistory
  try {
    if (req.method !== 'GET' && req.method !== 'POST') throw bad(`HTTP method ${req.method} is not supported`);
    let p;
    try { p = await readParams(req); } catch (e) { throw bad(`can't parse request: ${e.message}`); }
    if (route) {
      const method = BOT[route[2].toLowerCase()];
      if (!method) { log(`unsupported Bot API method ${route[2]} -> 404`); throw new ApiError(404, 'Not Found'); }
      reply(res, 200, { ok: true, result: await method(bot(decodeURIComponent(route[1])), p, res) });
    } else {
      const mark = seq; // nothing the bot does in reaction can precede this
      reply(res, 200, { ok: true, result: await CLIENT[path](p), seq: mark });
    }
  } catch (e) {
    if (!(e instanceof ApiError)) log(e.stack);
    const code = e instanceof ApiError ? e.code : 500;
    reply(res, code, { ok: false, error_code: code, description: e instanceof ApiError ? e.message : `Internal Server Error: ${e.message}` });
  }
});

const shutdown = () => { server.close(); server.closeAllConnections(); process.exit(0); };
process.on('SIGTERM', shutdown).on('SIGINT', shutdown);
if (process.argv.includes('--watch-stdin')) process.stdin.on('end', shutdown).on('error', shutdown).resume();
server.listen(PORT, HOST, () => process.stdout.write(`ready ${server.address().port}\n`));
