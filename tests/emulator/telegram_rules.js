'use strict';
/*
 * The parts of Telegram's request checking that tests/emulator/launcher.js reproduces, so that a
 * bot mistake the real Bot API would reject with "400 Bad Request" fails in tests too instead of
 * passing silently against a lenient emulator. Error texts follow Telegram's where known.
 */
class ApiError extends Error {
  constructor(code, description) { super(description); this.code = code; }
}
const bad = (what) => new ApiError(400, `Bad Request: ${what}`);

// Telegram parses parse_mode=HTML itself: the stored Message (what the user sees) has no tags, and
// unsupported or unbalanced tags are rejected with 400. Emulate that much; entities are not built.
const HTML_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span', 'tg-spoiler', 'a', 'tg-emoji', 'code', 'pre', 'blockquote']);
const HTML_ENTITIES = { lt: '<', gt: '>', amp: '&', quot: '"' };
function stripHtml(src) {
  const open = [];
  const out = src.replace(/<(\/?)([^\s<>/]*)[^<>]*>|<|&(#x[\da-f]+|#\d+|[a-z]+);/gi, (m, close, tag, ent) => {
    if (ent !== undefined) {
      if (ent[0] !== '#') return HTML_ENTITIES[ent.toLowerCase()] ?? m;
      return String.fromCodePoint(ent[1].toLowerCase() === 'x' ? parseInt(ent.slice(2), 16) : Number(ent.slice(1)));
    }
    if (m === '<') throw bad('can\'t parse entities: unescaped "<"');
    const name = tag.toLowerCase();
    if (!HTML_TAGS.has(name)) throw bad(`can't parse entities: Unsupported start tag "${name}"`);
    if (!close) open.push(name);
    else if (open.pop() !== name) throw bad(`can't parse entities: Unmatched end tag "${name}"`);
    return '';
  });
  if (open.length) throw bad(`can't parse entities: Can't find end tag corresponding to start tag "${open.pop()}"`);
  return out;
}
function renderText(text, parseMode, limit, what) {
  let out = text === undefined || text === null ? '' : String(text);
  if (String(parseMode).toLowerCase() === 'html') out = stripHtml(out);
  if (!out.trim()) throw bad(`${what} is empty`);
  if (out.length > limit) throw bad(`${what} is too long`);
  return out;
}
const caption = (p) => (p.caption
  ? { caption: renderText(p.caption, p.parse_mode, 1024, 'message caption'), source: [p.caption, p.parse_mode], caption_entities: p.caption_entities }
  : { caption: undefined, source: undefined, caption_entities: undefined });

const BUTTON_ACTIONS = ['url', 'callback_data', 'web_app', 'login_url', 'switch_inline_query', 'switch_inline_query_current_chat',
  'switch_inline_query_chosen_chat', 'copy_text', 'callback_game', 'pay'];
function checkMarkup(markup) { // the inline-keyboard mistakes Telegram rejects
  if (!markup) return undefined;
  for (const button of (markup.inline_keyboard ?? []).flat()) {
    if ('callback_data' in button) {
      const size = Buffer.byteLength(String(button.callback_data));
      if (size < 1 || size > 64) throw bad('BUTTON_DATA_INVALID');
    }
    if (!BUTTON_ACTIONS.some((k) => k in button)) throw bad('text buttons are unallowed in the inline keyboard');
  }
  if (markup.keyboard !== undefined) { // a reply keyboard: rows of strings or KeyboardButton objects
    if (!Array.isArray(markup.keyboard) || !markup.keyboard.every(Array.isArray)) throw bad('keyboard must be an array of button rows');
    for (const button of markup.keyboard.flat()) {
      const text = typeof button === 'string' ? button : button?.text;
      if (typeof text !== 'string' || !text.trim()) throw bad('keyboard button text must be non-empty');
    }
  }
  return markup;
}
// Only an inline keyboard can be attached when editing a message (editMessageText & co.).
function checkEditMarkup(markup) {
  if (markup && (markup.keyboard !== undefined || markup.remove_keyboard || markup.force_reply)) {
    throw bad('an edited message can only carry an inline keyboard');
  }
  return checkMarkup(markup);
}

// Every file the emulator knows, by file_id: what users sent (with the bytes the harness keeps, or only a
// declared size) and what bots uploaded. getFile and GET /file/bot<token>/<file_path> serve them.
const files = new Map(); // file_id -> { file (the Telegram object), path, bytes: Buffer | Blob | null }
let fileSeq = 0;
const FOLDERS = { photo: 'photos', document: 'documents', video: 'videos', audio: 'music', voice: 'voice',
  sticker: 'stickers', animation: 'animations', video_note: 'video_notes' };
function registerFile(kind, fields, bytes, extension) {
  const n = ++fileSeq;
  const file = { file_id: `emu-${kind}-${n}`, file_unique_id: `emu-unique-${n}`, ...fields };
  const path = `${FOLDERS[kind] ?? 'documents'}/file_${n}${extension ?? ''}`;
  files.set(file.file_id, { file, path, bytes: bytes ?? null });
  return file;
}
// A sent file as Telegram describes it: by file_id (known ids only), by http(s) URL, or uploaded.
function fileObject(kind, input) {
  if (input === undefined || input === '') throw bad(`there is no ${kind} in the request`);
  if (typeof input === 'string' && files.has(input)) return files.get(input).file; // resent by file_id
  if (typeof input === 'string' && !/^https?:\/\//.test(input)) throw bad('wrong file identifier/HTTP URL specified');
  const upload = typeof input === 'object' ? input : null; // a multipart File
  const fields = { file_size: upload?.size ?? 1024 };
  if (kind === 'photo') Object.assign(fields, { width: 640, height: 480 });
  else Object.assign(fields, { file_name: upload?.name || input.split('/').pop() || 'file', mime_type: upload?.type || 'application/octet-stream' });
  return registerFile(kind, fields, upload, kind === 'photo' ? '.jpg' : '');
}

const CHAT_ACTIONS = new Set(['typing', 'upload_photo', 'record_video', 'upload_video', 'record_voice', 'upload_voice',
  'upload_document', 'choose_sticker', 'find_location', 'record_video_note', 'upload_video_note']);

module.exports = { ApiError, bad, renderText, caption, checkMarkup, checkEditMarkup, fileObject, registerFile, files, CHAT_ACTIONS };
